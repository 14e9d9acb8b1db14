//! The peer's HTTP surface: `/healthz`, `/metrics`, and the ledger's own JSON routes
//! (`POST /events`, `GET /events/{id}`, `GET /blocks/{height}`, `GET /chain`). Every error
//! body is `{"code": STABLE_CODE, "message": ...}`.

use crate::node::Node;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use ledger::{Envelope, EventId, Rejection, VerifiedEnvelope};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest request body accepted on `POST /events`.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// Most events in one request.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;
/// How long a request waits for its events to be committed.
pub const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// Shared state of the HTTP handlers.
pub struct Http {
    /// The peer.
    pub node: Arc<Node>,
    /// The GraphQL schema over the peer's ledger.
    pub schema: pedigree_graphql::PedigreeSchema,
    /// Renders Prometheus metrics.
    pub metrics: PrometheusHandle,
}

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::api::routes)
        .configure(crate::resolver::routes)
        .configure(crate::emr_http::routes)
        .configure(crate::fhir_http::routes)
        .configure(crate::epcis_http::routes)
        .configure(crate::network::routes)
        .route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/chain", web::get().to(chain))
        .route("/events", web::post().to(post_events))
        .route("/events/{id}", web::get().to(get_event))
        .route("/blocks/{height}", web::get().to(get_block))
        .route("/claims/{provider}/{claim}", web::get().to(get_claim));
}

/// An error response with a stable code.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": code, "message": message.into()}))
}

async fn healthz(state: web::Data<Http>) -> HttpResponse {
    let head = state.node.ledger.head();
    HttpResponse::Ok()
        .json(json!({"status": "ok", "height": head.height, "peer": state.node.dir.config.peer_id}))
}

async fn metrics(state: web::Data<Http>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

async fn chain(state: web::Data<Http>) -> HttpResponse {
    let head = state.node.ledger.head();
    let consortium = state.node.ledger.consortium();
    HttpResponse::Ok().json(json!({
        "height": head.height,
        "head_hash": head.hash,
        "time": head.time,
        "events": head.next_seq,
        "state_digest": head.state_digest,
        "consortium": consortium.name,
        "peer": state.node.dir.config.peer_id,
    }))
}

/// Reads a request body of at most [`MAX_BODY`] bytes.
pub(crate) async fn read_body(payload: web::Payload) -> Result<web::BytesMut, HttpResponse> {
    read_body_at_most(
        payload,
        MAX_BODY,
        &format!("the body exceeds {MAX_BODY} bytes; send fewer events per request"),
    )
    .await
}

/// Reads a request body of at most `limit` bytes; a longer one is answered
/// `PAYLOAD_TOO_LARGE` with `too_large` as the message.
pub(crate) async fn read_body_at_most(
    mut payload: web::Payload,
    limit: usize,
    too_large: &str,
) -> Result<web::BytesMut, HttpResponse> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("reading the body failed: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                too_large,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `POST /events`: a JSON array of signed envelopes (or one envelope). Each event is
/// admitted or refused on its own; the admitted ones are ordered and the response comes
/// once they are committed.
async fn post_events(state: web::Data<Http>, payload: web::Payload) -> HttpResponse {
    let started = Instant::now();
    let body = match read_body(payload).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let items = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items,
        Ok(one @ Value::Object(_)) => vec![one],
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                "send a JSON array of events, or one event object",
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("the body is not JSON: {e}"),
            );
        }
    };
    if items.is_empty() || items.len() > MAX_EVENTS_PER_REQUEST {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_BATCH",
            format!("send between 1 and {MAX_EVENTS_PER_REQUEST} events per request"),
        );
    }
    let node = state.node.clone();
    // Parsing, canonical encoding and signature checks are CPU work: off the IO threads.
    let outcome = web::block(move || {
        // Parse failures keep their place; the parsed events go to admission together.
        let mut good = Vec::with_capacity(items.len());
        let parsed: Vec<Result<(), Rejection>> = items
            .into_iter()
            .map(|item| Envelope::from_value(item).map(|e| good.push(e)))
            .collect();
        let mut admitted = node.ledger.admit(good).into_iter();
        parsed
            .into_iter()
            .map(|p| p.and_then(|()| admitted.next().expect("one answer per parsed event")))
            .collect::<Vec<Result<VerifiedEnvelope, Rejection>>>()
    })
    .await;
    let Ok(answers) = outcome else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the peer is shutting down",
        );
    };
    let mut report: Vec<Value> = Vec::with_capacity(answers.len());
    let mut to_order = Vec::new();
    for a in answers {
        match a {
            Ok(v) => {
                report.push(json!({"id": v.envelope().id(), "status": "pending"}));
                to_order.push(v);
            }
            Err(r) => {
                metrics::counter!("pedigree_events_refused_total", "code" => r.code.to_string())
                    .increment(1);
                report.push(json!({"status": "refused", "code": r.code, "message": r.message}));
            }
        }
    }
    if to_order.is_empty() {
        let code = report[0]["code"].as_str().unwrap_or("REFUSED").to_string();
        return HttpResponse::UnprocessableEntity().json(json!({
            "code": code,
            "message": "no event was accepted; see events[] for each one's reason",
            "events": report,
        }));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    state
        .node
        .orderer
        .submit(to_order, Box::new(move |r| drop(tx.send(r))));
    let receipt = match tokio::time::timeout(COMMIT_WAIT, rx).await {
        Ok(Ok(Ok(receipt))) => receipt,
        Ok(Ok(Err(r))) => return error(StatusCode::SERVICE_UNAVAILABLE, &r.code, r.message),
        Ok(Err(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the ordering service stopped",
            );
        }
        Err(_) => {
            return error(
                StatusCode::GATEWAY_TIMEOUT,
                "COMMIT_TIMEOUT",
                "the events were accepted but not committed within 10 s; query them by id before resubmitting",
            );
        }
    };
    metrics::histogram!("pedigree_commit_seconds").record(started.elapsed().as_secs_f64());
    let mut results = receipt.results.into_iter();
    for r in report.iter_mut().filter(|r| r["status"] == "pending") {
        let (_, code) = results.next().expect("one result per ordered event");
        match code {
            None => r["status"] = "committed".into(),
            Some(code) => {
                r["status"] = "kept_refused".into();
                r["code"] = code.into();
            }
        }
    }
    HttpResponse::Ok().json(json!({
        "block_height": receipt.block_height,
        "block_hash": receipt.block_hash,
        "events": report,
    }))
}

