//! Reports and exports over plain HTTP, for spreadsheets and scripts, with
//! `Authorization: Bearer <token>` (or the console's session cookie):
//!
//! - `GET /reports/sla.csv?siteId=…&from=…&to=…&groupBy=agent|team`
//!   ([`sla`]): the GraphQL `slaReport`.
//! - `GET /reports/conversations.csv?siteId=…&from=…&to=…`
//!   ([`conversations`]): one line per conversation opened in the period.
//! - `GET /reports/transcript.csv?conversationId=…` ([`transcript`]): a
//!   transcript, recorded as exported like `exportTranscript`.
//!
//! Errors are JSON (`{"error": {"code", "message"}}`) with 401, 403, 404
//! or 400, and nothing is appended when a request is refused. The rows are
//! written to the body as the database returns them, never collected: the
//! bytes are [`CsvExport::stream`]'s, which `livedesk reports` writes to a
//! file alike.

pub(crate) mod conversations;
pub(crate) mod sla;
pub(crate) mod transcript;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use sqlx::PgPool;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::auth::Principal;
use crate::csv;
use crate::error::{ApiError, ApiResult};
use crate::reads;
use crate::schema::report::ReportRequest;

pub use sla::SLA_CSV_HEADER;

/// A CSV export, as HTTP serves it and the CLI writes it: the same bytes
/// from the same rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvExport {
    /// The SLA report of a checked period ([`SLA_CSV_HEADER`]).
    Sla {
        /// The site and period.
        request: ReportRequest,
        /// Per agent or per team.
        group: reads::SlaReportGroup,
    },
    /// The conversations a site opened in a checked period
    /// ([`csv::CONVERSATIONS_HEADER`]).
    Conversations {
        /// The site and period.
        request: ReportRequest,
    },
    /// A conversation's transcript ([`csv::TRANSCRIPT_HEADER`]).
    Transcript {
        /// The conversation.
        conversation: Uuid,
        /// Whether internal notes are included.
        notes: bool,
    },
}

impl CsvExport {
    /// The conversations report of `site` over `[from, to)` for the CLI,
    /// which no token limits (an operator on the database).
    ///
    /// # Errors
    ///
    /// [`ApiError::BadInput`] when `to` is not after `from`.
    pub fn conversations(site: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> ApiResult<Self> {
        if to <= from {
            return Err(ApiError::BadInput("`to` must be after `from`".into()));
        }
        Ok(Self::Conversations {
            request: ReportRequest { site, from, to },
        })
    }

    /// The CSV: its header line, then one line per row as the database
    /// returns it (one connection of `pool` while it is read).
    pub fn stream<'a>(&self, pool: &'a PgPool) -> BoxStream<'a, Result<Bytes, sqlx::Error>> {
        fn lines<'a, R: 'a>(
            header: &'static str,
            rows: BoxStream<'a, Result<R, sqlx::Error>>,
            line: fn(&R) -> String,
        ) -> BoxStream<'a, Result<Bytes, sqlx::Error>> {
            stream::once(async move { Ok(Bytes::from_static(header.as_bytes())) })
                .chain(rows.map(move |row| row.map(|row| Bytes::from(line(&row)))))
                .boxed()
        }
        match *self {
            Self::Sla { request, group } => lines(
                SLA_CSV_HEADER,
                reads::sla_report_stream(pool, request.site, request.from, request.to, group),
                sla::line,
            ),
            Self::Conversations { request } => lines(
                csv::CONVERSATIONS_HEADER,
                reads::conversations_opened_stream(pool, request.site, request.from, request.to),
                csv::conversation_line,
            ),
            Self::Transcript { conversation, notes } => lines(
                csv::TRANSCRIPT_HEADER,
                reads::transcript_stream(pool, conversation, notes),
                csv::transcript_line,
            ),
        }
    }

    fn filename(&self) -> &'static str {
        match self {
            Self::Sla { .. } => "attachment; filename=\"sla-report.csv\"",
            Self::Conversations { .. } => "attachment; filename=\"conversations.csv\"",
            Self::Transcript { .. } => "attachment; filename=\"transcript.csv\"",
        }
    }

    /// The HTTP answer: a task reads the rows and hands each line to the
    /// body through a small channel (a slow client slows the read down). A
    /// database failure after the header ends the body with an error,
    /// which the client sees as a broken transfer.
    pub(crate) fn respond(self, pool: PgPool) -> Response {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
        tokio::spawn(async move {
            let mut chunks = self.stream(&pool);
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| {
                    tracing::error!(cause = %e, export = self.filename(), "CSV export");
                    std::io::Error::other("the export could not be read")
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
        headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(self.filename()));
        response
    }
}

/// The caller of a report request: a bearer token or the console's
/// session cookie (with its same-origin checks).
async fn caller(api: &crate::Api, headers: &HeaderMap) -> ApiResult<Principal> {
    crate::console::authenticate_request(&api.pool, &api.config.console, headers).await
}

fn required(name: &str, value: Option<String>) -> ApiResult<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadInput(format!("{name} is required")))
}

fn id(name: &str, value: Option<String>) -> ApiResult<Uuid> {
    let value = required(name, value)?;
    Uuid::parse_str(&value).map_err(|_| ApiError::BadInput(format!("{name} is not a valid id")))
}

fn time(name: &str, value: Option<String>) -> ApiResult<DateTime<Utc>> {
    let value = required(name, value)?;
    DateTime::parse_from_rfc3339(&value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::BadInput(format!("{name} is not an RFC 3339 time (2026-12-01T00:00:00Z)")))
}

/// The JSON error answer.
fn refuse(error: &ApiError) -> Response {
    let status = match error {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
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
