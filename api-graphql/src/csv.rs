//! Transcript exports as CSV (RFC 4180: comma separated, CRLF line ends,
//! fields quoted when they hold a comma, quote or line break).

use livedesk_projections::models::inbox::MessageRow;

/// The transcript `messages` (oldest first) as CSV with a header row.
pub fn transcript(messages: &[MessageRow]) -> String {
    let mut out = String::from("at,author_type,author,internal,body,attachments\r\n");
    for m in messages {
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
        let fields = [
            m.at.to_rfc3339(),
            m.author_type.clone(),
            m.author_name.clone().unwrap_or_default(),
            m.internal.to_string(),
            m.body.clone(),
            attachments,
        ];
        let line = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
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
    use super::field;

    #[test]
    fn fields_with_commas_quotes_or_formulas_are_escaped() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
    }
}
