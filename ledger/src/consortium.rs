//! The core's own `consortium` module: changes to the consortium config are events too.
//! Governor organisations' admins add and remove organisations and peers; an
//! organisation's own admins (or a governor's) manage its actors and details.

use crate::config::{Actor, Consortium, Organization, PeerInfo};
use crate::envelope::Envelope;
use crate::ids::{ActorId, OrgId, PeerId};
use crate::rejection::{Rejection, codes};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The module name consortium events carry.
pub const MODULE: &str = "consortium";
/// The kind of the one event in the genesis block.
pub const GENESIS: &str = "genesis";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddOrganization {
    organization: Organization,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOrganization {
    org: OrgId,
    name: Option<String>,
    glns: Option<Vec<String>>,
    company_prefixes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddActor {
    org: OrgId,
    actor: Actor,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeActor {
    actor: ActorId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddPeer {
    peer: PeerInfo,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemovePeer {
    peer: PeerId,
}

fn payload<T: DeserializeOwned>(event: &Envelope) -> Result<T, Rejection> {
    serde_json::from_value(event.payload().clone()).map_err(|e| {
        Rejection::new(
            codes::BAD_PAYLOAD,
            format!("consortium/{} payload: {e}", event.kind()),
        )
    })
}

fn forbidden(what: &str) -> Rejection {
    Rejection::new(codes::FORBIDDEN, format!("only {what} may do this"))
}

/// Applies a consortium event to `config` (a working copy), checking who may do it.
/// `height` is the block's height (genesis is only valid at 0).
pub fn apply(config: &mut Consortium, event: &Envelope, height: u64) -> Result<(), Rejection> {
    let actor_org = event.org();
    let is_admin = config
        .organization(actor_org)
        .and_then(|o| o.actors.iter().find(|a| &a.id == event.actor()))
        .is_some_and(|a| a.has_role("admin") && !a.revoked);
    let governor = is_admin && config.governors.contains(actor_org);
    let own_or_governor = |org: &OrgId| governor || (is_admin && org == actor_org);
    let mut next = config.clone();
    match event.kind() {
        GENESIS => {
            return Err(Rejection::new(
                codes::FORBIDDEN,
                format!(
                    "a genesis event is only valid as the first event of block 0, not at height {height}"
                ),
            ));
        }
        "add_organization" => {
            let p: AddOrganization = payload(event)?;
            if !governor {
                return Err(forbidden("a governor organisation's admin"));
            }
            next.organizations.push(p.organization);
        }
        "update_organization" => {
            let p: UpdateOrganization = payload(event)?;
            if !own_or_governor(&p.org) {
                return Err(forbidden(
                    "the organisation's own admin or a governor's admin",
                ));
            }
            let org = next
                .organizations
                .iter_mut()
                .find(|o| o.id == p.org)
                .ok_or_else(|| unknown_org(&p.org))?;
            if let Some(name) = p.name {
                org.name = name;
            }
            if let Some(glns) = p.glns {
                org.glns = glns;
            }
            if let Some(prefixes) = p.company_prefixes {
                org.company_prefixes = prefixes;
            }
        }
        "add_actor" => {
            let p: AddActor = payload(event)?;
            if !own_or_governor(&p.org) {
                return Err(forbidden(
                    "the organisation's own admin or a governor's admin",
                ));
            }
            let org = next
                .organizations
                .iter_mut()
                .find(|o| o.id == p.org)
                .ok_or_else(|| unknown_org(&p.org))?;
            org.actors.push(p.actor);
        }
        "revoke_actor" => {
            let p: RevokeActor = payload(event)?;
            let (org, actor) = next
                .organizations
                .iter_mut()
                .find_map(|o| {
                    let id = o.id.clone();
                    o.actors
                        .iter_mut()
                        .find(|a| a.id == p.actor)
                        .map(|a| (id, a))
                })
                .ok_or_else(|| {
                    Rejection::new(codes::UNKNOWN_ACTOR, format!("no actor {}", p.actor))
                })?;
            if !own_or_governor(&org) {
                return Err(forbidden(
                    "the organisation's own admin or a governor's admin",
                ));
            }
            actor.revoked = true;
        }
        "add_peer" => {
            let p: AddPeer = payload(event)?;
            if !governor {
                return Err(forbidden("a governor organisation's admin"));
            }
            next.peers.push(p.peer);
        }
        "remove_peer" => {
            let p: RemovePeer = payload(event)?;
            if !governor {
                return Err(forbidden("a governor organisation's admin"));
            }
            let before = next.peers.len();
            next.peers.retain(|peer| peer.id != p.peer);
            if next.peers.len() == before {
                return Err(Rejection::new(
                    "UNKNOWN_PEER",
                    format!("no peer {}", p.peer),
                ));
            }
        }
        other => {
            return Err(Rejection::new(
                codes::UNKNOWN_KIND,
                format!("the consortium module has no event kind {other:?}"),
            ));
        }
    }
    next.check()
        .map_err(|e| Rejection::new(e.code, e.message))?;
    *config = next;
    Ok(())
}

fn unknown_org(org: &OrgId) -> Rejection {
    Rejection::new("UNKNOWN_ORG", format!("no organisation {org}"))
}

/// Reads and checks the consortium config carried by a genesis event.
pub fn genesis_config(event: &Envelope) -> Result<Consortium, Rejection> {
    if event.module().as_str() != MODULE || event.kind() != GENESIS {
        return Err(Rejection::new(
            "BAD_GENESIS",
            "block 0 must hold exactly one consortium/genesis event",
        ));
    }
    let config: Consortium = serde_json::from_value(event.payload().clone()).map_err(|e| {
        Rejection::new(
            "BAD_GENESIS",
            format!("the genesis config does not parse: {e}"),
        )
    })?;
    config
        .check()
        .map_err(|e| Rejection::new("BAD_GENESIS", e.to_string()))?;
    let signer = config
        .organization(event.org())
        .filter(|o| config.governors.contains(&o.id))
        .and_then(|o| {
            o.actors
                .iter()
                .find(|a| &a.id == event.actor() && a.has_role("admin"))
        })
        .ok_or_else(|| {
            Rejection::new(
                "BAD_GENESIS",
                "genesis must be signed by an admin of a governor organisation",
            )
        })?;
    if !signer.public_key.verify(event.bytes(), event.signature()) {
        return Err(Rejection::new(
            codes::BAD_SIGNATURE,
            "the genesis event's signature does not verify",
        ));
    }
    Ok(config)
}
