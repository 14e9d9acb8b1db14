//! EPCIS 2.0 over HTTP, shaped after the EPCIS 2.0 REST binding where it fits:
//!
//! - `POST /epcis/capture` takes an EPCISDocument (JSON-LD) from an authenticated caller,
//!   signs each event it can record with the caller's custodial key (as the GraphQL
//!   mutations do) and answers once they are committed, per event: its `eventID`, its
//!   CBV 2.0 hash, and the ledger event id and block height, or a refusal with a stable
//!   code and reason. The binding's capture job is answered synchronously instead.
//! - `GET /epcis/events?code=C` (one unit's provenance) or `?since=T` (every event from
//!   block time T on, `perPage` at a time with `nextPageToken`) answers an EPCISDocument
//!   of the events the caller may see. Both read through the GraphQL schema in process,
//!   so the visibility rules are the API's own, in one place.
//!
//! Events of one document are admitted in order; an event that needs one before it to be
//! committed (a pack after its commission) is admitted again once the events before it
//! are, so a document reads as its sender meant it.

use crate::api::Api;
use crate::auth::unauthenticated;
use crate::http::{COMMIT_WAIT, Http, error, read_body};
use crate::node::Node;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use ledger::{Ledger, Rejection, Signer, VerifiedEnvelope};
use pedigree_graphql::{Action, Caller};
use serde::Deserialize;
use serde_json::{Value, json};
use trace::TraceEvent;
use trace::codes::DUPLICATE_EPCIS_EVENT;
use trace::epcis::{Capture, EpcisHash};

/// Most events one page of `GET /epcis/events?since=` holds.
pub const MAX_PER_PAGE: usize = 1_000;
/// Events per GraphQL page read behind it.
const GRAPHQL_PAGE: usize = 200;

/// Registers `/epcis/capture` and `/epcis/events`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/epcis/capture", web::post().to(capture))
        .route("/epcis/events", web::get().to(events));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The caller of a request with a valid bearer token (both routes need one).
fn authenticated(state: &Http, api: &Api, req: &HttpRequest) -> Option<Caller> {
    api.tokens
        .authenticate(req, &state.node.ledger)
        .ok()
        .flatten()
}

/// `POST /epcis/capture`.
async fn capture(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let Some(caller) = authenticated(&state, &api, &req) else {
        return unauthenticated();
    };
    let body = match read_body(payload).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let document: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("the body is not JSON: {e}"),
            );
        }
    };
    let Some(signer) = state.node.signers.get(&caller.actor).cloned() else {
        return error(
            StatusCode::FORBIDDEN,
            "NO_CUSTODIAL_KEY",
            format!(
                "this peer holds no key for {}; sign trace events yourself and POST them to /events",
                caller.actor
            ),
        );
    };
    let node = state.node.clone();
    let outcome = web::block(move || {
        let consortium = node.ledger.consortium();
        let captures = trace::epcis::capture(&document, &consortium, &caller.org)?;
        Ok::<_, Rejection>(record(&node, &signer, &caller, captures))
    })
    .await;
    let report = match outcome {
        Ok(Ok(report)) => report,
        Ok(Err(r)) => return error(StatusCode::BAD_REQUEST, &r.code, r.message),
        Err(_) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the peer is shutting down",
            );
        }
    };
    let committed = report.iter().filter(|r| r["status"] == "committed").count();
    let body = json!({
        "committed": committed,
        "refused": report.len() - committed,
        "events": report,
    });
    if committed == 0 {
        let mut body = body;
        body["code"] = report[0]["code"].clone();
        body["message"] = "no event was recorded; see events[] for each one's reason".into();
        return HttpResponse::UnprocessableEntity().json(body);
    }
    HttpResponse::Ok().json(body)
}

/// What the GraphQL mutations require of the caller for this event.
fn action(event: &TraceEvent) -> Action {
    match event {
        TraceEvent::Commission(_) => Action::Commission,
        TraceEvent::Dispense(_) => Action::Dispense,
        TraceEvent::Recall(_) => Action::IssueRecall,
        TraceEvent::Acknowledge(_) | TraceEvent::Disposition(_) => Action::AcknowledgeRecall,
        _ => Action::Custody,
    }
}

/// Per event of a document, what became of it.
struct Report {
    lines: Vec<Value>,
}

impl Report {
    fn new(captures: &[Capture]) -> Self {
        Self {
            lines: captures
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({
                        "index": i,
                        "eventID": c.event_id,
                        "hash": c.hash.as_ref().map(EpcisHash::as_str),
                        "kind": c.outcome.as_ref().ok().map(TraceEvent::kind),
                        "status": "pending",
                    })
                })
                .collect(),
        }
    }

    fn refuse(&mut self, i: usize, r: &Rejection, ledger: &Ledger, hash: Option<&EpcisHash>) {
        let line = &mut self.lines[i];
        line["status"] = "refused".into();
        line["code"] = r.code.as_ref().into();
        line["message"] = r.message.clone().into();
        if r.code == DUPLICATE_EPCIS_EVENT
            && let Some(Ok(Some(earlier))) =
                hash.map(|h| trace::epcis::capture::imported(ledger, h))
        {
            line["duplicate_of"] = earlier.to_hex().into();
        }
    }
}

