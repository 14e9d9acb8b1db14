//! GraphQL over HTTP: `POST /graphql` (bearer token; none means anonymous, where only
//! `chain` and `organizations` answer), the `/graphql` websocket for subscriptions
//! (`graphql-transport-ws` or `graphql-ws`; the token in the upgrade request's
//! `Authorization` header or in `connection_init`'s payload), and GraphiQL at
//! `/graphiql`. A wrong token is answered 401 `UNAUTHENTICATED` on both.

use crate::auth::{Tokens, token_in, unauthenticated};
use crate::http::{Http, error};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, guard, web};
use async_graphql::Data;
use async_graphql_actix_web::GraphQLSubscription;
use pedigree_graphql::errors::{self, UNAUTHENTICATED};
use std::sync::Arc;

/// Largest GraphQL request body accepted.
pub const MAX_GRAPHQL_BODY: usize = 256 * 1024;

/// What the GraphQL handlers share besides [`Http`].
pub struct Api {
    /// The data directory's tokens.
    pub tokens: Arc<Tokens>,
}

/// Registers `/graphql` (POST and websocket) and `/graphiql`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql").route(web::post().to(post)).route(
            web::get()
                .guard(guard::Header("upgrade", "websocket"))
                .to(websocket),
        ),
    )
    .route("/graphiql", web::get().to(graphiql));
}

async fn post(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    // A member's token, else a patient's (which only the consent fields accept).
    let (caller, patient) = match api.tokens.authenticate(&req, &state.node.ledger) {
        Ok(c) => (c, None),
        Err(_) => match api.tokens.patient(&req, &state.node.ledger) {
            Some(p) => (None, Some(p)),
            None => return unauthenticated(),
        },
    };
    let body = match crate::http::read_body_at_most(payload, MAX_GRAPHQL_BODY, &format!("a GraphQL request is at most {MAX_GRAPHQL_BODY} bytes; use variables and smaller batches")).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                format!("not a GraphQL request (JSON with `query`, optional `variables`): {e}"),
            );
        }
    };
    if let Some(c) = caller {
        request = request.data(c);
    }
    if let Some(p) = patient {
        request = request.data(p);
    }
    request = request.data(crate::fhir_http::claims_peer(&state.node));
    HttpResponse::Ok().json(state.schema.execute(request).await)
}

async fn websocket(
    state: web::Data<Http>,
    api: web::Data<Api>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let from_header = match api.tokens.authenticate(&req, &state.node.ledger) {
        Ok(c) => c,
        Err(_) => return Ok(unauthenticated()),
    };
    let tokens = api.tokens.clone();
    let ledger = state.node.ledger.clone();
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |init| async move {
            let caller =
                from_header.or_else(|| token_in(&init).and_then(|t| tokens.caller(&t, &ledger)));
            match caller {
                Some(c) => {
                    let mut data = Data::default();
                    data.insert(c);
                    Ok(data)
                }
                None => Err(errors::error(
                    UNAUTHENTICATED,
                    "send the token in connection_init: {\"Authorization\": \"Bearer <token>\"}",
                )),
            }
        })
        .start(&req, payload)
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            async_graphql::http::GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql")
                .title("Pedigree GraphiQL")
                .finish(),
        )
}
