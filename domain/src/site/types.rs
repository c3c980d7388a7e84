//! Site settings and custom field definitions.

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::limits::{self, DEFAULT_MAX_MESSAGE_CHARS, InputError, MAX_MESSAGE_CHARS_CEILING, MAX_NAME_CHARS};

/// How long a visitor id lives in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitorIdMode {
    /// Kept in session storage: a fresh visitor when the browser closes.
    SessionBased,
    /// Kept in local storage: the same visitor on every visit.
    #[default]
    Persistent,
}

/// How a site's widget and sessions behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSettings {
    /// A new tab joins the open session instead of starting one (off by
    /// default).
    pub keep_session_across_tabs: bool,
    /// Session-based or persistent visitor ids.
    pub visitor_ids: VisitorIdMode,
    /// Longest session, in seconds (3600 by default, 1 to 86,400).
    pub max_session_duration_secs: u32,
    /// A hidden tab counts as idle after this many seconds (300 by default).
    pub idle_timeout_secs: u32,
    /// A session whose widget went silent ends after this many seconds (30
    /// by default).
    pub leave_timeout_secs: u32,
    /// Longest message body in characters (10,000 by default, at most
    /// 100,000).
    pub max_message_chars: u32,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            keep_session_across_tabs: false,
            visitor_ids: VisitorIdMode::Persistent,
            max_session_duration_secs: 3_600,
            idle_timeout_secs: 300,
            leave_timeout_secs: 30,
            max_message_chars: DEFAULT_MAX_MESSAGE_CHARS,
        }
    }
}

impl SiteSettings {
    /// The maximum session duration.
    pub fn max_session_duration(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.max_session_duration_secs))
    }

    /// Checks every value is in its range.
    ///
    /// # Errors
    ///
    /// [`InputError::Invalid`] naming the first value out of range.
    pub fn validate(&self) -> Result<(), InputError> {
        let checks: [(&'static str, bool, &'static str); 4] = [
            (
                "max_session_duration_secs",
                (1..=86_400).contains(&self.max_session_duration_secs),
                "1 to 86400",
            ),
            (
                "idle_timeout_secs",
                (10..=86_400).contains(&self.idle_timeout_secs),
                "10 to 86400",
            ),
            (
                "leave_timeout_secs",
                (1..=3_600).contains(&self.leave_timeout_secs),
                "1 to 3600",
            ),
            (
                "max_message_chars",
                (1..=MAX_MESSAGE_CHARS_CEILING).contains(&self.max_message_chars),
                "1 to 100000",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((field, _, reason)) => Err(InputError::Invalid { field, reason }),
            None => Ok(()),
        }
    }
}

/// The type of an "additional information" field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text, up to 256 characters.
    Text,
    /// A finite number.
    Number,
    /// Yes or no.
    Boolean,
    /// A calendar date.
    Date,
    /// One of a fixed list of options.
    Select {
        /// The options.
        options: Vec<String>,
    },
}

/// An "additional information" field a site defines for its visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldDefinition {
    /// Stable key: 1-64 characters of `a-z`, `0-9`, `_`.
    pub key: String,
    /// What agents see.
    pub label: String,
    /// The value type.
    pub kind: FieldKind,
}

/// Most custom fields on a site; most options of a select field.
pub const MAX_CUSTOM_FIELDS: usize = 100;

impl CustomFieldDefinition {
    /// Checks key, label and options.
    ///
    /// # Errors
    ///
    /// [`InputError`] naming what is wrong.
    pub fn validate(&self) -> Result<(), InputError> {
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 64
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(InputError::Invalid {
                field: "field key",
                reason: "1-64 characters of a-z, 0-9 and _",
            });
        }
        limits::required("field label", &self.label, MAX_NAME_CHARS)?;
        if let FieldKind::Select { options } = &self.kind {
            if options.is_empty() {
                return Err(InputError::Empty {
                    field: "select options",
                });
            }
            limits::at_most_items("select options", options, MAX_CUSTOM_FIELDS)?;
            for option in options {
                limits::required("select option", option, MAX_NAME_CHARS)?;
            }
        }
        Ok(())
    }
}

/// A typed "additional information" value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// For [`FieldKind::Text`].
    Text(String),
    /// For [`FieldKind::Number`].
    Number(f64),
    /// For [`FieldKind::Boolean`].
    Boolean(bool),
    /// For [`FieldKind::Date`].
    Date(NaiveDate),
    /// For [`FieldKind::Select`]: one of its options.
    Select(String),
}

impl FieldValue {
    /// Whether the value fits the field's type (and, for a select, is one of
    /// its options).
    pub fn fits(&self, kind: &FieldKind) -> bool {
        match (self, kind) {
            (Self::Text(_), FieldKind::Text) | (Self::Boolean(_), FieldKind::Boolean) => true,
            (Self::Date(_), FieldKind::Date) => true,
            (Self::Number(n), FieldKind::Number) => n.is_finite(),
            (Self::Select(choice), FieldKind::Select { options }) => options.contains(choice),
            _ => false,
        }
    }
}