async fn get_event(state: web::Data<Http>, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = id.parse::<EventId>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_EVENT_ID",
            "an event id is 64 lowercase hex digits",
        );
    };
    let node = state.node.clone();
    let found = web::block(move || {
        let Some(record) = node.ledger.event(&id)? else {
            return Ok(None);
        };
        Ok(node
            .ledger
            .proof(&id)?
            .map(|(header, proof)| (record, header, proof)))
    })
    .await;
    answer(
        found,
        ("UNKNOWN_EVENT", format!("no event {id} on this ledger")),
        |(record, header, proof)| {
            HttpResponse::Ok().json(json!({
                "event": record.envelope.to_json_value(),
                "id": record.envelope.id(),
                "block_height": record.height,
                "index": record.index,
                "result": record.result,
                "block_hash": header.hash(),
                "merkle_root": header.merkle_root,
                "proof": proof,
            }))
        },
    )
}

/// Answers a store read done off the IO threads: the value, a 404 naming what is
/// missing, or a logged store failure.
fn answer<T>(
    outcome: Result<Result<Option<T>, ledger::StoreError>, actix_web::error::BlockingError>,
    missing: (&str, String),
    found: impl FnOnce(T) -> HttpResponse,
) -> HttpResponse {
    match outcome {
        Ok(Ok(Some(value))) => found(value),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, missing.0, missing.1),
        Ok(Err(e)) => {
            tracing::error!(code = e.code(), error = %e, "a store read failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.code(),
                "the store failed; the operator was told",
            )
        }
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the peer is shutting down",
        ),
    }
}

async fn get_block(state: web::Data<Http>, height: web::Path<String>) -> HttpResponse {
    let Ok(height) = height.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_HEIGHT",
            "a block height is a whole number",
        );
    };
    let node = state.node.clone();
    let found = web::block(move || node.ledger.block(height)).await;
    answer(
        found,
        ("UNKNOWN_BLOCK", format!("no block at height {height}")),
        |block| HttpResponse::Ok().json(block.to_json_value()),
    )
}

/// `GET /claims/{provider}/{claim}`: a claim with its adjudication (the FHIR
/// ClaimResponse's content). Only the provider, the payer named on it and a regulator may
/// read it, with a bearer token.
async fn get_claim(
    state: web::Data<Http>,
    api: web::Data<crate::api::Api>,
    req: actix_web::HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let caller = match api.tokens.authenticate(&req, &state.node.ledger) {
        Ok(Some(c)) => c,
        Ok(None) | Err(_) => return crate::auth::unauthenticated(),
    };
    let (provider, number) = path.into_inner();
    let Ok(provider) = provider.parse::<ledger::OrgId>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_ORG",
            "an organisation id is lowercase letters, digits, - . _",
        );
    };
    let node = state.node.clone();
    let found = web::block(move || claims::claim(&node.ledger, &provider, &number)).await;
    answer(found, ("UNKNOWN_CLAIM", "no such claim".into()), |c| {
        let allowed = caller.org == c.provider
            || caller.org == c.payer
            || caller.org_role == ledger::OrgRole::Regulator;
        if allowed {
            HttpResponse::Ok().json(c)
        } else {
            error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "only the provider, the payer and a regulator read a claim",
            )
        }
    })
}
