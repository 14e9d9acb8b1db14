//! The `claims` module, after FHIR R4 Claim and ClaimResponse: a pharmacy or hospital
//! submits a claim whose drug and device lines name the dispense and implant events that
//! prove them, and the payer adjudicates it deterministically (block time and state
//! only) line by line, catching phantom dispensing, double billing, recalled and expired
//! units and missing payment consent. It never reads trace or consent state itself: it
//! asks the [`Evidence`] and [`PaymentConsent`] traits the peer wires in. Claims and their
//! adjudication go in and out as FHIR R4 Claim and ClaimResponse through [`fhir`].

mod events;
mod evidence;
pub mod fhir;
mod queries;
mod rules;

pub use events::{Adjudicate, ClaimEvent, ItemKind, Line, MODULE, Submit};
pub use evidence::{DispenseFact, Evidence, PaymentConsent};
pub use queries::{
    ClaimRecord, ClaimStatus, LineResult, MAX_LIST, MAX_SCAN, Outcome, claim, claim_by_event,
    claims_for_payer, claims_of_provider, signed_at,
};
pub use rules::{Claims, codes};

#[cfg(test)]
mod tests;
