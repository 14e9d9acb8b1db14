//! The `anchor` module: puts the SHA-256 digest of an off-chain document or reading (an
//! EMR extract, a cold-chain logger file, a certificate) on the ledger, once, with who
//! anchored it and when. The content itself never reaches the ledger.

mod events;
mod queries;
mod rules;

pub use events::{AnchorPayload, KIND, MODULE};
pub use queries::{AnchorRecord, by_reference, lookup};
pub use rules::Anchor;

#[cfg(test)]
mod tests;
