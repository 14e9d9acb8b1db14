//! FHIR claims over HTTP, bearer token required:
//!
//! - `POST /fhir/Claim`: a pharmacy or hospital sends a FHIR R4 Claim (items naming their
//!   dispense or implant events, see `claims::fhir`); the peer signs the `submit` with the
//!   caller's custodial key. When this peer also holds a key of the payer's adjudicator
//!   (the payer's own peer, or the demo), it adjudicates at once and answers 200 with the
//!   ClaimResponse; otherwise 202 with a `queued` ClaimResponse, to be read again later.
//!   Either way `Location` names `/fhir/ClaimResponse/{id}`.
//! - `GET /fhir/ClaimResponse/{id}` and `GET /fhir/Claim/{id}`: by the claim's submit
//!   event id, for its provider, its payer and regulators.
//!
//! Errors are the peer's usual `{"code", "message"}` bodies; refused FHIR carries the
//! `FHIR_*` code, and a refused claim the module's code (`DUPLICATE_CLAIM`...).
//!
//! Also the peer side of the GraphQL [`ClaimsPeer`]: claims events signed and committed.

use crate::api::Api;
use crate::http::{Http, error};
use crate::node::Node;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use claims::fhir::{self, ImportContext};
use ledger::{ActorId, EventId, OrgId, OrgRole, Receipt, Rejection};
use pedigree_graphql::{Caller, ClaimsPeer, SubmitFuture};
use serde_json::Value;
use std::sync::Arc;

/// Largest FHIR Claim accepted.
pub const MAX_FHIR_BODY: usize = 1024 * 1024;
const FHIR_JSON: &str = "application/fhir+json";

/// Registers the FHIR claims routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/fhir/Claim", web::post().to(post_claim))
        .route("/fhir/Claim/{id}", web::get().to(get_claim))
        .route("/fhir/ClaimResponse/{id}", web::get().to(get_response));
}

/// Signs `module/kind` with `actor`'s custodial key on this peer, admits and orders it,
/// and resolves once committed (within [`crate::http::COMMIT_WAIT`]).
pub async fn commit_as(
    node: &Node,
    actor: &ActorId,
    module: &str,
    kind: &str,
    payload: Value,
) -> Result<Receipt, Rejection> {
    node.commit_as(actor, module, vec![(kind, payload)]).await
}

/// The receipt of one committed event, or its refusal (at admission or at apply).
async fn commit_one(
    node: &Node,
    actor: &ActorId,
    kind: &str,
    payload: Value,
) -> Result<EventId, Rejection> {
    let receipt = commit_as(node, actor, claims::MODULE, kind, payload).await?;
    match receipt.results.into_iter().next() {
        Some((id, None)) => Ok(id),
        Some((id, Some(code))) => Err(Rejection::new(
            code.clone(),
            format!("event {id} was ordered but refused when applied ({code})"),
        )),
        None => Err(Rejection::new("UNAVAILABLE", "no result for the event")),
    }
}

/// The GraphQL schema's way to sign claims events on this peer.
pub struct ClaimsLink(pub Arc<Node>);

impl ClaimsPeer for ClaimsLink {
    fn submit_claims(&self, actor: &ActorId, kind: &'static str, payload: Value) -> SubmitFuture {
        let node = self.0.clone();
        let actor = actor.clone();
        Box::pin(async move { commit_as(&node, &actor, claims::MODULE, kind, payload).await })
    }
}

/// A [`ClaimsPeer`] over `node`, for a GraphQL request's data.
pub fn claims_peer(node: &Arc<Node>) -> Arc<dyn ClaimsPeer> {
    Arc::new(ClaimsLink(node.clone()))
}

