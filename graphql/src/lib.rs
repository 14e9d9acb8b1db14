//! Pedigree's GraphQL schema (async-graphql): one object per module, merged into one
//! schema whose SDL is committed in `schema.graphql`. It reads the ledger through its
//! library API and reaches the peer through the small [`Peer`] trait; it never starts an
//! HTTP server and never depends on actix.
//!
//! Every error carries a stable `extensions.code` ([`errors`]). Requests carry the
//! authenticated [`Caller`] in their data; without one only `chain` and `organizations`
//! answer, every other field fails with `UNAUTHENTICATED`. A patient's token carries a
//! [`PatientCaller`] instead, which only the consent fields accept.

mod caller;
mod chain;
mod claims;
mod consent;
pub mod errors;
mod trace;

pub use crate::claims::{
    Claim, ClaimInput, ClaimItemKind, ClaimLine, ClaimLineInput, ClaimOutcome, ClaimStatus,
    ClaimsMutation, ClaimsPeer, ClaimsQuery, LineDecision,
};
pub use crate::trace::types::{
    Event, EventReceipt, Provenance, Recall, RecallAlert, Verdict, Verification,
};
pub use crate::trace::{TraceMutation, TraceQuery, TraceSubscription, verification};
pub use caller::{Action, Caller, CommitStream, Peer, SubmitFuture};
pub use chain::{ChainInfo, ChainQuery, Organization};
pub use consent::{ConsentMutation, ConsentQuery, PatientCaller};

use async_graphql::{MergedObject, MergedSubscription, Schema};
use ledger::Ledger;
use std::sync::Arc;

/// The root query: each module contributes one object.
#[derive(MergedObject, Default)]
pub struct Query(ChainQuery, TraceQuery, ConsentQuery, ClaimsQuery);

/// The root mutation: each module contributes one object.
#[derive(MergedObject, Default)]
pub struct Mutation(TraceMutation, ConsentMutation, ClaimsMutation);

/// The root subscription: each module contributes one object.
#[derive(MergedSubscription, Default)]
pub struct Subscription(TraceSubscription);

/// The whole schema.
pub type PedigreeSchema = Schema<Query, Mutation, Subscription>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most expensive query accepted (async-graphql's complexity units).
pub const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema over a ledger and the peer that signs and orders for it.
pub fn schema(ledger: Arc<Ledger>, peer: Arc<dyn Peer>) -> PedigreeSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .data(ledger)
    .data(peer)
    .extension(errors::ErrorCodes)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The schema's SDL, as committed in `graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}
