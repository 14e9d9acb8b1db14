//! Signing events as an actor: a key, the actor and organisation it acts for, and a
//! nonce that only ever grows (it starts from the clock in microseconds, so a restarted
//! signer never reuses one).

use crate::envelope::{Envelope, UnsignedEnvelope};
use crate::ids::{ActorId, ModuleName, OrgId};
use crate::keys::SecretKey;
use parking_lot::Mutex;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// Signs events for one actor. Safe to share between threads.
#[derive(Debug)]
pub struct Signer {
    actor: ActorId,
    org: OrgId,
    key: SecretKey,
    last_nonce: Mutex<u64>,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Signer {
    /// A signer for `actor` of `org` holding `key`.
    pub fn new(actor: ActorId, org: OrgId, key: SecretKey) -> Self {
        Self {
            actor,
            org,
            key,
            last_nonce: Mutex::new(0),
        }
    }

    /// The actor.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// The organisation.
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// The next nonce: greater than every one handed out before.
    pub fn next_nonce(&self) -> u64 {
        let mut last = self.last_nonce.lock();
        *last = (*last + 1).max(now_micros());
        *last
    }

    /// Builds and signs an event.
    pub fn sign(&self, module: &ModuleName, kind: &ModuleName, payload: Value) -> Envelope {
        let nonce = self.next_nonce();
        UnsignedEnvelope {
            module: module.clone(),
            kind: kind.clone(),
            payload,
            actor: self.actor.clone(),
            org: self.org.clone(),
            created_at: (nonce / 1000) as i64,
            nonce,
        }
        .sign(&self.key)
    }

    /// Like [`Signer::sign`] with names given as text; panics on an invalid name, which is
    /// a programming error in the caller.
    pub fn event(&self, module: &str, kind: &str, payload: Value) -> Envelope {
        self.sign(
            &ModuleName::new(module).expect("valid module name"),
            &ModuleName::new(kind).expect("valid kind name"),
            payload,
        )
    }
}
