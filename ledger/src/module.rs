//! The `Module` trait every business module implements, and the one place modules are
//! registered. The core never names a business module: it routes by the envelope's
//! `module` field.

use crate::envelope::Envelope;
use crate::hash::EventId;
use crate::ids::OrgId;
use crate::rejection::{Rejection, codes};
use crate::state::{StateTx, StateView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What `apply` may know about where it runs: the block, never the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCtx {
    /// Height of the block being applied.
    pub height: u64,
    /// The block's time, Unix milliseconds, set by the orderer.
    pub time: i64,
    /// Position of the event in the block.
    pub index: u32,
    /// Id of the event being applied.
    pub event_id: EventId,
}

/// Something a committed event tells subscribers (for example a recall alert).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Stream name, e.g. `recall`.
    pub topic: String,
    /// The organisations it is for; empty means every member.
    pub orgs: Vec<OrgId>,
    /// Module-defined content (identifiers and codes only, never personal data).
    pub body: Value,
}

/// What a successful `apply` produces besides state writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Keys under which the event is indexed (e.g. an item's identifier), so queries
    /// such as provenance find every event of an item without scanning.
    pub index: Vec<Vec<u8>>,
    /// Notifications to deliver once the block is committed.
    pub notifications: Vec<Notification>,
}

/// A business module: its event kinds, its rules, its state.
///
/// `validate` runs at admission for fast feedback and may read committed state.
/// `apply` runs at commit on every peer and must be deterministic: it may use only the
/// state it is given and the [`BlockCtx`]; no clock, no randomness, no I/O. Rejecting an
/// event at apply keeps it in the block with the rejection's code, and none of its
/// writes.
pub trait Module: Send + Sync {
    /// The name events address it by, e.g. `trace`.
    fn name(&self) -> &'static str;
    /// Checks an event before it is ordered.
    fn validate(&self, state: &dyn StateView, event: &Envelope) -> Result<(), Rejection>;
    /// Applies an event at commit.
    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection>;
}

/// The modules a ledger runs, by name.
#[derive(Clone, Default)]
pub struct Modules {
    by_name: BTreeMap<&'static str, Arc<dyn Module>>,
}

impl Modules {
    /// No business modules (the core's own `consortium` module is always present).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a module; panics on a name used twice, which is a wiring bug.
    pub fn with(mut self, module: impl Module + 'static) -> Self {
        let name = module.name();
        assert!(
            name != crate::consortium::MODULE
                && self.by_name.insert(name, Arc::new(module)).is_none(),
            "module {name:?} registered twice"
        );
        self
    }

    /// The module handling `name`.
    pub fn get(&self, name: &str) -> Result<&dyn Module, Rejection> {
        self.by_name.get(name).map(|m| m.as_ref()).ok_or_else(|| {
            Rejection::new(
                codes::UNKNOWN_MODULE,
                format!("no module named {name:?} runs on this ledger"),
            )
        })
    }

    /// Names of the registered modules.
    pub fn names(&self) -> Vec<&'static str> {
        self.by_name.keys().copied().collect()
    }
}