/// Admits, orders and commits the recordable events of a document in order.
fn record(node: &Node, signer: &Signer, caller: &Caller, captures: Vec<Capture>) -> Vec<Value> {
    let mut report = Report::new(&captures);
    let mut batch: Vec<(usize, VerifiedEnvelope)> = Vec::new();
    let mut failed: Option<Rejection> = None;
    for (i, c) in captures.iter().enumerate() {
        if let Some(f) = &failed {
            report.refuse(i, f, &node.ledger, None);
            continue;
        }
        let event = match &c.outcome {
            Ok(e) => e,
            Err(r) => {
                report.refuse(i, r, &node.ledger, None);
                continue;
            }
        };
        if let Err(e) = caller.may(action(event)) {
            report.refuse(
                i,
                &Rejection::new("FORBIDDEN", e.message),
                &node.ledger,
                None,
            );
            continue;
        }
        let payload = c.payload().expect("a captured event has its hash");
        // At most: one retry after the pending events are committed, two after a nonce
        // lost to a concurrent signer of the same actor.
        let mut nonce_retries = 0;
        loop {
            let envelope = signer.event(trace::MODULE, event.kind(), payload.clone());
            let answer = node.ledger.admit(vec![envelope]).pop().expect("one answer");
            match answer {
                Ok(v) => {
                    batch.push((i, v));
                    break;
                }
                Err(_) if !batch.is_empty() => {
                    if let Err(f) = commit(node, std::mem::take(&mut batch), &mut report) {
                        report.refuse(i, &f, &node.ledger, None);
                        failed = Some(f);
                        break;
                    }
                }
                Err(r)
                    if r.code == ledger::rejection::codes::NONCE_REPLAYED && nonce_retries < 2 =>
                {
                    nonce_retries += 1;
                }
                Err(r) => {
                    report.refuse(i, &r, &node.ledger, c.hash.as_ref());
                    break;
                }
            }
        }
    }
    if !batch.is_empty()
        && let Err(f) = commit(node, batch, &mut report)
    {
        tracing::warn!(code = %f.code, "an EPCIS capture batch was not committed");
    }
    report.lines
}

/// Orders a batch and waits for its block; each event committed or refused at apply.
fn commit(
    node: &Node,
    batch: Vec<(usize, VerifiedEnvelope)>,
    report: &mut Report,
) -> Result<(), Rejection> {
    let (index, envelopes): (Vec<usize>, Vec<VerifiedEnvelope>) = batch.into_iter().unzip();
    let hashes: Vec<Option<EpcisHash>> = envelopes
        .iter()
        .map(|v| {
            let e = v.envelope();
            TraceEvent::parse_imported(e.kind(), e.payload())
                .ok()
                .and_then(|(_, h)| h)
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    node.orderer
        .submit(envelopes, Box::new(move |r| drop(tx.send(r))));
    let outcome = match rx.recv_timeout(COMMIT_WAIT) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Rejection::new(
            "COMMIT_TIMEOUT",
            "the events were accepted but not committed within 10 s; export them before importing again",
        )),
        Err(_) => Err(Rejection::new(
            "UNAVAILABLE",
            "the ordering service stopped",
        )),
    };
    let receipt = match outcome {
        Ok(r) => r,
        Err(f) => {
            for i in index {
                report.refuse(i, &f, &node.ledger, None);
            }
            return Err(f);
        }
    };
    for ((i, (id, code)), hash) in index.into_iter().zip(receipt.results).zip(hashes) {
        let line = &mut report.lines[i];
        line["id"] = id.to_hex().into();
        line["block_height"] = receipt.block_height.into();
        match code {
            None => line["status"] = "committed".into(),
            Some(code) => {
                let r = Rejection::new(
                    code.clone(),
                    format!(
                        "kept in block {} but refused when applied ({code}); nothing changed",
                        receipt.block_height
                    ),
                );
                report.refuse(i, &r, &node.ledger, hash.as_ref());
            }
        }
    }
    Ok(())
}

/// Query of `GET /epcis/events`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsQuery {
    code: Option<String>,
    since: Option<String>,
    per_page: Option<usize>,
    next_page_token: Option<String>,
}

