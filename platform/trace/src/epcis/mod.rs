//! EPCIS 2.0: the CBV 2.0 event hash of JSON-LD events, and export and import of trace
//! events as EPCIS 2.0 JSON-LD documents, and capture: a document's events read for the
//! importing organisation, each carrying its hash so that it is recorded once.

pub mod capture;
pub mod document;
pub mod hash;
pub mod uri;

pub use capture::{Capture, capture, capture_event};
pub use document::{document, export, export_event, from_epcis, import, to_epcis};
pub use hash::{BadEpcisHash, EpcisHash, Prefixes, Unsupported, event_hash, prehash};

#[cfg(test)]
mod tests;
