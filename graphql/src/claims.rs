//! The claims module's GraphQL object: a pharmacy or hospital submits claims (from lines or
//! a FHIR R4 Claim) and reads its own; the payer named on a claim reads and adjudicates
//! it; a regulator reads every claim. Each claim answers with its adjudication line by
//! line and as a FHIR ClaimResponse. Writes are signed with the caller's custodial key by
//! the peer ([`ClaimsPeer`]) and answered once committed.

use crate::Organization;
use crate::caller::{Caller, SubmitFuture, caller};
use crate::errors::{BAD_INPUT, FORBIDDEN, NOT_FOUND, error, internal};
use crate::trace::types::organization;
use ::claims::fhir::{self, ImportContext};
use ::claims::{ClaimRecord, ItemKind, Line, MAX_LIST, Submit};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use ledger::{ActorId, Ledger, OrgId, OrgRole, PatientRef, Receipt};
use serde_json::{Value, json};
use std::sync::Arc;

/// What the claims object needs from the peer serving it (the peer puts an
/// `Arc<dyn ClaimsPeer>` into the schema's or the request's data).
pub trait ClaimsPeer: Send + Sync {
    /// Signs the claims event `kind` with `payload` by `actor`'s custodial key, admits and
    /// orders it, and resolves once its block is committed (or with the refusal).
    fn submit_claims(&self, actor: &ActorId, kind: &'static str, payload: Value) -> SubmitFuture;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ledger<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Ledger>> {
    ctx.data::<Arc<Ledger>>()
}

/// Where a claim stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStatus {
    /// Waiting for the payer.
    Submitted,
    /// Decided.
    Adjudicated,
}

/// The payer's overall decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Every line approved (FHIR outcome `complete`).
    Approved,
    /// Some lines approved (`partial`).
    Partial,
    /// No line approved (`error`).
    Denied,
}

/// What a line bills for.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimItemKind {
    /// A dispensed drug pack, proven by its dispense event.
    Drug,
    /// An implanted device, proven by its implant event.
    Device,
}

/// The decision on one line.
#[derive(SimpleObject, Debug, Clone)]
pub struct LineDecision {
    /// Approved?
    pub approved: bool,
    /// `APPROVED`, or the stable reason it was not (`PHANTOM_DISPENSE`,
    /// `DUPLICATE_BILLING`, `RECALLED_UNIT`, `EXPIRED_UNIT`, `NO_PAYMENT_CONSENT`...).
    pub reason: String,
    /// Amount approved, in cents.
    pub approved_cents: u64,
}

/// One line of a claim.
#[derive(SimpleObject, Debug, Clone)]
pub struct ClaimLine {
    /// Line number.
    pub sequence: u32,
    /// Drug or device.
    pub kind: ClaimItemKind,
    /// GTIN-14 of the unit.
    pub gtin: String,
    /// Its serial.
    pub serial: String,
    /// The dispense or implant event named as evidence.
    pub event: ID,
    /// Date of service, Unix ms.
    pub date: i64,
    /// Amount billed, in cents.
    pub amount_cents: u64,
    /// The payer's decision, once adjudicated.
    pub decision: Option<LineDecision>,
}

/// A claim with its adjudication.
pub struct Claim(ClaimRecord);

