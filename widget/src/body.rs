//! Request bodies: JSON sent as `application/json`, or as `text/plain`
//! (what `navigator.sendBeacon` sends with a string), up to the configured
//! size. Every failure is a widget error, so nothing is appended.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::Widget;
use crate::error::WidgetError;

/// A JSON body read under the widget's rules.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Widget> for JsonBody<T> {
    type Rejection = WidgetError;

    async fn from_request(request: Request, widget: &Widget) -> Result<Self, Self::Rejection> {
        let limit = widget.config.max_body_bytes;
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/plain")
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_owned();
        if essence != "application/json" && essence != "text/plain" {
            return Err(WidgetError::UnsupportedMediaType);
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > limit) {
            return Err(WidgetError::BodyTooLarge(limit));
        }
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| WidgetError::BodyTooLarge(limit))?;
        parse(&bytes).map(Self)
    }
}

/// An empty body reads as `{}`.
fn parse<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, WidgetError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes.as_ref()
    };
    serde_json::from_slice(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => WidgetError::InvalidInput(e.to_string()),
        _ => WidgetError::MalformedJson(format!("the body is not valid JSON: {e}")),
    })
}
