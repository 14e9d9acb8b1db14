//! Validate and apply for claims. Adjudication is deterministic: it reads only state (its
//! own, and other modules' through the wired traits) and the block time.

use crate::events::{Adjudicate, ClaimEvent, MODULE, Submit};
use crate::evidence::{Evidence, PaymentConsent};
use crate::queries::{ClaimRecord, ClaimStatus, LineResult, Outcome, billed_key, claim_key};
use ledger::state::StateViewExt;
use ledger::{
    BlockCtx, Effects, Envelope, Module, Notification, OrgRole, Rejection, StateTx, StateView,
};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Stable codes: rejections of events, and reasons on denied lines.
pub mod codes {
    /// Only pharmacies and hospitals submit claims.
    pub const NOT_A_PROVIDER: &str = "NOT_A_PROVIDER";
    /// The payer named is not a payer of the consortium.
    pub const UNKNOWN_PAYER: &str = "UNKNOWN_PAYER";
    /// The provider already used this claim number.
    pub const DUPLICATE_CLAIM: &str = "DUPLICATE_CLAIM";
    /// No such claim.
    pub const UNKNOWN_CLAIM: &str = "UNKNOWN_CLAIM";
    /// Only the payer named on the claim adjudicates it.
    pub const NOT_THE_PAYER: &str = "NOT_THE_PAYER";
    /// The claim was already adjudicated.
    pub const ALREADY_ADJUDICATED: &str = "ALREADY_ADJUDICATED";
    /// Line approved.
    pub const APPROVED: &str = "APPROVED";
    /// Line: the ledger holds no dispense or implant of that unit.
    pub const PHANTOM_DISPENSE: &str = "PHANTOM_DISPENSE";
    /// Line: the unit was dispensed or implanted by someone else.
    pub const NOT_DISPENSED_BY_CLAIMANT: &str = "NOT_DISPENSED_BY_CLAIMANT";
    /// Line: a drug billed as a device or the reverse.
    pub const PRODUCT_MISMATCH: &str = "PRODUCT_MISMATCH";
    /// Line: the event named is not the one that dispensed the unit.
    pub const EVENT_MISMATCH: &str = "EVENT_MISMATCH";
    /// Line: the date of service is more than 36 hours from the dispense.
    pub const DATE_MISMATCH: &str = "DATE_MISMATCH";
    /// Line: the unit was already paid on another claim, or twice on this one.
    pub const DUPLICATE_BILLING: &str = "DUPLICATE_BILLING";
    /// Line: the unit is under recall.
    pub const RECALLED_UNIT: &str = "RECALLED_UNIT";
    /// Line: the unit was expired when dispensed.
    pub const EXPIRED_UNIT: &str = "EXPIRED_UNIT";
    /// Every line: the patient has not consented to payment use by this payer.
    pub const NO_PAYMENT_CONSENT: &str = "NO_PAYMENT_CONSENT";
}

/// Greatest distance between a line's date of service and the dispense it names.
pub const DATE_TOLERANCE_MS: i64 = 36 * 3_600_000;

/// The claims module, wired with the evidence it relies on.
#[derive(Clone)]
pub struct Claims {
    evidence: Arc<dyn Evidence>,
    consent: Arc<dyn PaymentConsent>,
}

impl Claims {
    /// Claims checked against `evidence` and `consent`.
    pub fn new(evidence: Arc<dyn Evidence>, consent: Arc<dyn PaymentConsent>) -> Self {
        Self { evidence, consent }
    }

