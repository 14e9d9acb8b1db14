//! Answering a scan: a verdict, a reason and the next action, in words a pharmacist or
//! a warehouse worker acts on. "Now" (for expiry) is a parameter, so the answer is a
//! pure function of committed state, the scan, the scanning organisation and the time.

use crate::code::{Code, ScanProblem, ScannedCode};
use crate::events::{MODULE, RecallClass, RecallDepth};
use crate::rules::reason_name;
use crate::state::{self, ReadOnly, RecallRecord, Resolved, Status, Tables};
use ledger::{EventId, Ledger, OrgId, StateView, StoreError};
use serde::Serialize;

/// The answer to a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Genuine, usable, and in the scanning organisation's custody.
    Verified,
    /// The GTIN was never commissioned.
    UnknownProduct,
    /// The serial (or SSCC) was never commissioned.
    UnknownSerial,
    /// Lot or expiry in the scan disagree with the commissioned data.
    Mismatch,
    /// Already dispensed or implanted.
    AlreadyDispensed,
    /// Taken out of the supply chain.
    Decommissioned,
    /// Under recall.
    Recalled,
    /// Past its expiry date.
    Expired,
    /// On hold.
    Quarantined,
    /// Genuine but held by someone else (or in transit).
    NotInYourCustody,
    /// The scan itself is bad; scan again.
    Rescan,
}

impl Verdict {
    /// The stable SCREAMING_SNAKE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "VERIFIED",
            Self::UnknownProduct => "UNKNOWN_PRODUCT",
            Self::UnknownSerial => "UNKNOWN_SERIAL",
            Self::Mismatch => "MISMATCH",
            Self::AlreadyDispensed => "ALREADY_DISPENSED",
            Self::Decommissioned => "DECOMMISSIONED",
            Self::Recalled => "RECALLED",
            Self::Expired => "EXPIRED",
            Self::Quarantined => "QUARANTINED",
            Self::NotInYourCustody => "NOT_IN_YOUR_CUSTODY",
            Self::Rescan => "RESCAN",
        }
    }
}

/// The recall behind a `RECALLED` verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecallSummary {
    /// The recall (its event id).
    pub id: EventId,
    /// Who issued it.
    pub issuer: OrgId,
    /// Class.
    pub class: RecallClass,
    /// Depth.
    pub depth: RecallDepth,
    /// Why.
    pub reason: String,
}

/// What the scanner library said about a bad scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanDiagnostic {
    /// Stable code from `scanners::codes` (or `NOT_A_UNIT_CODE`).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// The answer to one scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// What to do next, in one sentence.
    pub next_action: String,
    /// GTIN-14 of an item.
    pub gtin: Option<String>,
    /// Serial of an item.
    pub serial: Option<String>,
    /// SSCC of a logistic unit.
    pub sscc: Option<String>,
    /// Commissioned lot (or the scanned one when unknown).
    pub lot: Option<String>,
    /// Commissioned expiry, YYYY-MM-DD (or the scanned one when unknown).
    pub expiry: Option<String>,
    /// Current (effective) holder.
    pub holder: Option<OrgId>,
    /// Lifecycle status name (`active`, `in_transit`, `dispensed`...).
    pub status: Option<&'static str>,
    /// The recall, for `RECALLED`.
    pub recall: Option<RecallSummary>,
    /// For `RESCAN`: what the scanner library found.
    pub diagnostic: Option<ScanDiagnostic>,
    /// For `RESCAN`: advice on scanning again.
    pub hints: Vec<String>,
}

impl Verification {
    fn new(verdict: Verdict, reason: impl Into<String>, next_action: impl Into<String>) -> Self {
        Self {
            verdict,
            reason: reason.into(),
            next_action: next_action.into(),
            gtin: None,
            serial: None,
            sscc: None,
            lot: None,
            expiry: None,
            holder: None,
            status: None,
            recall: None,
            diagnostic: None,
            hints: vec![],
        }
    }
}