/// `GET /epcis/events`.
async fn events(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    query: web::Query<EventsQuery>,
) -> HttpResponse {
    let Some(caller) = authenticated(&state, &api, &req) else {
        return unauthenticated();
    };
    let q = query.into_inner();
    let read = match (&q.code, &q.since) {
        (Some(code), None) => by_code(&state, caller, code).await,
        (None, Some(since)) => by_time(&state, caller, since, &q).await,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_QUERY",
                "ask for one of ?code=<scan or code> or ?since=<ISO 8601 time or Unix ms>",
            );
        }
    };
    let (events, next) = match read {
        Ok(page) => page,
        Err(resp) => return resp,
    };
    let consortium = state.node.ledger.consortium();
    let list: Vec<Value> = events
        .iter()
        .filter(|e| e["module"] == trace::MODULE && e["refused"].is_null())
        .filter_map(|e| {
            let org = e["org"].as_str()?.parse().ok()?;
            trace::epcis::export_event(
                e["kind"].as_str()?,
                &e["payload"],
                &org,
                e["time"].as_i64()?,
                &consortium,
            )
        })
        .collect();
    let mut resp = HttpResponse::Ok();
    resp.content_type("application/ld+json");
    if let Some(token) = next {
        let per_page = q.per_page.unwrap_or(MAX_PER_PAGE).clamp(1, MAX_PER_PAGE);
        let since = q.since.unwrap_or_default();
        resp.insert_header((
            "link",
            format!(
                "</epcis/events?since={}&perPage={per_page}&nextPageToken={token}>; rel=\"next\"",
                percent(&since)
            ),
        ));
        resp.insert_header(("gs1-next-page-token", token));
    }
    resp.json(trace::epcis::document(list, now_ms()))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

type Page = Result<(Vec<Value>, Option<String>), HttpResponse>;

/// Runs a GraphQL read as `caller`; a GraphQL error becomes an HTTP error with its code.
async fn graphql(
    state: &Http,
    caller: Caller,
    query: &str,
    variables: Value,
) -> Result<Value, HttpResponse> {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(caller);
    let response = state.schema.execute(request).await;
    if let Some(e) = response.errors.first() {
        let code = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|c| c.as_str().map(str::to_string))
            .unwrap_or_else(|| "BAD_QUERY".into());
        let status = if code == "INTERNAL" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        return Err(error(status, &code, e.message.clone()));
    }
    response
        .data
        .into_json()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))
}

const EVENT_FIELDS: &str = "module kind org time payload refused";

async fn by_code(state: &Http, caller: Caller, code: &str) -> Page {
    let query = format!(
        "query($code: String!) {{ provenance(code: $code) {{ events {{ {EVENT_FIELDS} }} }} }}"
    );
    let data = graphql(state, caller, &query, json!({"code": code})).await?;
    let events = data
        .pointer("/provenance/events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok((events, None))
}

/// The last height whose block time is before `since` (blocks are in time order).
fn height_before(ledger: &Ledger, since: i64) -> Result<Option<u64>, ledger::StoreError> {
    let (mut lo, mut hi) = (0u64, ledger.head().height + 1);
    // invariant: every block below lo is before `since`; none from hi on is
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let time = ledger.block(mid)?.map_or(i64::MAX, |b| b.header.time);
        if time < since {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo.checked_sub(1))
}

async fn by_time(state: &Http, caller: Caller, since: &str, q: &EventsQuery) -> Page {
    let since_ms = since
        .parse::<i64>()
        .ok()
        .or_else(|| trace::epcis::uri::unix_ms(since))
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "BAD_QUERY",
                "since is an ISO 8601 time (2026-01-01T00:00:00Z) or Unix milliseconds",
            )
        })?;
    let per_page = q.per_page.unwrap_or(MAX_PER_PAGE).clamp(1, MAX_PER_PAGE);
    let mut after = match &q.next_page_token {
        Some(t) => Some(t.clone()),
        None => {
            let node = state.node.clone();
            let before = web::block(move || height_before(&node.ledger, since_ms))
                .await
                .map_err(|_| {
                    error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "UNAVAILABLE",
                        "the peer is shutting down",
                    )
                })?
                .map_err(|e| {
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        e.code(),
                        "the store failed",
                    )
                })?;
            before.map(|h| format!("{h}:{}", u32::MAX))
        }
    };
    let query = format!(
        "query($since: Int!, $after: String, $first: Int!) {{ events(since: $since, after: $after, first: $first) {{ pageInfo {{ hasNextPage }} nextCursor edges {{ node {{ {EVENT_FIELDS} }} }} }} }}"
    );
    let mut out = Vec::new();
    // bounded: each round adds a page or ends; a page without events still moves on
    for _ in 0..10_000 {
        let first = (per_page - out.len()).min(GRAPHQL_PAGE);
        let vars = json!({"since": since_ms, "after": after, "first": first});
        let data = graphql(state, caller.clone(), &query, vars).await?;
        let page = &data["events"];
        out.extend(
            page["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["node"].clone()),
        );
        let next = page["nextCursor"].as_str().map(str::to_string);
        match next {
            Some(n) if page["pageInfo"]["hasNextPage"] == true => {
                after = Some(n);
                if out.len() >= per_page {
                    return Ok((out, after));
                }
            }
            _ => return Ok((out, None)),
        }
    }
    Ok((out, after))
}
