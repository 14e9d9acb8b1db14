//! EMR documents over HTTP, on a peer with an `[emr]` store (bearer token of a member):
//!
//! - `POST /emr` stores a document: `{"patient", "document", "category", "content"}`
//!   (`content` in base64). The peer seals it in its own store and registers its SHA-256
//!   on the ledger (`consent/register_document`); the ledger never sees the content.
//! - `GET /emr/{document}?purpose=treatment` fetches one. The caller's access is decided
//!   on the in-memory consent index at the chain head, recorded on the ledger as a
//!   `consent/access` event (granted or denied), and the content is released only when
//!   the recorded decision grants it and it matches the digest on the ledger; a mismatch
//!   is answered `EMR_TAMPERED` and recorded as such.
//!
//! Document content, patient references and tokens are never logged.

use crate::api::Api;
use crate::auth::unauthenticated;
use crate::http::{Http, error, read_body};
use crate::node::Node;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use consent::{Category, MODULE, Purpose};
use ledger::{EventId, PatientRef, Receipt, Rejection};
use pedigree_graphql::Caller;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Longest a fetch waits for the consent index to reach the chain head.
pub const INDEX_WAIT: Duration = Duration::from_secs(5);

/// Registers `POST /emr` and `GET /emr/{document}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/emr", web::post().to(store))
        .route("/emr/{document}", web::get().to(fetch));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The caller and this peer's EMR store, or the answer refusing the request.
fn caller_and_store(
    state: &Http,
    api: &Api,
    req: &HttpRequest,
) -> Result<(Caller, Arc<emr::EmrStore>), Box<HttpResponse>> {
    let caller = match api.tokens.authenticate(req, &state.node.ledger) {
        Ok(Some(c)) => c,
        Ok(None) | Err(_) => return Err(Box::new(unauthenticated())),
    };
    let store = state.node.emr.clone().ok_or_else(|| {
        Box::new(error(
            StatusCode::NOT_FOUND,
            "EMR_NOT_KEPT",
            "this peer keeps no EMR documents (its peer.toml has no [emr] section)",
        ))
    })?;
    Ok((caller, store))
}

fn rejected(r: &Rejection) -> HttpResponse {
    let status = match &*r.code {
        "COMMIT_TIMEOUT" => StatusCode::GATEWAY_TIMEOUT,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "NO_CUSTODIAL_KEY" => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(status, &r.code, r.message.clone())
}

fn emr_failed(e: &emr::EmrError) -> HttpResponse {
    let status = match e {
        emr::EmrError::NotFound => StatusCode::NOT_FOUND,
        emr::EmrError::Exists | emr::EmrError::Tampered => StatusCode::CONFLICT,
        emr::EmrError::BadKey(_) | emr::EmrError::Store(_) => {
            tracing::error!(code = e.code(), "the EMR store failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, e.code(), e.to_string())
}

/// The receipt's one result: the event id, or the code it was refused with at apply.
fn applied(receipt: &Receipt) -> Result<EventId, Rejection> {
    match receipt.results.first() {
        Some((id, None)) => Ok(*id),
        Some((_, Some(code))) => Err(Rejection::new(
            code.clone(),
            format!(
                "the event was ordered into block {} but refused when applied ({code})",
                receipt.block_height
            ),
        )),
        None => Err(Rejection::new("UNAVAILABLE", "no event was committed")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreBody {
    patient: PatientRef,
    document: String,
    category: Category,
    /// Base64 (standard alphabet, padded).
    content: String,
}

async fn store(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let (caller, store) = match caller_and_store(&state, &api, &req) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    // At most MAX_BODY bytes of JSON: a document of about 6 MiB once base64-encoded.
    let body = match read_body(payload).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    // serde's message may quote the offending value; only say which field is wrong.
    let input: StoreBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_PAYLOAD",
                "send JSON {\"patient\": 64 hex digits (the keyed reference), \"document\": an opaque id, \"category\": medication|device|lab|imaging|notes, \"content\": base64}",
            );
        }
    };
    if let Err(r) = consent::check_document_id(&input.document) {
        return error(StatusCode::BAD_REQUEST, &r.code, r.message);
    }
    let Ok(content) = base64::engine::general_purpose::STANDARD.decode(&input.content) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_CONTENT",
            "`content` is not base64 (standard alphabet, padded)",
        );
    };
    if let Err(behind) = index_at_head(&state.node).await {
        return behind;
    }
    if state.node.consents.document(&input.document).is_some() {
        return error(
            StatusCode::CONFLICT,
            consent::codes::DUPLICATE_DOCUMENT,
            "a document with that id is already registered; choose another id",
        );
    }
    let document = input.document.clone();
    let sealed = {
        let store = store.clone();
        web::block(move || store.insert(&document, &content, now_ms())).await
    };
    let digest = match sealed {
        Ok(Ok(d)) => ledger::Digest(d),
        Ok(Err(e)) => return emr_failed(&e),
        Err(_) => return shutting_down(),
    };
    let payload = json!({
        "patient": input.patient,
        "document": input.document,
        "digest": digest,
        "category": input.category,
    });
    let outcome = state
        .node
        .commit_as(&caller.actor, MODULE, vec![("register_document", payload)])
        .await;
    let refused = match &outcome {
        Ok(receipt) => applied(receipt).err(),
        Err(r) if r.code == "COMMIT_TIMEOUT" => None,
        Err(r) => Some(r.clone()),
    };
    if let Some(r) = refused {
        // The ledger did not take it: the sealed copy goes too, so nothing unregistered stays.
        let document = input.document.clone();
        if let Ok(Err(e)) = web::block(move || store.remove(&document)).await {
            tracing::error!(code = e.code(), "undoing an EMR insert failed");
        }
        return rejected(&r);
    }
    match outcome {
        Ok(receipt) => HttpResponse::Created().json(json!({
            "document": input.document,
            "digest": digest,
            "event": receipt.results[0].0,
            "block_height": receipt.block_height,
        })),
        Err(r) => rejected(&r),
    }
}

/// Waits until the consent index reflects every block committed so far (the consent
/// state now), or answers `CONSENT_INDEX_BEHIND`.
async fn index_at_head(node: &Arc<Node>) -> Result<(), HttpResponse> {
    let head = node.ledger.head().height;
    let index = node.consents.clone();
    let caught_up = web::block(move || index.wait_for(head, INDEX_WAIT)).await;
    if matches!(caught_up, Ok(true)) {
        Ok(())
    } else {
        Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "CONSENT_INDEX_BEHIND",
            "the consent index has not caught up with the ledger; try again shortly",
        ))
    }
}