#[Object]
impl Claim {
    /// The provider's claim number.
    async fn id(&self) -> &str {
        &self.0.claim
    }
    /// The pharmacy or hospital that submitted it.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(organization(&ledger(ctx)?.consortium(), &self.0.provider))
    }
    /// The payer it is addressed to.
    async fn payer(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(organization(&ledger(ctx)?.consortium(), &self.0.payer))
    }
    /// The patient, as the pseudonymous reference only their hospital can map.
    async fn patient(&self) -> &str {
        self.0.patient.as_str()
    }
    /// Submitted or adjudicated.
    async fn status(&self) -> ClaimStatus {
        match self.0.status {
            ::claims::ClaimStatus::Submitted => ClaimStatus::Submitted,
            ::claims::ClaimStatus::Adjudicated => ClaimStatus::Adjudicated,
        }
    }
    /// The overall decision, once adjudicated.
    async fn outcome(&self) -> Option<ClaimOutcome> {
        self.0.outcome.map(|o| match o {
            ::claims::Outcome::Approved => ClaimOutcome::Approved,
            ::claims::Outcome::Partial => ClaimOutcome::Partial,
            ::claims::Outcome::Denied => ClaimOutcome::Denied,
        })
    }
    /// The lines, each with its decision once adjudicated.
    async fn lines(&self) -> Vec<ClaimLine> {
        self.0
            .lines
            .iter()
            .map(|l| ClaimLine {
                sequence: l.sequence,
                kind: match l.kind {
                    ItemKind::Drug => ClaimItemKind::Drug,
                    ItemKind::Device => ClaimItemKind::Device,
                },
                gtin: l.gtin.clone(),
                serial: l.serial.clone(),
                event: ID(l.event.to_hex()),
                date: l.date,
                amount_cents: l.amount_cents,
                decision: self
                    .0
                    .results
                    .iter()
                    .find(|r| r.sequence == l.sequence)
                    .map(|r| LineDecision {
                        approved: r.approved,
                        reason: r.reason.clone(),
                        approved_cents: r.approved_cents,
                    }),
            })
            .collect()
    }
    /// Total billed, in cents.
    async fn billed_cents(&self) -> u64 {
        self.0.lines.iter().map(|l| l.amount_cents).sum()
    }
    /// Total approved, in cents (0 until adjudicated).
    async fn approved_cents(&self) -> u64 {
        self.0.results.iter().map(|r| r.approved_cents).sum()
    }
    /// The submit event (also the id of the FHIR Claim and ClaimResponse).
    async fn submitted_event(&self) -> ID {
        ID(self.0.submitted.to_hex())
    }
    /// The adjudicate event, once adjudicated.
    async fn adjudicated_event(&self) -> Option<ID> {
        self.0.adjudicated.map(|e| ID(e.to_hex()))
    }
    /// The claim as a FHIR R4 Claim.
    async fn fhir_claim(&self, ctx: &Context<'_>) -> Result<Json<Value>> {
        let created = ::claims::signed_at(ledger(ctx)?, &self.0.submitted)
            .map_err(internal)?
            .unwrap_or_default();
        Ok(Json(fhir::export_claim(&self.0, created)))
    }
    /// The payer's answer as a FHIR R4 ClaimResponse (`queued` until adjudicated).
    async fn claim_response(&self, ctx: &Context<'_>) -> Result<Json<Value>> {
        let created = match &self.0.adjudicated {
            Some(e) => ::claims::signed_at(ledger(ctx)?, e)
                .map_err(internal)?
                .unwrap_or_default(),
            None => now_ms(),
        };
        Ok(Json(fhir::export_claim_response(&self.0, created)))
    }
}

fn may_read(caller: &Caller, c: &ClaimRecord) -> bool {
    caller.org == c.provider || caller.org == c.payer || caller.is_regulator()
}

fn org_arg(name: &str, value: &str) -> Result<OrgId> {
    value.parse().map_err(|_| {
        error(
            BAD_INPUT,
            format!("{name} must be an organisation id (a-z 0-9 - . _)"),
        )
    })
}

fn read_claim(ctx: &Context<'_>, provider: &OrgId, id: &str) -> Result<ClaimRecord> {
    ::claims::claim(ledger(ctx)?, provider, id)
        .map_err(internal)?
        .ok_or_else(|| error(NOT_FOUND, format!("no claim {id} from {provider}")))
}

/// Claims queries.
#[derive(Default)]
pub struct ClaimsQuery;

#[Object]
impl ClaimsQuery {
    /// A claim by its provider and claim number, with its adjudication: for the provider,
    /// the payer named on it and regulators.
    async fn claim(&self, ctx: &Context<'_>, provider: String, id: String) -> Result<Claim> {
        let caller = caller(ctx)?;
        let record = read_claim(ctx, &org_arg("provider", &provider)?, &id)?;
        if !may_read(caller, &record) {
            return Err(error(
                FORBIDDEN,
                "only the provider, the payer named on a claim and regulators read it",
            ));
        }
        Ok(Claim(record))
    }