    fn check(
        &self,
        state: &dyn StateView,
        event: &Envelope,
        parsed: &ClaimEvent,
    ) -> Result<(), Rejection> {
        match parsed {
            ClaimEvent::Submit(s) => {
                let role = state.consortium().organization(event.org()).map(|o| o.role);
                if !matches!(role, Some(OrgRole::Pharmacy | OrgRole::Hospital)) {
                    return Err(Rejection::new(
                        codes::NOT_A_PROVIDER,
                        "only pharmacies and hospitals submit claims",
                    ));
                }
                if state.consortium().organization(&s.payer).map(|o| o.role) != Some(OrgRole::Payer)
                {
                    return Err(Rejection::new(
                        codes::UNKNOWN_PAYER,
                        format!("{} is not a payer of the consortium", s.payer),
                    ));
                }
                if state.get(&claim_key(event.org(), &s.claim)).is_some() {
                    return Err(Rejection::new(
                        codes::DUPLICATE_CLAIM,
                        format!("claim {} was already submitted", s.claim),
                    ));
                }
            }
            ClaimEvent::Adjudicate(a) => {
                let c: ClaimRecord = state
                    .get_json(&claim_key(&a.provider, &a.claim))
                    .ok_or_else(|| {
                        Rejection::new(
                            codes::UNKNOWN_CLAIM,
                            format!("no claim {} from {}", a.claim, a.provider),
                        )
                    })?;
                if &c.payer != event.org() {
                    return Err(Rejection::new(
                        codes::NOT_THE_PAYER,
                        "only the payer named on the claim adjudicates it",
                    ));
                }
                if c.status == ClaimStatus::Adjudicated {
                    return Err(Rejection::new(
                        codes::ALREADY_ADJUDICATED,
                        "the claim was already adjudicated",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Decides every line of `c` at time `at`, as adjudication would, without recording
    /// anything: what `adjudicate` applies, and a preview for a payer's screen.
    pub fn decide(&self, state: &dyn StateView, c: &ClaimRecord, at: i64) -> Vec<LineResult> {
        let consented = self.consent.allows_payment(state, &c.patient, &c.payer, at);
        let mut in_claim = BTreeSet::new();
        c.lines
            .iter()
            .map(|l| {
                let reason = if !consented {
                    codes::NO_PAYMENT_CONSENT
                } else {
                    match self.evidence.dispense(state, &l.gtin, &l.serial) {
                        None => codes::PHANTOM_DISPENSE,
                        Some(f) if f.org != c.provider => codes::NOT_DISPENSED_BY_CLAIMANT,
                        Some(f) if f.kind != l.kind => codes::PRODUCT_MISMATCH,
                        Some(f) if f.event != l.event => codes::EVENT_MISMATCH,
                        Some(f) if (l.date - f.time).abs() > DATE_TOLERANCE_MS => {
                            codes::DATE_MISMATCH
                        }
                        Some(_) if state.get(&billed_key(&l.gtin, &l.serial)).is_some() => {
                            codes::DUPLICATE_BILLING
                        }
                        Some(_) if !in_claim.insert((l.gtin.clone(), l.serial.clone())) => {
                            codes::DUPLICATE_BILLING
                        }
                        Some(f) if f.recalled => codes::RECALLED_UNIT,
                        Some(f) if f.expired => codes::EXPIRED_UNIT,
                        Some(_) => codes::APPROVED,
                    }
                };
                let approved = reason == codes::APPROVED;
                LineResult {
                    sequence: l.sequence,
                    approved,
                    reason: reason.to_string(),
                    approved_cents: if approved { l.amount_cents } else { 0 },
                }
            })
            .collect()
    }
}

impl Module for Claims {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn validate(&self, state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        let parsed = ClaimEvent::parse(event.kind(), event.payload())?;
        self.check(state, event, &parsed)
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let parsed = ClaimEvent::parse(event.kind(), event.payload())?;
        self.check(state, event, &parsed)?;
        match parsed {
            ClaimEvent::Submit(s) => Ok(submit(state, event, ctx, s)),
            ClaimEvent::Adjudicate(a) => Ok(self.adjudicate(state, ctx, a)),
        }
    }
}

fn submit(state: &mut StateTx<'_>, event: &Envelope, ctx: &BlockCtx, s: Submit) -> Effects {
    let record = ClaimRecord {
        provider: event.org().clone(),
        claim: s.claim.clone(),
        patient: s.patient,
        payer: s.payer.clone(),
        lines: s.lines,
        submitted: ctx.event_id,
        status: ClaimStatus::Submitted,
        outcome: None,
        results: Vec::new(),
        adjudicated: None,
    };
    state.put_json(&claim_key(event.org(), &s.claim), &record);
    let index = record
        .lines
        .iter()
        .map(|l| format!("claims-unit:{}/{}", l.gtin, l.serial).into_bytes())
        .collect();
    Effects {
        index,
        notifications: vec![Notification {
            topic: "claim_submitted".into(),
            orgs: vec![s.payer],
            body: json!({"provider": event.org(), "claim": s.claim}),
        }],
    }
}

impl Claims {
    fn adjudicate(&self, state: &mut StateTx<'_>, ctx: &BlockCtx, a: Adjudicate) -> Effects {
        let mut c: ClaimRecord = state
            .get_json(&claim_key(&a.provider, &a.claim))
            .expect("checked above");
        let results = self.decide(state, &c, ctx.time);
        for (l, r) in c.lines.iter().zip(&results) {
            if r.approved {
                state.put(
                    &billed_key(&l.gtin, &l.serial),
                    claim_key(&c.provider, &c.claim),
                );
            }
        }
        let approved = results.iter().filter(|r| r.approved).count();
        let outcome = match approved {
            0 => Outcome::Denied,
            n if n == results.len() => Outcome::Approved,
            _ => Outcome::Partial,
        };
        c.status = ClaimStatus::Adjudicated;
        c.outcome = Some(outcome);
        c.results = results;
        c.adjudicated = Some(ctx.event_id);
        state.put_json(&claim_key(&a.provider, &a.claim), &c);
        Effects {
            index: vec![],
            notifications: vec![Notification {
                topic: "claim_adjudicated".into(),
                orgs: vec![c.provider.clone()],
                body: json!({"claim": c.claim, "outcome": outcome}),
            }],
        }
    }
}
