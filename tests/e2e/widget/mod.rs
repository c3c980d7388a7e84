//! The widget API over a real server: a visitor's HTTP calls and its
//! WebSocket, as the script would make them.

mod assistant;
mod bad_input;
mod identity;
mod lifecycle;
mod sweep;

use std::time::Duration;

use futures::StreamExt;
use livedesk_domain::site::{SiteCommand, SiteSettings};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::fixtures::Fixture;
use crate::helpers::TestApp;

/// A Firefox on Linux.
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0";

/// POSTs JSON to a widget endpoint with an optional bearer token.
pub async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/widget/v1/{path}", app.address))
        .header("user-agent", FIREFOX)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("widget request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs a widget endpoint.
pub async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/widget/v1/{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("widget request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A tab of a visitor's browser.
#[derive(Debug, Clone)]
pub struct Tab {
    pub token: String,
    pub session: Uuid,
    pub visitor: Uuid,
    pub conversation: Uuid,
    pub answer: Value,
}

impl Tab {
    fn from(answer: Value) -> Self {
        let id = |field: &str| Uuid::parse_str(answer[field].as_str().unwrap_or_default()).expect(field);
        Self {
            token: answer["token"].as_str().expect("token").to_owned(),
            session: id("sessionId"),
            visitor: id("visitorId"),
            conversation: id("conversationId"),
            answer,
        }
    }

    /// Starts (or resumes) a session with `body` merged into the basics.
    pub async fn start_with(app: &TestApp, site: &Fixture, tab: &str, extra: Value) -> Self {
        let mut body = json!({ "widgetKey": site.widget_key(), "tabId": tab, "path": "/pricing" });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let (status, answer) = post(app, "sessions", None, body).await;
        assert_eq!(status, 200, "{answer}");
        Self::from(answer)
    }

    /// A new visitor in a new tab.
    pub async fn start(app: &TestApp, site: &Fixture) -> Self {
        Self::start_with(app, site, &format!("tab-{}", Uuid::now_v7()), json!({})).await
    }

    /// POSTs to `path` with this tab's token.
    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> (u16, Value) {
        post(app, path, Some(&self.token), body).await
    }

    /// Sends a message; returns the answer.
    pub async fn say(&self, app: &TestApp, text: &str) -> Value {
        let (status, answer) = self.post(app, "messages", json!({ "body": text })).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Opens the tab's WebSocket and reads its `ready` frame.
    pub async fn connect(&self, app: &TestApp) -> WidgetSocket {
        let url = format!(
            "{}/widget/v1/ws?token={}",
            app.address.replacen("http", "ws", 1),
            self.token
        );
        let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("widget ws");
        let mut socket = WidgetSocket { socket };
        let ready = socket.frame().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        socket
    }
}

/// A widget WebSocket.
pub struct WidgetSocket {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl WidgetSocket {
    /// The next JSON frame, within 10 s.
    pub async fn frame(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s");
            match next {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(text.as_str()).expect("json frame"),
                Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
                Some(Ok(_)) => continue,
                other => panic!("socket failed: {other:?}"),
            }
        }
    }

    /// Frames until one of `kind`; returns it and those skipped.
    pub async fn until(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut skipped = Vec::new();
        loop {
            let frame = self.frame().await;
            if frame["type"] == kind {
                return (frame, skipped);
            }
            skipped.push(frame);
        }
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// Changes the site's settings.
pub async fn set_settings(site: &Fixture, change: impl FnOnce(&mut SiteSettings)) {
    let mut settings = SiteSettings::default();
    change(&mut settings);
    site.site_command(SiteCommand::ChangeSettings {
        settings,
        at: chrono::Utc::now(),
    })
    .await;
}

/// The events of a stream: `(type, payload)`.
pub async fn events_of(app: &TestApp, stream: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT event_type, payload::text FROM events WHERE stream_id = $1 ORDER BY stream_version")
            .bind(stream)
            .fetch_all(app.store.pool())
            .await
            .expect("events");
    rows.into_iter()
        .map(|(t, p)| (t, serde_json::from_str(&p).expect("payload")))
        .collect()
}

/// Why a session ended, if it did.
pub async fn end_reason(app: &TestApp, session: Uuid) -> Option<String> {
    events_of(app, &format!("session-{session}"))
        .await
        .into_iter()
        .find(|(t, _)| t == "SessionEnded")
        .and_then(|(_, p)| p["reason"].as_str().map(str::to_owned))
}

/// Polls `check` every 50 ms until it gives a value, for at most 15 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