    /// Claims of a provider or addressed to a payer that the caller may read, by claim
    /// number, `first` at most (up to 500). Without either argument: the caller's own
    /// organisation's claims (as provider, or as payer for a payer).
    async fn claims(
        &self,
        ctx: &Context<'_>,
        provider: Option<String>,
        payer: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Claim>> {
        let caller = caller(ctx)?;
        let ledger = ledger(ctx)?;
        let first = usize::try_from(first)
            .ok()
            .filter(|f| (1..=MAX_LIST).contains(f))
            .ok_or_else(|| error(BAD_INPUT, format!("first must be between 1 and {MAX_LIST}")))?;
        let provider = provider.map(|p| org_arg("provider", &p)).transpose()?;
        let payer = payer.map(|p| org_arg("payer", &p)).transpose()?;
        let (provider, payer) = match (provider, payer) {
            (None, None) => match caller.org_role {
                OrgRole::Payer => (None, Some(caller.org.clone())),
                OrgRole::Pharmacy | OrgRole::Hospital => (Some(caller.org.clone()), None),
                _ => {
                    return Err(error(
                        BAD_INPUT,
                        "name the provider or the payer whose claims to list",
                    ));
                }
            },
            named => named,
        };
        let records = match (&provider, &payer) {
            (Some(p), _) => ::claims::claims_of_provider(ledger, p, MAX_LIST),
            (None, Some(p)) => ::claims::claims_for_payer(ledger, p, MAX_LIST),
            (None, None) => unreachable!("one is named above"),
        }
        .map_err(internal)?;
        Ok(records
            .into_iter()
            .filter(|c| payer.as_ref().is_none_or(|p| &c.payer == p))
            .filter(|c| may_read(caller, c))
            .take(first)
            .map(Claim)
            .collect())
    }
}

/// A line of a claim submitted without FHIR.
#[derive(InputObject, Debug, Clone)]
pub struct ClaimLineInput {
    /// Line number, unique within the claim.
    pub sequence: u32,
    /// Drug (a dispense event) or device (an implant event).
    pub kind: ClaimItemKind,
    /// GTIN-14 of the unit.
    pub gtin: String,
    /// Its serial.
    pub serial: String,
    /// The dispense or implant event that proves it.
    pub event: ID,
    /// Date of service: `YYYY-MM-DD` or a FHIR dateTime with zone.
    pub date: String,
    /// Amount billed, in cents.
    pub amount_cents: u64,
}

/// A claim submitted without FHIR.
#[derive(InputObject, Debug, Clone)]
pub struct ClaimInput {
    /// The provider's claim number (1-64 of A-Z a-z 0-9 . _ -).
    pub id: String,
    /// The patient's pseudonymous reference (64 hex digits, the hospital's keyed hash).
    pub patient: String,
    /// The payer organisation.
    pub payer: String,
    /// The lines.
    pub lines: Vec<ClaimLineInput>,
}

fn submit_of(input: ClaimInput) -> Result<Submit> {
    let patient = PatientRef::new(&input.patient).map_err(|_| {
        error(
            BAD_INPUT,
            "patient must be the pseudonymous reference (64 lowercase hex digits), never a name or record number",
        )
    })?;
    let payer = org_arg("payer", &input.payer)?;
    let lines = input
        .lines
        .into_iter()
        .map(|l| {
            let bad = |what: &str| error(BAD_INPUT, format!("line {}: {what}", l.sequence));
            Ok(Line {
                sequence: l.sequence,
                kind: match l.kind {
                    ClaimItemKind::Drug => ItemKind::Drug,
                    ClaimItemKind::Device => ItemKind::Device,
                },
                event: l
                    .event
                    .parse()
                    .map_err(|_| bad("event must be an event id (64 hex digits)"))?,
                date: fhir::fhir_time(&l.date)
                    .ok_or_else(|| bad("date must be YYYY-MM-DD or a dateTime with zone"))?,
                gtin: l.gtin,
                serial: l.serial,
                amount_cents: l.amount_cents,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Submit {
        claim: input.id,
        patient,
        payer,
        lines,
    })
}

/// Signs and commits one claims event as the caller.
async fn commit(
    ctx: &Context<'_>,
    caller: &Caller,
    kind: &'static str,
    payload: Value,
) -> Result<Receipt> {
    let peer = ctx.data_opt::<Arc<dyn ClaimsPeer>>().ok_or_else(|| {
        error(
            "UNAVAILABLE",
            "this server does not sign claims events; POST signed events to /events",
        )
    })?;
    let receipt = peer
        .submit_claims(&caller.actor, kind, payload)
        .await
        .map_err(|r| error(&r.code, r.message))?;
    if let Some((id, Some(code))) = receipt.results.iter().find(|(_, c)| c.is_some()) {
        return Err(error(
            code,
            format!(
                "event {id} was ordered into block {} but refused when applied ({code}); nothing changed",
                receipt.block_height
            ),
        ));
    }
    Ok(receipt)
}

fn needs(caller: &Caller, kinds: &[OrgRole], roles: &[&str], what: &str) -> Result<()> {
    let ok = kinds.contains(&caller.org_role)
        && caller.roles.iter().any(|r| roles.contains(&r.as_str()));
    if ok {
        Ok(())
    } else {
        Err(error(
            FORBIDDEN,
            format!(
                "{} may not {what}: it needs one of the roles {} in a {}",
                caller.actor,
                roles.join(", "),
                kinds
                    .iter()
                    .map(OrgRole::as_str)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ))
    }
}

/// Claims mutations.
#[derive(Default)]
pub struct ClaimsMutation;

#[Object]
impl ClaimsMutation {
    /// Submits a claim for the caller's pharmacy or hospital, given as `input` or as a
    /// FHIR R4 Claim (`fhir`, JSON; see the claims crate's `fhir` docs for how items name
    /// their ledger events). Answers the claim once committed.
    async fn submit_claim(
        &self,
        ctx: &Context<'_>,
        input: Option<ClaimInput>,
        fhir: Option<Json<Value>>,
    ) -> Result<Claim> {
        let caller = caller(ctx)?;
        needs(
            caller,
            &[OrgRole::Pharmacy, OrgRole::Hospital],
            &["pharmacist", "operator", "admin"],
            "submit claims",
        )?;
        let submit = match (input, fhir) {
            (Some(input), None) => submit_of(input)?,
            (None, Some(Json(resource))) => {
                let consortium = ledger(ctx)?.consortium();
                let context = ImportContext::new(caller.org.clone(), &consortium);
                fhir::import_claim(&resource, &context).map_err(|e| error(e.code, e.message))?
            }
            _ => {
                return Err(error(
                    BAD_INPUT,
                    "give the claim either as input or as a FHIR Claim (fhir), not both",
                ));
            }
        };
        let number = submit.claim.clone();
        let payload = serde_json::to_value(&submit).map_err(internal)?;
        commit(ctx, caller, "submit", payload).await?;
        Ok(Claim(read_claim(ctx, &caller.org, &number)?))
    }

    /// The payer adjudicates a claim addressed to it: every line is decided against the
    /// ledger at block time. Answers the claim with its decisions.
    async fn adjudicate_claim(
        &self,
        ctx: &Context<'_>,
        provider: String,
        id: String,
    ) -> Result<Claim> {
        let caller = caller(ctx)?;
        needs(
            caller,
            &[OrgRole::Payer],
            &["adjudicator", "admin"],
            "adjudicate claims",
        )?;
        let provider = org_arg("provider", &provider)?;
        commit(
            ctx,
            caller,
            "adjudicate",
            json!({"provider": provider, "claim": id}),
        )
        .await?;
        Ok(Claim(read_claim(ctx, &provider, &id)?))
    }
}
