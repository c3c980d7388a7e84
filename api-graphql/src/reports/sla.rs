//! `GET /reports/sla.csv?siteId=…&from=…&to=…&groupBy=agent|team`: the
//! GraphQL `slaReport` as CSV, by the same rules
//! ([`ReportRequest::check`]).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{CsvExport, caller, id, refuse, time};
use crate::GraphQl;
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
    match prepare(&state.api, &headers, params).await {
        Ok(export) => export.respond(state.api.pool.clone()),
        Err(error) => refuse(&error),
    }
}

async fn prepare(api: &crate::Api, headers: &HeaderMap, params: SlaCsvParams) -> ApiResult<CsvExport> {
    let principal = caller(api, headers).await?;
    let site = id("siteId", params.site_id)?;
    let from = time("from", params.from)?;
    let to = time("to", params.to)?;
    let group = match params.group_by.as_deref() {
        None | Some("agent") => SlaReportGroup::Agent,
        Some("team") => SlaReportGroup::Team,
        Some(_) => return Err(ApiError::BadInput("groupBy is `agent` or `team`".into())),
    };
    Ok(CsvExport::Sla {
        request: ReportRequest::check(&principal, site, from, to)?,
        group: group.into(),
    })
}

/// One CSV line (RFC 4180: names quoted when needed, CRLF).
pub(super) fn line(row: &reads::SlaReportRow) -> String {
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
