//! The GraphQL types: enums, pagination, and the objects read from the
//! read models.

mod enums;
mod inbox;
mod live;
mod people;

pub use enums::*;
pub use inbox::{Attachment, AttachmentInput, Author, Conversation, ConversationAsOf, Message, SlaClock, Visitor};
pub use live::{LiveSession, OnlineCount};
pub use people::{Agent, AgentSummary, ApiToken, CustomField, IssuedToken, Me, Site, SiteSettings, Team, TextBlock};

use async_graphql::ID;
use async_graphql::connection::{Connection, CursorType, Edge};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use livedesk_projections::read::Keyset;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Most items one page returns.
pub const MAX_PAGE: i32 = 100;

/// Reads a GraphQL id as a UUID.
///
/// # Errors
///
/// [`ApiError::BadInput`] naming the argument.
pub fn parse_id(argument: &str, id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::BadInput(format!("{argument} is not a valid id")))
}

/// Where a page starts: after the row with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key (a time), `None` for rows sorted last.
    pub at: Option<DateTime<Utc>>,
    /// The row's id, breaking ties.
    pub id: Uuid,
}

/// A string that is not a cursor this API gave out.
#[derive(Debug, Clone, Copy)]
pub struct BadCursor;

impl std::fmt::Display for BadCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("`after` is not a cursor this API gave out")
    }
}

impl CursorType for Cursor {
    type Error = BadCursor;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || BadCursor;
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once('|').ok_or_else(bad)?;
        let at = match at {
            "" => None,
            micros => {
                let micros: i64 = micros.parse().map_err(|_| bad())?;
                Some(DateTime::from_timestamp_micros(micros).ok_or_else(bad)?)
            }
        };
        Ok(Self {
            at,
            id: Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }

    fn encode_cursor(&self) -> String {
        let at = self.at.map(|at| at.timestamp_micros().to_string()).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(format!("{at}|{}", self.id))
    }
}

/// A page request: `first` (1 to [`MAX_PAGE`]) after an optional cursor.
#[derive(Debug, Clone)]
pub struct Page {
    /// How many.
    pub first: i64,
    /// After which row.
    pub after: Option<Cursor>,
}

impl Page {
    /// Reads `first` (default `default`) and `after`.
    ///
    /// # Errors
    ///
    /// [`ApiError::BadInput`] for `first` outside 1 to 100 or a foreign
    /// cursor.
    pub fn new(first: Option<i32>, after: Option<String>, default: i32) -> ApiResult<Self> {
        let first = first.unwrap_or(default);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::BadInput(format!("first must be 1 to {MAX_PAGE}")));
        }
        let after = after
            .as_deref()
            .map(Cursor::decode_cursor)
            .transpose()
            .map_err(|e| ApiError::BadInput(e.to_string()))?;
        Ok(Self {
            first: i64::from(first),
            after,
        })
    }

    /// Rows to fetch: one more than asked, to know whether more follow.
    pub fn limit(&self) -> i64 {
        self.first + 1
    }

    /// The page for the read model's queries.
    pub fn keyset(&self) -> Keyset {
        Keyset {
            limit: self.limit(),
            after_at: self.after.as_ref().and_then(|c| c.at),
            after_id: self.after.as_ref().map(|c| c.id),
        }
    }

    /// A connection of `rows` (fetched with [`limit`](Self::limit)).
    pub fn connect<R, N, E>(
        &self,
        mut rows: Vec<R>,
        extra: E,
        cursor: impl Fn(&R) -> Cursor,
        node: impl Fn(R) -> N,
    ) -> Connection<Cursor, N, E>
    where
        N: async_graphql::OutputType,
        E: async_graphql::ObjectType,
    {
        let more = rows.len() as i64 > self.first;
        rows.truncate(self.first as usize);
        let mut connection = Connection::with_additional_fields(self.after.is_some(), more, extra);
        connection
            .edges
            .extend(rows.into_iter().map(|row| Edge::new(cursor(&row), node(row))));
        connection
    }
}

/// The enum value of a stored snake_case name.
///
/// # Errors
///
/// Internal when the stored name is unknown (a read model out of step).
pub fn stored<T: serde::de::DeserializeOwned>(name: &str) -> ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| ApiError::internal(format!("unknown stored value {name:?}")))
}
