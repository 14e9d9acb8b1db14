//! Raft membership follows the consortium config. The first voters are the voter peers
//! of the genesis config (every one of them initialises the raft with that same set, which
//! openraft allows); after that the leader compares the config in force with the raft
//! membership every second and changes the membership: new peers join as learners,
//! voters are set to the config's voter peers, removed peers leave.

use crate::node::Shared;
use crate::types::{NodeId, PeerNode, node_id};
use ledger::Consortium;
use openraft::ChangeMembers;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the leader compares membership with the consortium config.
const RECONCILE_EVERY: Duration = Duration::from_secs(1);

fn genesis_config(shared: &Shared) -> Option<Consortium> {
    let block = shared.ledger.block(0).ok()??;
    ledger::consortium::genesis_config(block.events.first()?).ok()
}

fn voters(config: &Consortium) -> BTreeMap<NodeId, PeerNode> {
    config
        .peers
        .iter()
        .filter(|p| p.voter)
        .map(|p| (node_id(&p.id), PeerNode::new(&p.id)))
        .collect()
}

/// On a voter of the genesis config whose raft is new: initialises it with the genesis
/// voters.
pub(crate) async fn initialize(shared: &Arc<Shared>) {
    let Some(genesis) = genesis_config(shared) else {
        tracing::error!("the genesis block cannot be read; the raft is not initialised");
        return;
    };
    let first = voters(&genesis);
    if !first.contains_key(&shared.id) {
        return;
    }
    match shared.raft.is_initialized().await {
        Ok(true) => {}
        Ok(false) => match shared.raft.initialize(first).await {
            Ok(()) => tracing::info!("raft initialised with the genesis voters"),
            Err(e) => tracing::debug!(error = %e, "raft already initialised"),
        },
        Err(e) => tracing::error!(error = %e, "the raft is not running"),
    }
}

/// The leader's loop turning consortium config changes into membership changes.
pub(crate) async fn reconcile(shared: Arc<Shared>) {
    while !shared.stopping.load(Ordering::SeqCst) {
        tokio::time::sleep(RECONCILE_EVERY).await;
        if !shared.is_leader() {
            continue;
        }
        if let Err(e) = step(&shared).await {
            tracing::warn!(error = %e, "changing the raft membership failed; trying again");
        }
    }
}

async fn step(shared: &Shared) -> Result<(), String> {
    let config = shared.ledger.consortium();
    let want_voters: BTreeSet<NodeId> = voters(&config).into_keys().collect();
    let want_all: BTreeMap<NodeId, PeerNode> = config
        .peers
        .iter()
        .map(|p| (node_id(&p.id), PeerNode::new(&p.id)))
        .collect();
    let current = shared.raft.metrics().borrow().membership_config.clone();
    let membership = current.membership();
    let have_nodes: BTreeSet<NodeId> = membership.nodes().map(|(id, _)| *id).collect();
    let have_voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    let joint = membership.get_joint_config().len() > 1;
    if joint {
        return Ok(());
    }
    let missing: BTreeMap<NodeId, PeerNode> = want_all
        .iter()
        .filter(|(id, _)| !have_nodes.contains(id))
        .map(|(id, n)| (*id, n.clone()))
        .collect();
    if !missing.is_empty() {
        tracing::info!(peers = ?missing.values().map(|n| &n.peer).collect::<Vec<_>>(), "adding peers to the raft as learners");
        shared
            .raft
            .change_membership(ChangeMembers::AddNodes(missing), true)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    if !want_voters.is_empty() && want_voters != have_voters {
        tracing::info!("setting the raft voters to the consortium's voter peers");
        shared
            .raft
            .change_membership(ChangeMembers::ReplaceAllVoters(want_voters.clone()), true)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let removed: BTreeSet<NodeId> = have_nodes
        .iter()
        .filter(|id| !want_all.contains_key(id) && !want_voters.contains(id))
        .copied()
        .collect();
    if !removed.is_empty() {
        tracing::info!(
            count = removed.len(),
            "removing peers that left the consortium from the raft"
        );
        shared
            .raft
            .change_membership(ChangeMembers::RemoveNodes(removed), true)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
