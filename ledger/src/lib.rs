//! Pedigree's ledger core: signed event envelopes, hash-chained blocks with Merkle roots,
//! the `Module` trait, stores (SQLite here), the solo orderer and the audit. It depends on
//! no web framework, no GraphQL, no GS1 code and no business module.

pub mod apply;
pub mod audit;
pub mod block;
mod checked;
pub mod config;
pub mod consortium;
pub mod envelope;
pub mod genesis;
pub mod hash;
pub mod ids;
pub mod keys;
pub mod ledger;
pub mod merkle;
pub mod module;
pub mod orderer;
pub mod privacy;
pub mod rejection;
pub mod signer;
pub mod state;
pub mod store;

pub use block::{Block, BlockHeader};
pub use config::{Actor, Consortium, OrgRole, Organization, PeerInfo};
pub use envelope::{Envelope, UnsignedEnvelope, VerifiedEnvelope};
pub use hash::{BlockHash, Digest, EventId};
pub use ids::{ActorId, ModuleName, OrgId, PeerId};
pub use keys::{PublicKey, SecretKey, Signature};
pub use ledger::{CommitNotice, EventRecord, Ledger, LedgerError};
pub use module::{BlockCtx, Effects, Module, Modules, Notification};
pub use orderer::{CutPolicy, Orderer, Receipt, SoloOrderer};
pub use privacy::PatientRef;
pub use rejection::Rejection;
pub use signer::Signer;
pub use state::{StateTx, StateView, StateViewExt};
pub use store::{Store, StoreError, sqlite::SqliteStore};
