//! Stable error codes in `extensions.code`, and the extension that gives one to every
//! error async-graphql raises itself (parse, validation, depth and complexity limits).

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensions, Response, ServerError, ServerResult, ValidationResult, Variables,
};
use std::sync::Arc;

/// No bearer token, or one that names no active actor.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// The caller's roles do not allow this.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// A code argument is not a readable scan.
pub const BAD_CODE: &str = "BAD_CODE";
/// An argument is malformed (date, organisation, id...).
pub const BAD_INPUT: &str = "BAD_INPUT";
/// Nothing with that id or height.
pub const NOT_FOUND: &str = "NOT_FOUND";
/// The events were accepted but not committed in time.
pub const COMMIT_TIMEOUT: &str = "COMMIT_TIMEOUT";
/// The query text does not parse.
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The query names fields or arguments the schema does not have.
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// The query nests deeper than [`crate::MAX_DEPTH`].
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// The query costs more than [`crate::MAX_COMPLEXITY`].
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// The store failed; the operator was told.
pub const INTERNAL: &str = "INTERNAL";

/// An error with a stable `extensions.code`.
pub fn error(code: &str, message: impl Into<String>) -> async_graphql::Error {
    let code = code.to_string();
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// The error for a store failure: its code, never its details.
pub fn internal(e: impl std::fmt::Display) -> async_graphql::Error {
    // Store errors name keys and heights, never personal data.
    tracing::error!(error = %e, "store error while answering a GraphQL request");
    error(
        INTERNAL,
        "the peer's store failed; try again, the operator was told",
    )
}

fn coded(mut e: ServerError, code: &str) -> ServerError {
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if !has_code {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code.to_string());
    }
    e
}

/// Gives every error raised by async-graphql itself a stable code.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut resp = next.run(ctx).await;
        resp.errors = std::mem::take(&mut resp.errors)
            .into_iter()
            .map(|e| coded(e, INTERNAL))
            .collect();
        resp
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| coded(e, GRAPHQL_PARSE_FAILED))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if e.message.contains("too complex") {
                        QUERY_TOO_COMPLEX
                    } else if e.message.contains("too deep") {
                        QUERY_TOO_DEEP
                    } else {
                        GRAPHQL_VALIDATION_FAILED
                    };
                    coded(e, code)
                })
                .collect()
        })
    }
}
