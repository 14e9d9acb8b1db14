//! `pedigree consortium`: a governor organisation's admin changes the consortium's peers
//! from their own machine. The event is signed here, with the admin's key (which never
//! leaves this machine), and sent to any peer's `POST /events`; the command prints the
//! committed receipt and fails unless the change was committed and applied.

use crate::config::read_key;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ledger::{ActorId, OrgId, PeerId, PeerInfo, PublicKey, Signer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// `pedigree consortium ...`
#[derive(Debug, Subcommand)]
pub enum ConsortiumCommand {
    /// Add a peer (a new organisation's, or another one of a member's) to the config;
    /// once committed, the raft leader makes it a learner (or a voter, with `--voter`).
    AddPeer(AddPeerArgs),
    /// Remove a peer from the config; the raft leader takes it out of the membership.
    RemovePeer(RemovePeerArgs),
}

/// Who signs the change and where it is sent.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of a running peer of the network (e.g. `http://peer.acme.example:7800`).
    #[arg(long)]
    pub url: String,
    /// The governor organisation's admin actor, e.g. `medicines-agency/admin`.
    #[arg(long)]
    pub admin: String,
    /// That admin's key (PKCS#8 PEM).
    #[arg(long)]
    pub admin_key: PathBuf,
}

/// Arguments of `pedigree consortium add-peer`.
#[derive(Debug, Args)]
pub struct AddPeerArgs {
    #[command(flatten)]
    pub signed: AdminArgs,
    /// The new peer's id (the `--peer-id` its operator gives `pedigree init --join`).
    #[arg(long)]
    pub peer_id: String,
    /// The member organisation running it.
    #[arg(long)]
    pub org: String,
    /// The base URL the other peers reach it at.
    #[arg(long)]
    pub endpoint: String,
    /// Its public key, 64 hex digits (`pedigree keys show` on its operator's machine).
    #[arg(long)]
    pub public_key: String,
    /// It votes in ordering (default: it replicates as a learner).
    #[arg(long)]
    pub voter: bool,
}

/// Arguments of `pedigree consortium remove-peer`.
#[derive(Debug, Args)]
pub struct RemovePeerArgs {
    #[command(flatten)]
    pub signed: AdminArgs,
    /// The peer to remove.
    #[arg(long)]
    pub peer_id: String,
}

/// Runs `pedigree consortium`.
pub fn run(cmd: ConsortiumCommand) -> Result<()> {
    let (signed, kind, payload) = match cmd {
        ConsortiumCommand::AddPeer(a) => {
            let peer = PeerInfo {
                id: PeerId::new(a.peer_id)?,
                org: OrgId::new(a.org)?,
                endpoint: a.endpoint,
                public_key: PublicKey::from_hex(&a.public_key)
                    .map_err(|e| anyhow::anyhow!("BAD_KEY: --public-key: {e}"))?,
                voter: a.voter,
            };
            (a.signed, "add_peer", json!({ "peer": peer }))
        }
        ConsortiumCommand::RemovePeer(a) => (
            a.signed,
            "remove_peer",
            json!({ "peer": PeerId::new(a.peer_id)? }),
        ),
    };
    let receipt = submit(&signed, kind, payload)?;
    println!("{}", serde_json::to_string_pretty(&receipt)?);
    Ok(())
}

/// Signs one `consortium` event as the admin and sends it; the receipt when it was
/// committed and applied.
fn submit(signed: &AdminArgs, kind: &str, payload: Value) -> Result<Value> {
    let admin = ActorId::new(signed.admin.clone())?;
    let org = admin
        .as_str()
        .split_once('/')
        .map(|(org, _)| OrgId::new(org))
        .transpose()?
        .with_context(|| format!("{admin} is not an actor id of the form org/name"))?;
    let key = read_key(&signed.admin_key)?;
    let event = Signer::new(admin, org, key).event(ledger::consortium::MODULE, kind, payload);
    let url = format!("{}/events", signed.url.trim_end_matches('/'));
    let answer = ureq::post(&url)
        .timeout(Duration::from_secs(30))
        .send_json(json!([event.to_json_value()]));
    let (status, body) = match answer {
        Ok(r) => (r.status(), r.into_json::<Value>().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(s, r)) => (s, r.into_json::<Value>().unwrap_or(Value::Null)),
        Err(e) => bail!("PEER_UNREACHABLE: cannot send the event to {url}: {e}"),
    };
    let first = &body["events"][0];
    if status != 200 || first["status"] != "committed" {
        let code = first["code"].as_str().or(body["code"].as_str());
        let message = first["message"].as_str().or(body["message"].as_str());
        bail!(
            "{}: consortium/{kind} was not applied (HTTP {status}): {}",
            code.unwrap_or("REFUSED"),
            message.unwrap_or("see the peer's log")
        );
    }
    Ok(body)
}
