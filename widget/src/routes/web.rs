//! The script customers embed (`/widget.js`) and a demo page that embeds
//! it (`/demo`), both compiled into the binary from `widget/web/`.

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const SCRIPT: &str = include_str!("../../web/widget.js");
const DEMO: &str = include_str!("../../web/demo.html");

/// The widget key `livedesk demo` gives its site.
pub const DEMO_WIDGET_KEY: &str = "demo-shop";

/// `GET /widget.js`.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        SCRIPT,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct DemoQuery {
    key: Option<String>,
}

/// `GET /demo[?key=KEY]`: the demo shop's home page.
pub(crate) async fn demo(query: Query<DemoQuery>) -> Response {
    demo_page(Path(String::new()), query).await
}

/// `GET /demo/{pricing|shipping|checkout}[?key=KEY]`: a small shop whose
/// pages embed the widget for the site with widget key `KEY` (`demo-shop` by
/// default).
pub(crate) async fn demo_page(Path(page): Path<String>, Query(query): Query<DemoQuery>) -> Response {
    let key = query.key.unwrap_or_else(|| DEMO_WIDGET_KEY.into());
    let legal = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if key.is_empty() || key.len() > 64 || !key.chars().all(legal) {
        return (StatusCode::BAD_REQUEST, "key: 1 to 64 letters, digits, _ or -").into_response();
    }
    let title = match page.as_str() {
        "" => "Home",
        "pricing" => "Pricing",
        "shipping" => "Shipping",
        "checkout" => "Checkout",
        _ => return (StatusCode::NOT_FOUND, "no such page").into_response(),
    };
    let page = DEMO.replace("{{WIDGET_KEY}}", &key).replace("{{TITLE}}", title);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}
