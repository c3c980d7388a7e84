//! `GET /reports/transcript.csv?conversationId=…`: a conversation's
//! transcript as CSV ([`crate::csv::transcript_line`]), streamed. The
//! rules and the audit are `exportTranscript`'s ([`record_export`]): every
//! role but integrators, through a token acting as an agent, on the
//! token's own site; the export is recorded (`TranscriptExported`) before
//! the first byte is sent, and only once it is allowed.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use livedesk_domain::conversation::ConversationCommand;
use serde::Deserialize;

use super::{CsvExport, caller, id, refuse};
use crate::auth::{Permission, Principal};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};
use crate::reads::{self, ConversationRow};
use crate::{Api, GraphQl};

/// The query string of `/reports/transcript.csv`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TranscriptCsvParams {
    conversation_id: Option<String>,
}

/// `GET /reports/transcript.csv`.
pub(crate) async fn transcript_csv(
    State(state): State<GraphQl>,
    headers: HeaderMap,
    Query(params): Query<TranscriptCsvParams>,
) -> Response {
    match prepare(&state.api, &headers, params).await {
        Ok(export) => export.respond(state.api.pool.clone()),
        Err(error) => refuse(&error),
    }
}

async fn prepare(api: &Api, headers: &HeaderMap, params: TranscriptCsvParams) -> ApiResult<CsvExport> {
    let principal = caller(api, headers).await?;
    let conversation = id("conversationId", params.conversation_id)?;
    let row = reads::conversation(&api.pool, conversation)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such conversation".into()))?;
    let notes = record_export(api, &principal, &row).await?;
    Ok(CsvExport::Transcript { conversation, notes })
}

/// Checks that `principal` may export the transcript of `row`, records
/// the export (`ExportTranscript` through the command service, answered
/// once the audit log shows it) and returns whether the export includes
/// internal notes (for roles that may read them).
///
/// # Errors
///
/// [`ApiError::Forbidden`] for another site's conversation, a role that
/// may not export (integrators) or a token acting as no agent (the export
/// names who made it); the command's failure otherwise. Nothing is
/// appended when it fails before the command.
pub(crate) async fn record_export(api: &Api, principal: &Principal, row: &ConversationRow) -> ApiResult<bool> {
    principal.require_on(row.site_id, Permission::ExportTranscripts)?;
    let by = principal.agent_ref()?;
    let command = ConversationCommand::ExportTranscript { by, at: Utc::now() };
    api.commands
        .run(
            &api.commands.conversations,
            row.conversation_id,
            command,
            principal,
            row.site_id,
            ReadModel::AuditLog,
        )
        .await?;
    Ok(principal.require(Permission::ReadNotes).is_ok())
}
