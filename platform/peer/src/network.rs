//! The peer's side of the consortium network: picks the orderer the config names (`solo`
//! or `raft`) and carries the raft's peer-to-peer routes over actix-web. `GET
//! /raft/status` is public (no secrets: roles, term, heights); every other `/raft/...`
//! request must be signed by a peer of the consortium (see `raft_orderer::auth`).

use crate::config::DataDir;
use crate::http::{Http, error};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::{Context, Result};
use ledger::{Ledger, Orderer, SecretKey, SoloOrderer};
use raft_orderer::auth::{PEER_HEADER, Presented, SIGNATURE_HEADER, TIME_HEADER};
use raft_orderer::{PeerRequest, RaftNode};
use std::sync::Arc;

/// Largest body of a peer-to-peer request (a raft append carries a few whole blocks).
pub const MAX_PEER_BODY: usize = 256 * 1024 * 1024;

/// An orderer and, for `raft`, the raft node behind it.
pub type Ordering = (Arc<dyn Orderer>, Option<Arc<RaftNode>>);

/// The orderer `peer.toml` asks for, and the raft behind it when there is one.
pub fn orderer(dir: &DataDir, ledger: &Arc<Ledger>, key: SecretKey) -> Result<Ordering> {
    let me = dir.config.peer_id.clone();
    if dir.config.orderer.kind != "raft" {
        let solo = SoloOrderer::start(ledger.clone(), me, key, dir.config.orderer.policy());
        return Ok((Arc::new(solo), None));
    }
    // A new peer's chain is genesis alone: it fetches the rest until the chain lists it.
    let settings = dir.raft_settings();
    raft_orderer::join::join(ledger, &me, &key, settings.endpoints.clone(), None)
        .context("joining the consortium network")?;
    let raft = Arc::new(
        RaftNode::start(ledger.clone(), me, key, settings).context("starting the raft orderer")?,
    );
    Ok((raft.clone(), Some(raft)))
}

/// Registers `/raft/status` and the signed `/raft/...` routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/raft/status", web::get().to(status))
        .route("/raft/{rest:.*}", web::route().to(peer_request));
}

async fn status(state: web::Data<Http>) -> HttpResponse {
    match &state.node.raft {
        Some(raft) => HttpResponse::Ok().json(raft.status()),
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_NETWORKED",
            "this peer orders its own blocks (orderer kind solo)",
        ),
    }
}

async fn peer_request(
    state: web::Data<Http>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let Some(raft) = state.node.raft.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_NETWORKED",
            "this peer orders its own blocks (orderer kind solo)",
        );
    };
    let body = match crate::http::read_body_at_most(
        payload,
        MAX_PEER_BODY,
        &format!("a peer request is at most {MAX_PEER_BODY} bytes"),
    )
    .await
    {
        Ok(b) => b.to_vec(),
        Err(resp) => return resp,
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let answer = raft
        .answer(PeerRequest {
            method: req.method().as_str(),
            path: req.path(),
            auth: Presented {
                peer: header(PEER_HEADER),
                time: header(TIME_HEADER),
                signature: header(SIGNATURE_HEADER),
            },
            body,
        })
        .await;
    HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .body(answer.body)
}
