//! The event envelope and its lifecycle: an [`UnsignedEnvelope`] is signed into an
//! [`Envelope`], which admission turns into a [`VerifiedEnvelope`]; only the last can be
//! ordered. The signed bytes are the RFC 8785 (JCS) canonical JSON of every field but the
//! signature, and the event id is the SHA-256 of those bytes.

use crate::hash::{EventId, sha256};
use crate::ids::{ActorId, ModuleName, OrgId};
use crate::keys::{SecretKey, Signature};
use crate::rejection::{Rejection, codes};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest canonical event accepted, in bytes (64 KiB). Documents stay off-chain;
/// the ledger holds their digest.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Everything an event says, before it is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsignedEnvelope {
    /// The module that handles it, e.g. `trace`.
    pub module: ModuleName,
    /// The kind of event within the module, e.g. `ship`.
    pub kind: ModuleName,
    /// The module-defined body.
    pub payload: Value,
    /// Who signs it.
    pub actor: ActorId,
    /// The organisation the actor acts for.
    pub org: OrgId,
    /// When the actor made it, Unix milliseconds (informative; rules use block time).
    pub created_at: i64,
    /// Strictly increasing per actor; makes identical-looking events distinct and stops replays.
    pub nonce: u64,
}

impl UnsignedEnvelope {
    /// The RFC 8785 canonical bytes that get signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(self).expect("an envelope always serialises")
    }

    /// Signs with `key`, giving an [`Envelope`] with its id.
    pub fn sign(self, key: &SecretKey) -> Envelope {
        let bytes = self.canonical_bytes();
        let signature = key.sign(&bytes);
        let id = EventId(sha256(&bytes).0);
        Envelope {
            body: self,
            signature,
            bytes,
            id,
        }
    }
}

/// A signed event whose signature has not yet been checked against the consortium config.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    body: UnsignedEnvelope,
    signature: Signature,
    bytes: Vec<u8>,
    id: EventId,
}

/// The JSON form an event travels in: the envelope fields plus `signature` (hex).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    module: ModuleName,
    kind: ModuleName,
    payload: Value,
    actor: ActorId,
    org: OrgId,
    created_at: i64,
    nonce: u64,
    signature: Signature,
}

impl Envelope {
    /// Reads one event from its JSON form (any key order or spacing).
    pub fn from_json(json: &[u8]) -> Result<Self, Rejection> {
        let wire: Wire = serde_json::from_slice(json).map_err(malformed)?;
        Self::from_wire_value(wire)
    }

    /// Reads one event from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, Rejection> {
        let wire: Wire = serde_json::from_value(value).map_err(malformed)?;
        Self::from_wire_value(wire)
    }

    fn from_wire_value(w: Wire) -> Result<Self, Rejection> {
        let body = UnsignedEnvelope {
            module: w.module,
            kind: w.kind,
            payload: w.payload,
            actor: w.actor,
            org: w.org,
            created_at: w.created_at,
            nonce: w.nonce,
        };
        let bytes = body.canonical_bytes();
        check_size(bytes.len())?;
        let id = EventId(sha256(&bytes).0);
        Ok(Self {
            body,
            signature: w.signature,
            bytes,
            id,
        })
    }

    /// Rebuilds an event from stored canonical bytes and signature, checking that the
    /// bytes are exactly the canonical form of what they say.
    pub fn from_stored(bytes: Vec<u8>, signature: Signature) -> Result<Self, Rejection> {
        check_size(bytes.len())?;
        let body: UnsignedEnvelope = serde_json::from_slice(&bytes).map_err(malformed)?;
        if body.canonical_bytes() != bytes {
            return Err(Rejection::new(
                codes::NOT_CANONICAL,
                "the stored bytes are not the RFC 8785 canonical form of the event",
            ));
        }
        let id = EventId(sha256(&bytes).0);
        Ok(Self {
            body,
            signature,
            bytes,
            id,
        })
    }

    /// Rebuilds an event from this peer's own store without re-checking the canonical
    /// form (the audit does that); for queries, where parsing is all that is needed.
    pub fn from_own_store(bytes: Vec<u8>, signature: Signature) -> Result<Self, Rejection> {
        let body: UnsignedEnvelope = serde_json::from_slice(&bytes).map_err(malformed)?;
        let id = EventId(sha256(&bytes).0);
        Ok(Self {
            body,
            signature,
            bytes,
            id,
        })
    }

    /// The JSON form, with the signature, as sent between clients and peers.
    pub fn to_json_value(&self) -> Value {
        let b = &self.body;
        serde_json::json!({
            "module": b.module, "kind": b.kind, "payload": b.payload, "actor": b.actor,
            "org": b.org, "created_at": b.created_at, "nonce": b.nonce,
            "signature": self.signature,
        })
    }

    /// The event id (SHA-256 of the canonical signed bytes).
    pub fn id(&self) -> EventId {
        self.id
    }

    /// The canonical signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The signed content.
    pub fn body(&self) -> &UnsignedEnvelope {
        &self.body
    }

    /// Shortcut: the module name.
    pub fn module(&self) -> &ModuleName {
        &self.body.module
    }

    /// Shortcut: the event kind.
    pub fn kind(&self) -> &str {
        self.body.kind.as_str()
    }

    /// Shortcut: the payload.
    pub fn payload(&self) -> &Value {
        &self.body.payload
    }

    /// Shortcut: the actor.
    pub fn actor(&self) -> &ActorId {
        &self.body.actor
    }

    /// Shortcut: the organisation.
    pub fn org(&self) -> &OrgId {
        &self.body.org
    }

    /// Size counted for storage figures: canonical bytes plus the 64-byte signature.
    pub fn raw_len(&self) -> usize {
        self.bytes.len() + 64
    }

    /// Gives back the signed content, for a reader that keeps its parts (the payload
    /// above all) without copying them.
    pub fn into_body(self) -> UnsignedEnvelope {
        self.body
    }
}

/// An event whose actor, organisation and signature were checked against the
/// consortium config, and that passed its module's `validate`. Only these are ordered.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedEnvelope(pub(crate) Envelope);

impl VerifiedEnvelope {
    /// The event.
    pub fn envelope(&self) -> &Envelope {
        &self.0
    }

    /// Gives back the event.
    pub fn into_inner(self) -> Envelope {
        self.0
    }
}

fn check_size(len: usize) -> Result<(), Rejection> {
    if len > MAX_EVENT_BYTES {
        return Err(Rejection::new(
            codes::OVERSIZE_EVENT,
            format!(
                "the event is {len} bytes in canonical form; at most {MAX_EVENT_BYTES} are accepted \
                 (keep documents off-chain and put their SHA-256 digest in the event)"
            ),
        ));
    }
    Ok(())
}

fn malformed(e: serde_json::Error) -> Rejection {
    Rejection::new(
        codes::MALFORMED_EVENT,
        format!("the event is not a valid envelope: {e}"),
    )
}
