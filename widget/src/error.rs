//! The one error type of the widget API and how it is answered: JSON
//! `{"error": {"code", "message"}}` with a stable code. Internal failures
//! are logged and shown only as "internal error".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livedesk_domain::conversation::ConversationError;
use livedesk_domain::session::SessionError;
use livedesk_domain::visitor::VisitorError;
use livedesk_eventstore::CommandError;

/// Why a widget request failed.
#[derive(Debug, thiserror::Error)]
pub enum WidgetError {
    /// The body is not JSON of the expected shape.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is over the limit.
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    /// Neither JSON nor text.
    #[error("send the body as application/json or text/plain")]
    UnsupportedMediaType,
    /// A value breaks a rule (too long, empty, unknown enum).
    #[error("{0}")]
    InvalidInput(String),
    /// No site has the widget key.
    #[error("no site has this widget key")]
    UnknownSite,
    /// The site switched its widget off.
    #[error("the widget of this site is disabled")]
    SiteDisabled,
    /// The page's origin is not one of the site's allowed origins.
    #[error("this origin may not use the site's widget")]
    OriginNotAllowed,
    /// No visitor token.
    #[error("missing visitor token: send `Authorization: Bearer <token>` or a `token` field")]
    MissingToken,
    /// A token that was not signed by this server (or was altered).
    #[error("invalid visitor token")]
    InvalidToken,
    /// A token past its expiry.
    #[error("the visitor token has expired; start a session again")]
    TokenExpired,
    /// Someone else's conversation.
    #[error("this conversation belongs to another visitor")]
    ConversationForbidden,
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The site requires a signed identity for an external user id.
    #[error("this site requires a signature for externalUserId")]
    SignatureRequired,
    /// The identity signature does not match.
    #[error("the identity signature does not match the user id")]
    InvalidSignature,
    /// The visitor identity was reset; start a session again.
    #[error("the visitor was reset; start a session again")]
    VisitorReset,
    /// The domain refused (request closed, expired ...).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests from one address.
    #[error("too many requests; retry after {0} s")]
    RateLimited(u64),
    /// Our failure.
    #[error("internal error")]
    Internal(String),
}

/// Results of the widget API.
pub type WidgetResult<T> = Result<T, WidgetError>;

impl WidgetError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyTooLarge(_) => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidInput(_) => "invalid_input",
            Self::UnknownSite => "unknown_site",
            Self::SiteDisabled => "site_disabled",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::ConversationForbidden => "conversation_forbidden",
            Self::NotFound(_) => "not_found",
            Self::SignatureRequired => "signature_required",
            Self::InvalidSignature => "invalid_signature",
            Self::VisitorReset => "visitor_reset",
            Self::Conflict(_) => "conflict",
            Self::RateLimited(_) => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::InvalidInput(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnknownSite | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MissingToken | Self::InvalidToken | Self::TokenExpired => StatusCode::UNAUTHORIZED,
            Self::SiteDisabled
            | Self::OriginNotAllowed
            | Self::ConversationForbidden
            | Self::SignatureRequired
            | Self::InvalidSignature => StatusCode::FORBIDDEN,
            Self::VisitorReset | Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal failure, logged when answered.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl IntoResponse for WidgetError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "widget request failed");
        }
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Self::RateLimited(secs) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

impl From<sqlx::Error> for WidgetError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

/// A domain rejection as the visitor sees it.
pub trait Rejection: std::error::Error {
    /// The widget error for this rejection.
    fn widget_error(&self) -> WidgetError;
}

impl Rejection for SessionError {
    fn widget_error(&self) -> WidgetError {
        match self {
            Self::Invalid(e) => WidgetError::InvalidInput(e.to_string()),
            Self::UnknownConnectionRequest(_) => WidgetError::NotFound(self.to_string()),
            _ => WidgetError::Conflict(self.to_string()),
        }
    }
}

impl Rejection for ConversationError {
    fn widget_error(&self) -> WidgetError {
        match self {
            Self::Invalid(e) => WidgetError::InvalidInput(e.to_string()),
            _ => WidgetError::Conflict(self.to_string()),
        }
    }
}

impl Rejection for VisitorError {
    fn widget_error(&self) -> WidgetError {
        match self {
            Self::Invalid(e) => WidgetError::InvalidInput(e.to_string()),
            Self::WasReset => WidgetError::VisitorReset,
            _ => WidgetError::Conflict(self.to_string()),
        }
    }
}

impl<E: Rejection> From<CommandError<E>> for WidgetError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(rejection) => rejection.widget_error(),
            other => Self::internal(other),
        }
    }
}
