//! The `raft` orderer: blocks are ordered by openraft among the consortium's voter peers
//! and every other peer replicates as a learner; every peer applies every block through
//! `Ledger::commit_block` and keeps its own store. Peers talk over signed HTTP requests,
//! forward their users' events to the leader, and catch up on blocks they lack. This
//! crate knows no HTTP server and no business module: the peer binary wires its routes.

// openraft's storage traits return its `StorageError` (over 200 bytes); the helpers that
// feed them return the same type rather than boxing and unboxing it at every call.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod catchup;
pub mod client;
pub mod db;
pub mod join;
pub mod log_store;
mod membership;
pub mod network;
pub mod node;
mod orderer;
pub mod server;
pub mod settings;
pub mod state_machine;
pub mod types;

pub use node::{RaftNode, StartError, Status};
pub use server::{PeerAnswer, PeerRequest};
pub use settings::Settings;
