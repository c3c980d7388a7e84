//! `GET /reports/conversations.csv?siteId=…&from=…&to=…`: one line per
//! conversation the site opened in `[from, to)`, as the inbox holds it now
//! ([`crate::csv::conversation_line`]). Admins, supervisors and analysts;
//! the period rules are the SLA report's ([`ReportRequest::check`]).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{CsvExport, caller, id, refuse, time};
use crate::GraphQl;
use crate::error::ApiResult;
use crate::schema::report::ReportRequest;

/// The query string of `/reports/conversations.csv`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationsCsvParams {
    site_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /reports/conversations.csv`.
pub(crate) async fn conversations_csv(
    State(state): State<GraphQl>,
    headers: HeaderMap,
    Query(params): Query<ConversationsCsvParams>,
) -> Response {
    match prepare(&state.api, &headers, params).await {
        Ok(export) => export.respond(state.api.pool.clone()),
        Err(error) => refuse(&error),
    }
}

async fn prepare(api: &crate::Api, headers: &HeaderMap, params: ConversationsCsvParams) -> ApiResult<CsvExport> {
    let principal = caller(api, headers).await?;
    let site = id("siteId", params.site_id)?;
    let from = time("from", params.from)?;
    let to = time("to", params.to)?;
    Ok(CsvExport::Conversations {
        request: ReportRequest::check(&principal, site, from, to)?,
    })
}