/// Verifies a scan in any form for `as_org` at `now_ms` (Unix ms) against the ledger's
/// committed state.
pub fn verify(
    ledger: &Ledger,
    code: &str,
    as_org: &OrgId,
    now_ms: i64,
) -> Result<Verification, StoreError> {
    match ScannedCode::read(code) {
        Err(p) => Ok(rescan(p)),
        Ok(scan) => ledger.read(MODULE, |view| verify_in(view, &scan, as_org, now_ms)),
    }
}

/// The answer for an unreadable scan.
pub fn rescan(p: ScanProblem) -> Verification {
    let next =
        p.hints.first().cloned().unwrap_or_else(|| {
            "Scan the code again; if it keeps failing, key it in by hand.".into()
        });
    let mut v = Verification::new(
        Verdict::Rescan,
        format!("The scan could not be read: {}", p.message),
        next,
    );
    v.diagnostic = Some(ScanDiagnostic {
        code: p.code.to_string(),
        message: p.message,
    });
    v.hints = p.hints;
    v
}

/// Verifies a parsed scan against a state view of the trace module.
pub fn verify_in(
    view: &dyn StateView,
    scan: &ScannedCode,
    as_org: &OrgId,
    now_ms: i64,
) -> Verification {
    let t = ReadOnly(view);
    let code = &scan.code;
    let mut base = Verification::new(Verdict::Verified, "", "");
    base.gtin = code.gtin().map(ToString::to_string);
    base.serial = code.serial().map(ToString::to_string);
    base.sscc = code.sscc().map(ToString::to_string);
    base.lot = scan.lot.as_ref().map(ToString::to_string);
    base.expiry = scan.expiry.as_ref().map(ToString::to_string);
    if let Some(gtin) = code.gtin()
        && t.get(&state::product_key(gtin)).is_none()
    {
        return with(
            base,
            Verdict::UnknownProduct,
            format!("Product {gtin} is not on the ledger."),
            "Do not dispense: set the pack aside and report a suspected falsified product.",
        );
    }
    let Some(r) = state::resolve(&t, code) else {
        let what = if code.is_container() {
            "This case or pallet code"
        } else {
            "This serial number"
        };
        return with(
            base,
            Verdict::UnknownSerial,
            format!("{what} was never commissioned."),
            "Do not dispense: quarantine the pack and report a suspected falsification to the manufacturer.",
        );
    };
    base.lot = r.unit.lot.as_ref().map(ToString::to_string);
    base.expiry = r.unit.expiry.as_ref().map(ToString::to_string);
    base.holder = Some(r.holder().clone());
    base.status = Some(r.status().name());
    if let Some(v) = mismatch(&base, scan, &r) {
        return v;
    }
    judge(&t, base, code, &r, as_org, now_ms)
}

fn with(mut v: Verification, verdict: Verdict, reason: String, next: &str) -> Verification {
    v.verdict = verdict;
    v.reason = reason;
    v.next_action = next.to_string();
    v
}

fn mismatch(base: &Verification, scan: &ScannedCode, r: &Resolved) -> Option<Verification> {
    let lot_off = scan.lot.is_some() && scan.lot != r.unit.lot;
    let exp_off = scan.expiry.is_some() && scan.expiry != r.unit.expiry;
    if !lot_off && !exp_off {
        return None;
    }
    let what = match (lot_off, exp_off) {
        (true, true) => "lot and expiry",
        (true, false) => "lot",
        _ => "expiry",
    };
    Some(with(
        base.clone(),
        Verdict::Mismatch,
        format!("The {what} in the code differ from what the manufacturer commissioned."),
        "Do not dispense: compare the printed data with the pack, quarantine it and report it.",
    ))
}

