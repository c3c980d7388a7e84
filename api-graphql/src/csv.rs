//! The CSV encoding of the exports (RFC 4180: comma separated, CRLF line
//! ends, fields quoted when they hold a comma, quote or line break; a
//! field starting with `=`, `+`, `-` or `@` gets a leading `'` so that
//! spreadsheets do not run it as a formula). One line encoder per export,
//! used by the in-memory transcript of `exportTranscript` and by the
//! streamed exports of HTTP and the CLI ([`crate::reports::CsvExport`]).

use livedesk_projections::models::inbox::{ConversationRow, MessageRow};

/// The header line of a transcript.
pub const TRANSCRIPT_HEADER: &str = "at,author_type,author,internal,body,attachments\r\n";

/// The header line of the conversations report.
pub const CONVERSATIONS_HEADER: &str = "conversation_id,opened_at,status,provider,visitor_id,visitor_name,\
    visitor_email,assignee_type,assignee_id,assignee_name,taken_over_by_id,taken_over_by_name,first_response_at,\
    done_at,last_message_at,messages,notes,first_response_sla,next_response_sla,resolution_sla\r\n";

/// The SLA targets of the conversations report, in column order.
const SLA_TARGETS: [&str; 3] = ["first_response", "next_response", "resolution"];

/// The transcript `messages` (oldest first) as CSV with a header row.
pub fn transcript(messages: &[MessageRow]) -> String {
    let mut out = String::from(TRANSCRIPT_HEADER);
    for m in messages {
        out.push_str(&transcript_line(m));
    }
    out
}

/// One line of a transcript: `at` (RFC 3339), `author_type` (`visitor`,
/// `agent`, `bot`, `system`), `author` (the agent's or bot's name),
/// `internal` (`true` for a note), `body`, `attachments` (references,
/// space separated).
pub fn transcript_line(m: &MessageRow) -> String {
    let attachments = m
        .attachments
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|a| a.get("reference").and_then(|r| r.as_str()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    line(&[
        m.at.to_rfc3339(),
        m.author_type.clone(),
        m.author_name.clone().unwrap_or_default(),
        m.internal.to_string(),
        m.body.clone(),
        attachments,
    ])
}

/// One line of the conversations report ([`CONVERSATIONS_HEADER`]): the
/// inbox row as it is now. Unknown values are empty; an SLA column is
/// `met`, `missed` or `pending` for the target's latest clock, empty when
/// no policy set one.
pub fn conversation_line(c: &ConversationRow) -> String {
    let id = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let mut fields = vec![
        c.conversation_id.to_string(),
        c.created_at.to_rfc3339(),
        c.status.clone(),
        c.provider.clone(),
        c.visitor_id.to_string(),
        text(&c.visitor_name),
        text(&c.visitor_email),
        text(&c.assignee_type),
        id(c.assignee_id),
        text(&c.assignee_name),
        id(c.taken_over_by_id),
        text(&c.taken_over_by_name),
        time(c.first_response_at),
        time(c.done_at),
        time(c.last_message_at),
        c.message_count.to_string(),
        c.note_count.to_string(),
    ];
    fields.extend(SLA_TARGETS.iter().map(|target| {
        c.sla.get(*target).map_or_else(String::new, |clock| {
            match clock.outcome.as_str() {
                "fulfilled" => "met",
                "breached" => "missed",
                other => other,
            }
            .to_owned()
        })
    }));
    line(&fields)
}

/// `fields`, each escaped, as one CSV line with its CRLF.
fn line(fields: &[String]) -> String {
    let mut out = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

pub(crate) fn field(value: &str) -> String {
    // A leading = + - @ would be read as a formula by spreadsheets.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};
    use livedesk_projections::models::inbox::{ConversationRow, MessageRow, SlaClockRow};
    use uuid::Uuid;

    use super::{CONVERSATIONS_HEADER, TRANSCRIPT_HEADER, conversation_line, field, transcript, transcript_line};

    #[test]
    fn fields_with_commas_quotes_or_formulas_are_escaped() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
    }

    fn message(body: &str, internal: bool) -> MessageRow {
        MessageRow {
            message_id: Uuid::nil(),
            conversation_id: Uuid::nil(),
            site_id: Uuid::nil(),
            internal,
            author_type: "agent".into(),
            author_id: None,
            author_name: Some("Ana".into()),
            body: body.into(),
            attachments: serde_json::json!([{ "kind": "article", "reference": "kb-1" }, { "reference": "kb-2" }]),
            client_message_id: None,
            at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).single().expect("a time"),
            position: 1,
        }
    }

    #[test]
    fn a_transcript_is_its_header_and_one_line_per_message() {
        let (reply, note) = (message("Hi, \"you\"", false), message("=check", true));
        assert_eq!(
            transcript_line(&reply),
            "2026-12-01T09:30:00+00:00,agent,Ana,false,\"Hi, \"\"you\"\"\",kb-1 kb-2\r\n"
        );
        assert_eq!(
            transcript(&[reply.clone(), note.clone()]),
            format!(
                "{TRANSCRIPT_HEADER}{}{}",
                transcript_line(&reply),
                transcript_line(&note)
            )
        );
        assert!(transcript_line(&note).contains(",true,'=check,"));
    }

    #[test]
    fn a_conversation_line_has_a_field_per_header_column_and_names_sla_outcomes() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("a time");
        let clock = |outcome: &str| SlaClockRow {
            policy_id: Uuid::nil(),
            due_at: at,
            outcome: outcome.into(),
        };
        let row = ConversationRow {
            conversation_id: Uuid::nil(),
            site_id: Uuid::nil(),
            visitor_id: Uuid::max(),
            session_id: None,
            provider: "web_chat".into(),
            status: "done".into(),
            visitor_name: Some("Vera, V.".into()),
            visitor_email: Some("vera@example.com".into()),
            assignee_type: Some("agent".into()),
            assignee_id: Some(Uuid::max()),
            assignee_name: Some("Ana".into()),
            taken_over_by_id: None,
            taken_over_by_name: None,
            human_requested: false,
            last_message_preview: Some("bye".into()),
            last_message_at: Some(at),
            last_message_author: Some("agent".into()),
            message_count: 3,
            note_count: 1,
            unread_count: 0,
            sla: BTreeMap::from([
                ("first_response".to_owned(), clock("fulfilled")),
                ("resolution".to_owned(), clock("breached")),
            ]),
            sla_due_at: None,
            sla_breached: true,
            created_at: at,
            updated_at: at,
            position: 9,
            first_response_at: Some(at),
            done_at: None,
        };
        let line = conversation_line(&row);
        let max = Uuid::max();
        let t = "2026-12-01T09:00:00+00:00";
        assert_eq!(
            line,
            format!(
                "{},{t},done,web_chat,{max},\"Vera, V.\",vera@example.com,agent,{max},Ana,,,{t},,{t},3,1,met,,missed\r\n",
                Uuid::nil()
            )
        );
        let columns = CONVERSATIONS_HEADER.trim_end().split(',').count();
        assert_eq!(columns, 20);
        let pending = ConversationRow {
            sla: BTreeMap::from([("next_response".to_owned(), clock("pending"))]),
            ..row
        };
        assert!(conversation_line(&pending).ends_with(",,pending,\r\n"));
    }
}
