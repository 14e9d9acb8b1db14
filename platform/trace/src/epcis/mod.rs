//! EPCIS 2.0: the CBV 2.0 event hash of JSON-LD events, and export and import of trace
//! events as EPCIS 2.0 JSON-LD documents.

pub mod document;
pub mod hash;
pub mod uri;

pub use document::{export, from_epcis, import, to_epcis};
pub use hash::{Prefixes, Unsupported, event_hash, prehash};

#[cfg(test)]
mod tests;
