//! The consortium config carried by genesis: organisations with their roles, GLNs, GS1
//! company prefixes and actors' public keys, and the peers with their endpoints. Later
//! changes are `consortium` events (see [`crate::consortium`]).

use crate::ids::{ActorId, OrgId, PeerId};
use crate::keys::PublicKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What kind of member an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Makes and commissions products (brand owner).
    Manufacturer,
    /// Wholesaler, 3PL, repackager.
    Distributor,
    /// Dispenses to patients.
    Pharmacy,
    /// Dispenses, implants and installs; keeps EMR.
    Hospital,
    /// Reads everything, may issue recalls.
    Regulator,
    /// Adjudicates claims.
    Payer,
}

impl OrgRole {
    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Manufacturer => "manufacturer",
            Self::Distributor => "distributor",
            Self::Pharmacy => "pharmacy",
            Self::Hospital => "hospital",
            Self::Regulator => "regulator",
            Self::Payer => "payer",
        }
    }
}

/// A person or system that signs events for an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Unique across the consortium.
    pub id: ActorId,
    /// The ed25519 key its signatures verify with.
    pub public_key: PublicKey,
    /// Roles within the organisation, e.g. `admin`, `operator`, `pharmacist`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// A revoked actor's new events are refused; its past events stay valid.
    #[serde(default)]
    pub revoked: bool,
}

impl Actor {
    /// True when the actor holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// A member of the consortium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Short stable id, e.g. `acme-pharma`.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Kind of member.
    pub role: OrgRole,
    /// GS1 Global Location Numbers of its sites.
    #[serde(default)]
    pub glns: Vec<String>,
    /// GS1 company prefixes it owns (brand owners commission under these).
    #[serde(default)]
    pub company_prefixes: Vec<String>,
    /// Its signing actors.
    #[serde(default)]
    pub actors: Vec<Actor>,
}

/// A running node of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerInfo {
    /// Unique peer id.
    pub id: PeerId,
    /// The organisation running it.
    pub org: OrgId,
    /// Base URL other peers reach it at.
    pub endpoint: String,
    /// Key for its block (orderer) and peer-to-peer signatures.
    pub public_key: PublicKey,
    /// Whether it takes part in ordering.
    #[serde(default)]
    pub voter: bool,
}

/// The whole consortium config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consortium {
    /// Name of the network.
    pub name: String,
    /// Organisations whose `admin` actors may add and remove organisations and peers.
    pub governors: Vec<OrgId>,
    /// Members.
    pub organizations: Vec<Organization>,
    /// Nodes.
    pub peers: Vec<PeerInfo>,
}

/// Problems with a consortium config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ConfigError {
    /// Stable code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad(code: &'static str, message: String) -> ConfigError {
    ConfigError { code, message }
}

impl Consortium {
    /// Checks the config is coherent: unique ids, governors and peers name real
    /// organisations, at least one governor admin and at least one peer.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut orgs = std::collections::HashSet::new();
        let mut actors = std::collections::HashSet::new();
        for o in &self.organizations {
            if !orgs.insert(&o.id) {
                return Err(bad(
                    "DUPLICATE_ORG",
                    format!("organisation {} appears twice", o.id),
                ));
            }
            for a in &o.actors {
                if !actors.insert(&a.id) {
                    return Err(bad(
                        "DUPLICATE_ACTOR",
                        format!("actor {} appears twice", a.id),
                    ));
                }
            }
        }
        for g in &self.governors {
            if !orgs.contains(g) {
                return Err(bad(
                    "UNKNOWN_ORG",
                    format!("governor {g} is not an organisation"),
                ));
            }
        }
        let mut peers = std::collections::HashSet::new();
        for p in &self.peers {
            if !orgs.contains(&p.org) {
                return Err(bad(
                    "UNKNOWN_ORG",
                    format!("peer {} belongs to unknown organisation {}", p.id, p.org),
                ));
            }
            if !peers.insert(&p.id) {
                return Err(bad(
                    "DUPLICATE_PEER",
                    format!("peer {} appears twice", p.id),
                ));
            }
        }
        if self.peers.is_empty() {
            return Err(bad(
                "NO_PEER",
                "the consortium needs at least one peer".into(),
            ));
        }
        let governor_admin = self.organizations.iter().any(|o| {
            self.governors.contains(&o.id)
                && o.actors.iter().any(|a| a.has_role("admin") && !a.revoked)
        });
        if !governor_admin {
            return Err(bad(
                "NO_GOVERNOR",
                "at least one governor organisation needs an admin actor".into(),
            ));
        }
        Ok(())
    }

    /// The organisation with this id.
    pub fn organization(&self, id: &OrgId) -> Option<&Organization> {
        self.organizations.iter().find(|o| &o.id == id)
    }

    /// The peer with this id.
    pub fn peer(&self, id: &PeerId) -> Option<&PeerInfo> {
        self.peers.iter().find(|p| &p.id == id)
    }

    /// A lookup table of actors, for signature checks.
    pub fn directory(&self) -> Directory {
        let mut actors = HashMap::new();
        for o in &self.organizations {
            for a in &o.actors {
                actors.insert(a.id.clone(), (o.id.clone(), o.role, a.clone()));
            }
        }
        Directory { actors }
    }
}

/// Actors by id, with their organisation: what admission and apply check against.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    actors: HashMap<ActorId, (OrgId, OrgRole, Actor)>,
}

impl Directory {
    /// The actor, its organisation and that organisation's role.
    pub fn actor(&self, id: &ActorId) -> Option<(&OrgId, OrgRole, &Actor)> {
        self.actors.get(id).map(|(o, r, a)| (o, *r, a))
    }
}
