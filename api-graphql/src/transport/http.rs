//! GraphQL over HTTP, per the GraphQL-over-HTTP specification.
//!
//! - `POST /graphql` with `Content-Type: application/json`
//!   (`{"query", "variables", "operationName", "extensions"}`); any
//!   operation type.
//! - `GET /graphql?query=...&variables=...&operationName=...`: queries
//!   only (a mutation gets 405 with `Allow: POST`). With `Accept:
//!   text/html` and no `query`, GraphiQL.
//! - The answer is `application/graphql-response+json` when the client
//!   accepts it, else `application/json`; a client accepting neither gets
//!   406. With `application/graphql-response+json`, a request that fails
//!   before execution (unparsable, invalid, too deep, too complex, bad
//!   variables) is 400 without `data`; with `application/json` it is 200,
//!   as the specification asks for legacy clients. A body that is not a
//!   GraphQL request is 400, a wrong content type 415, an oversized body
//!   413.
//! - `Authorization: Bearer <token>` or the console's session cookie is
//!   required; without a valid one the answer is 401 with
//!   `UNAUTHENTICATED`. A cookie request from another origin, or without
//!   `X-Livedesk-Console`, is 403 `FORBIDDEN` ([`crate::console::cookie`]).

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerError, Variables};
use axum::body::{Body, to_bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

use super::{code_argument_errors, coded_error, operation_type, request_error};
use crate::GraphQl;
use crate::console::authenticate_request;
use crate::error::ApiError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The media type of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// Picks the answer's media type from `Accept` (none means JSON).
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|part| part.split(';').next().unwrap_or_default().trim())
        .collect();
    if types.iter().any(|t| t.eq_ignore_ascii_case(GRAPHQL_RESPONSE)) {
        Some(Media::GraphqlResponse)
    } else if types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(JSON) || *t == "application/*" || *t == "*/*")
    {
        Some(Media::Json)
    } else {
        None
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// An answer with a status, in the negotiated media type.
fn answer(status: StatusCode, media: Media, response: &Response, omit_data: bool) -> axum::response::Response {
    let body = if omit_data {
        serde_json::json!({ "errors": response.errors })
    } else {
        serde_json::to_value(response).unwrap_or_else(|_| serde_json::json!({ "errors": [] }))
    };
    let mut out = (status, body.to_string()).into_response();
    out.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    out
}

/// An error answered before execution.
fn refuse(status: StatusCode, media: Media, error: ServerError) -> axum::response::Response {
    answer(status, media, &Response::from_errors(vec![error]), true)
}

/// The GET parameters of a GraphQL request.
#[derive(Debug, Deserialize)]
pub struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// The POST body of a GraphQL request.
#[derive(Debug, Deserialize)]
struct PostBody {
    query: Option<serde_json::Value>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    #[serde(rename = "operationName", default)]
    operation_name: Option<serde_json::Value>,
}

/// `GET /graphql`.
pub async fn get(
    State(state): State<GraphQl>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> axum::response::Response {
    if params.query.is_none() && accepts_html(&headers) {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("Livedesk GraphQL")
                .finish(),
        )
        .into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let bad = |message: &str| refuse(StatusCode::BAD_REQUEST, media, coded_error(message, "BAD_USER_INPUT"));
    let Some(query) = params.query else {
        return bad("the query parameter is missing");
    };
    if params
        .extensions
        .as_deref()
        .is_some_and(|e| serde_json::from_str::<serde_json::Value>(e).is_err())
    {
        return bad("extensions is not JSON");
    }
    let variables = match params
        .variables
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => None,
        Some(Ok(value @ serde_json::Value::Object(_))) => Some(Variables::from_json(value)),
        Some(_) => return bad("variables is not a JSON object"),
    };
    if operation_type(&query, params.operation_name.as_deref()) == Some(OperationType::Mutation) {
        let mut out = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            coded_error("mutations are only accepted with POST", "BAD_USER_INPUT"),
        );
        out.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return out;
    }
    let mut request = Request::new(query);
    if let Some(variables) = variables {
        request = request.variables(variables);
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    execute(state, &headers, media, request).await
}

/// `POST /graphql`.
pub async fn post(State(state): State<GraphQl>, headers: HeaderMap, body: Body) -> axum::response::Response {
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            coded_error("send the request as Content-Type: application/json", "BAD_USER_INPUT"),
        );
    }
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            coded_error(
                format!("the request body is over {MAX_BODY_BYTES} bytes"),
                "BAD_USER_INPUT",
            ),
        );
    };
    let bad = |message: &str| refuse(StatusCode::BAD_REQUEST, media, coded_error(message, "BAD_USER_INPUT"));
    let Ok(body) = serde_json::from_slice::<PostBody>(&bytes) else {
        return bad("the body is not a JSON GraphQL request");
    };
    let Some(serde_json::Value::String(query)) = body.query else {
        return bad("the request has no query string");
    };
    let mut request = Request::new(query);
    match body.variables {
        None | Some(serde_json::Value::Null) => {}
        Some(value @ serde_json::Value::Object(_)) => request = request.variables(Variables::from_json(value)),
        Some(_) => return bad("variables is not a JSON object"),
    }
    match body.operation_name {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => request = request.operation_name(name),
        Some(_) => return bad("operationName is not a string"),
    }
    execute(state, &headers, media, request).await
}

async fn execute(state: GraphQl, headers: &HeaderMap, media: Media, request: Request) -> axum::response::Response {
    let principal = match authenticate_request(&state.api.pool, &state.api.config.console, headers).await {
        Ok(principal) => principal,
        Err(error) => {
            let status = match error {
                ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut out = refuse(status, media, coded_error(error.message(), error.code()));
            if status == StatusCode::UNAUTHORIZED {
                out.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return out;
        }
    };
    let mut response = state.schema.execute(request.data(principal)).await;
    code_argument_errors(&mut response);
    if request_error(&mut response) && media == Media::GraphqlResponse {
        return answer(StatusCode::BAD_REQUEST, media, &response, true);
    }
    answer(StatusCode::OK, media, &response, false)
}