fn refused(r: Rejection) -> HttpResponse {
    let status = match r.code.as_ref() {
        "COMMIT_TIMEOUT" => StatusCode::GATEWAY_TIMEOUT,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "NO_CUSTODIAL_KEY" => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(status, &r.code, r.message)
}

fn fhir(status: StatusCode, id: &EventId, resource: Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(FHIR_JSON)
        .insert_header(("location", format!("/fhir/ClaimResponse/{id}")))
        .json(resource)
}

/// The authenticated caller; `None` (answered 401) without a valid token.
fn caller(state: &Http, api: &Api, req: &HttpRequest) -> Option<Caller> {
    api.tokens
        .authenticate(req, &state.node.ledger)
        .ok()
        .flatten()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An actor of `payer` whose key this peer holds and who adjudicates.
fn adjudicator(node: &Node, payer: &OrgId) -> Option<ActorId> {
    let consortium = node.ledger.consortium();
    let org = consortium.organization(payer)?;
    org.actors
        .iter()
        .filter(|a| !a.revoked && a.roles.iter().any(|r| r == "adjudicator"))
        .map(|a| a.id.clone())
        .find(|id| node.signers.contains_key(id))
}

async fn post_claim(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let Some(caller) = caller(&state, &api, &req) else {
        return crate::auth::unauthenticated();
    };
    let provider_kind = matches!(caller.org_role, OrgRole::Pharmacy | OrgRole::Hospital);
    let may = ["pharmacist", "operator", "admin"];
    if !provider_kind || !caller.roles.iter().any(|r| may.contains(&r.as_str())) {
        return error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "only a pharmacist, operator or admin of a pharmacy or hospital submits claims",
        );
    }
    let body = match crate::http::read_body_at_most(
        payload,
        MAX_FHIR_BODY,
        &format!("a FHIR Claim is at most {MAX_FHIR_BODY} bytes"),
    )
    .await
    {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let resource: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("the body is not JSON: {e}"),
            );
        }
    };
    let node = state.node.clone();
    let consortium = node.ledger.consortium();
    let context = ImportContext::new(caller.org.clone(), &consortium);
    let submit = match fhir::import_claim(&resource, &context) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.code, e.message),
    };
    let payload = serde_json::to_value(&submit).expect("a submit serialises");
    let submitted = match commit_one(&node, &caller.actor, "submit", payload).await {
        Ok(id) => id,
        Err(r) => return refused(r),
    };
    let mut responded = now_ms();
    if let Some(actor) = adjudicator(&node, &submit.payer) {
        let request = serde_json::json!({"provider": caller.org, "claim": submit.claim});
        match commit_one(&node, &actor, "adjudicate", request).await {
            Ok(_) => responded = now_ms(),
            // The claim stands; the payer can still adjudicate it.
            Err(r) => {
                tracing::warn!(code = %r.code, claim = %submit.claim, "automatic adjudication failed")
            }
        }
    }
    let found = web::block(move || claims::claim(&node.ledger, &caller.org, &submit.claim)).await;
    match found {
        Ok(Ok(Some(record))) => {
            let status = if record.outcome.is_some() {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            fhir(
                status,
                &submitted,
                fhir::export_claim_response(&record, responded),
            )
        }
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the claim was committed but cannot be read back; fetch /fhir/ClaimResponse/{id} later",
        ),
    }
}

/// A claim by its submit event id, for a caller allowed to read it.
async fn readable(
    state: &web::Data<Http>,
    api: &web::Data<Api>,
    req: &HttpRequest,
    id: &str,
) -> Result<(claims::ClaimRecord, i64, EventId), HttpResponse> {
    let caller = caller(state, api, req).ok_or_else(crate::auth::unauthenticated)?;
    let Ok(id) = id.parse::<EventId>() else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BAD_ID",
            "a claim's FHIR id is its submit event id, 64 lowercase hex digits",
        ));
    };
    let node = state.node.clone();
    let found = web::block(move || claims::claim_by_event(&node.ledger, &id)).await;
    let (record, created) = match found {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "UNKNOWN_CLAIM",
                format!("no claim was submitted by event {id}"),
            ));
        }
        _ => {
            return Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the store failed; the operator was told",
            ));
        }
    };
    let allowed = caller.org == record.provider
        || caller.org == record.payer
        || caller.org_role == OrgRole::Regulator;
    if !allowed {
        return Err(error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "only the provider, the payer and a regulator read a claim",
        ));
    }
    Ok((record, created, id))
}

async fn get_claim(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    match readable(&state, &api, &req, &id).await {
        Ok((record, created, id)) => {
            fhir(StatusCode::OK, &id, fhir::export_claim(&record, created))
        }
        Err(resp) => resp,
    }
}

async fn get_response(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let (record, _, id) = match readable(&state, &api, &req, &id).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let created = match record.adjudicated {
        Some(e) => {
            let node = state.node.clone();
            web::block(move || claims::signed_at(&node.ledger, &e))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten()
                .unwrap_or_default()
        }
        None => now_ms(),
    };
    fhir(
        StatusCode::OK,
        &id,
        fhir::export_claim_response(&record, created),
    )
}