fn shutting_down() -> HttpResponse {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        "the peer is shutting down",
    )
}

#[derive(Deserialize)]
struct FetchQuery {
    purpose: Option<String>,
}

fn purpose(q: &FetchQuery) -> Option<Purpose> {
    let text = q.purpose.as_deref().unwrap_or("treatment");
    serde_json::from_value(json!(text)).ok()
}

/// What the peer found when it opened the document for a caller the index allowed.
enum Opened {
    /// Not opened: the index refused the caller.
    Withheld,
    /// The content, matching the digest on the ledger.
    Intact(Vec<u8>),
    /// Missing from the store, not opening, or not matching the digest.
    Tampered,
}

async fn fetch(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<FetchQuery>,
) -> HttpResponse {
    let (caller, store) = match caller_and_store(&state, &api, &req) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let Some(purpose) = purpose(&query) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_PURPOSE",
            "purpose is treatment, payment, research or recall_notification",
        );
    };
    let document = path.into_inner();
    let node: Arc<Node> = state.node.clone();
    if let Err(behind) = index_at_head(&node).await {
        return behind;
    }
    let Some((doc, pre)) =
        node.consents
            .decide_document(&document, &caller.org, &caller.actor, purpose, now_ms())
    else {
        return error(
            StatusCode::NOT_FOUND,
            consent::codes::UNKNOWN_DOCUMENT,
            "no document with that id is registered on the ledger",
        );
    };
    let opened = if pre.granted {
        let id = document.clone();
        match web::block(move || store.read_checked(&id, &doc.digest.0)).await {
            Ok(Ok(content)) => Opened::Intact(content),
            Ok(Err(emr::EmrError::Tampered | emr::EmrError::NotFound)) => Opened::Tampered,
            Ok(Err(e)) => return emr_failed(&e),
            Err(_) => return shutting_down(),
        }
    } else {
        Opened::Withheld
    };
    let tampered = matches!(opened, Opened::Tampered);
    let mut payload = json!({"document": document, "purpose": purpose});
    if tampered {
        payload["tampered"] = true.into();
    }
    let recorded = match node
        .commit_as(&caller.actor, MODULE, vec![("access", payload)])
        .await
    {
        Ok(receipt) => applied(&receipt),
        Err(r) => Err(r),
    };
    let event = match recorded {
        Ok(id) => id,
        Err(r) => return rejected(&r),
    };
    let record = {
        let node = node.clone();
        web::block(move || consent::access(&node.ledger, &event)).await
    };
    let record = match record {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) | Ok(Err(_)) => {
            tracing::error!(%event, "a committed access event has no record");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the access was committed but its record cannot be read; the operator was told",
            );
        }
        Err(_) => return shutting_down(),
    };
    tracing::info!(%event, granted = record.granted, reason = %record.reason, tampered, "EMR access recorded");
    if !record.granted {
        return HttpResponse::Forbidden().json(json!({
            "code": "CONSENT_DENIED",
            "reason": record.reason,
            "access_event": event,
            "message": "no consent in force covers this access; it was recorded as denied",
        }));
    }
    match opened {
        Opened::Intact(content) => HttpResponse::Ok()
            .content_type("application/octet-stream")
            .insert_header(("x-pedigree-access-event", event.to_hex()))
            .insert_header(("x-pedigree-digest", doc_digest_hex(&content)))
            .body(content),
        Opened::Tampered => HttpResponse::Conflict().json(json!({
            "code": "EMR_TAMPERED",
            "access_event": event,
            "message": "the stored document does not match its digest on the ledger; the access was recorded as tampered and the custodian told",
        })),
        Opened::Withheld => error(
            StatusCode::CONFLICT,
            "CONSENT_CHANGED",
            "consent changed while the access was being recorded; ask again",
        ),
    }
}

fn doc_digest_hex(content: &[u8]) -> String {
    hex::encode(emr::digest(content))
}
