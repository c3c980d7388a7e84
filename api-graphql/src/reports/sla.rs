//! Reports over plain HTTP, for spreadsheets and scripts:
//! `GET /reports/sla.csv?siteId=…&from=…&to=…&groupBy=agent|team` with
//! `Authorization: Bearer <token>`. The rules are the GraphQL `slaReport`'s
//! ([`ReportRequest::check`]); errors are JSON
//! (`{"error": {"code", "message"}}`) with 401, 403 or 400. The rows are
//! written to the body as the database returns them, never collected.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Deserialize;
use sqlx::PgPool;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::GraphQl;
use crate::auth::{authenticate, bearer};
use crate::error::{ApiError, ApiResult};
use crate::reads;
use crate::schema::report::{ReportRequest, SlaReportGroup};

/// The first line of the SLA report CSV.
pub const SLA_CSV_HEADER: &str = "group_id,group_name,target,met,missed,median_secs\r\n";

/// The query string of `/reports/sla.csv` (every field optional here, so
/// that a missing one is a coded error rather than axum's text).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlaCsvParams {
    site_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// `GET /reports/sla.csv`.
pub(crate) async fn sla_csv(
    State(state): State<GraphQl>,
    headers: HeaderMap,
    Query(params): Query<SlaCsvParams>,
) -> Response {
    match prepare(&state.api.pool, &headers, params).await {
        Ok((request, group)) => stream(state.api.pool.clone(), request, group),
        Err(error) => refuse(&error),
    }
}

async fn prepare(
    pool: &PgPool,
    headers: &HeaderMap,
    params: SlaCsvParams,
) -> ApiResult<(ReportRequest, SlaReportGroup)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    let principal = authenticate(pool, token).await?;
    let site = required("siteId", params.site_id)?;
    let site = Uuid::parse_str(&site).map_err(|_| ApiError::BadInput("siteId is not a valid id".into()))?;
    let from = time("from", params.from)?;
    let to = time("to", params.to)?;
    let group = match params.group_by.as_deref() {
        None | Some("agent") => SlaReportGroup::Agent,
        Some("team") => SlaReportGroup::Team,
        Some(_) => return Err(ApiError::BadInput("groupBy is `agent` or `team`".into())),
    };
    Ok((ReportRequest::check(&principal, site, from, to)?, group))
}

fn required(name: &str, value: Option<String>) -> ApiResult<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadInput(format!("{name} is required")))
}

fn time(name: &str, value: Option<String>) -> ApiResult<DateTime<Utc>> {
    let value = required(name, value)?;
    DateTime::parse_from_rfc3339(&value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::BadInput(format!("{name} is not an RFC 3339 time (2026-12-01T00:00:00Z)")))
}

/// The CSV, streamed: a task reads the rows and hands each line to the
/// body through a small channel (a slow client slows the read down). A
/// database failure after the header ends the body with an error, which
/// the client sees as a broken transfer.
fn stream(pool: PgPool, request: ReportRequest, group: SlaReportGroup) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        if tx
            .send(Ok(Bytes::from_static(SLA_CSV_HEADER.as_bytes())))
            .await
            .is_err()
        {
            return;
        }
        let mut rows = reads::sla_report_stream(&pool, request.site, request.from, request.to, group.into());
        while let Some(row) = rows.next().await {
            let chunk = row.map(|r| Bytes::from(line(&r))).map_err(|e| {
                tracing::error!(cause = %e, "SLA report CSV");
                std::io::Error::other("the report could not be read")
            });
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    let mut response = Body::from_stream(ReceiverStream::new(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"sla-report.csv\""),
    );
    response
}

/// One CSV line (RFC 4180: names quoted when needed, CRLF).
fn line(row: &reads::SlaReportRow) -> String {
    let fields = [
        row.group_id.map(|id| id.to_string()).unwrap_or_default(),
        crate::csv::field(row.group_name.as_deref().unwrap_or_default()),
        row.target.clone(),
        row.met.to_string(),
        row.missed.to_string(),
        row.median_secs.map(|s| s.to_string()).unwrap_or_default(),
    ];
    format!("{}\r\n", fields.join(","))
}

/// The JSON error answer.
fn refuse(error: &ApiError) -> Response {
    let status = match error {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::BadInput(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({ "error": { "code": error.code(), "message": error.message() } });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::line;
    use livedesk_projections::read::SlaReportRow;
    use uuid::Uuid;

    #[test]
    fn a_line_quotes_names_and_leaves_unknowns_empty() {
        let row = SlaReportRow {
            group_id: Some(Uuid::nil()),
            group_name: Some("Ana \"A\", Support".into()),
            target: "first_response".into(),
            met: 3,
            missed: 1,
            median_secs: Some(42.5),
        };
        assert_eq!(
            line(&row),
            "00000000-0000-0000-0000-000000000000,\"Ana \"\"A\"\", Support\",first_response,3,1,42.5\r\n"
        );
        let none = SlaReportRow {
            group_id: None,
            group_name: None,
            median_secs: None,
            ..row
        };
        assert_eq!(line(&none), ",,first_response,3,1,\r\n");
    }
}