fn judge(
    t: &ReadOnly<'_>,
    base: Verification,
    code: &Code,
    r: &Resolved,
    as_org: &OrgId,
    now_ms: i64,
) -> Verification {
    match r.status() {
        Status::Dispensed | Status::Implanted { .. } => {
            let how = if r.status().name() == "dispensed" {
                "dispensed"
            } else {
                "implanted"
            };
            return with(
                base,
                Verdict::AlreadyDispensed,
                format!("This unit was already {how}."),
                "Do not dispense: quarantine it and report a possible duplicate or falsified pack.",
            );
        }
        Status::Decommissioned { reason, .. } => {
            return with(
                base,
                Verdict::Decommissioned,
                format!(
                    "This unit was taken out of the supply chain ({}).",
                    reason_name(*reason)
                ),
                "Do not dispense; if that was a mistake, the same site can undo it within 10 days.",
            );
        }
        _ => {}
    }
    let mut all = vec![(code.clone(), r.unit.clone())];
    for d in state::descendants(t, code) {
        if let Some(u) = state::unit(t, &d) {
            all.push((d, u));
        }
    }
    if let Some(rec) = all.iter().find_map(|(c, u)| recall_of(t, c, u)) {
        let mut v = with(
            base,
            Verdict::Recalled,
            format!(
                "Class {:?} recall by {}: {}",
                rec.class, rec.issuer, rec.reason
            ),
            "Do not dispense or ship: quarantine it, acknowledge the recall and return it to the brand owner.",
        );
        v.recall = Some(rec);
        return v;
    }
    if let Some((_, u)) = all
        .iter()
        .find(|(_, u)| u.expiry.as_ref().is_some_and(|e| state::expired(e, now_ms)))
    {
        let date = u.expiry.map(|e| e.to_string()).unwrap_or_default();
        return with(
            base,
            Verdict::Expired,
            format!("Expired on {date}."),
            "Do not dispense: decommission it as expired.",
        );
    }
    if r.quarantined || all.iter().any(|(_, u)| u.quarantined) {
        return with(
            base,
            Verdict::Quarantined,
            "This unit (or its case) is quarantined.".into(),
            "Do not dispense or ship until its holder releases it.",
        );
    }
    custody(base, r, as_org)
}

fn custody(base: Verification, r: &Resolved, as_org: &OrgId) -> Verification {
    match r.status() {
        Status::InTransit { to, .. } if to == as_org => with(
            base,
            Verdict::NotInYourCustody,
            format!("It is on its way to you from {}.", r.holder()),
            "Receive the shipment first, then scan again.",
        ),
        Status::InTransit { to, .. } => with(
            base,
            Verdict::NotInYourCustody,
            format!("It is in transit from {} to {to}.", r.holder()),
            "Do not use it: it was not shipped to you; contact the sender.",
        ),
        _ if r.holder() != as_org => with(
            base,
            Verdict::NotInYourCustody,
            format!("It is registered to {}, not to you.", r.holder()),
            "Do not dispense: check that it was shipped to and received by your site.",
        ),
        Status::Installed => with(
            base,
            Verdict::Verified,
            "Genuine device, installed at your site.".into(),
            "It may be used and serviced.",
        ),
        Status::Explanted => with(
            base,
            Verdict::Verified,
            "Genuine device, explanted.".into(),
            "Do not reuse it: return it to the manufacturer or decommission it.",
        ),
        _ => with(
            base,
            Verdict::Verified,
            "Genuine, in date, not recalled, and in your custody.".into(),
            "Proceed: you may dispense or use it.",
        ),
    }
}

fn recall_of(t: &ReadOnly<'_>, code: &Code, u: &state::Unit) -> Option<RecallSummary> {
    let id = *state::recalls_of(t, code, u.lot.as_ref()).first()?;
    let rec: RecallRecord = t.get_json(&state::recall_key(&id))?;
    Some(RecallSummary {
        id,
        issuer: rec.issuer,
        class: rec.class,
        depth: rec.depth,
        reason: rec.reason,
    })
}
