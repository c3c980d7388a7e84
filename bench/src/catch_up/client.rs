//! The child process of the `catch-up` scenario: one integrator's
//! WebSocket client.
//!
//! Reads a [`Plan`] line on stdin, connects with `graphql-transport-ws`,
//! authenticates, subscribes to `events` from position 0 and reads until
//! it has every expected event, answering pings; then prints one
//! [`Report`] line on stdout. Each push is parsed as a consumer would read
//! it (the positions and cursor typed, the rest skipped), and checked:
//! positions strictly increase and the cursor is the last event's.

use std::io::BufRead;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Plan, Report};

const QUERY: &str = "subscription($f: EventFilter!, $after: String) { events(filter: $f, after: $after) { \
                     cursor events { position streamId streamVersion type payload actor recordedAt siteId } } }";

/// A server message, as far as the client needs it.
#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<NextPayload>,
}

#[derive(Deserialize)]
struct NextPayload {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Data {
    events: Push,
}

#[derive(Deserialize)]
struct Push {
    cursor: String,
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    position: String,
}

/// `livedesk-bench --catch-up-client`.
pub fn main() -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("no plan on stdin")?;
    let plan: Plan = serde_json::from_str(&line).context("the plan")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let report = runtime.block_on(run(&plan))?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

async fn run(plan: &Plan) -> anyhow::Result<Report> {
    let mut request = plan.ws_url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("connecting to /graphql/ws")?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", plan.token) } });
    socket.send(Message::text(init.to_string())).await?;
    let (mut events, mut pushes, mut bytes, mut last) = (0u64, 0u64, 0u64, 0u64);
    let mut subscribed: Option<Instant> = None;
    let mut first_push_ms = 0.0;
    while events < plan.expected {
        let message = socket.next().await.context("the server closed the connection")??;
        let text = match message {
            Message::Text(text) => text,
            Message::Close(frame) => bail!("closed by the server: {frame:?} after {events} events"),
            _ => continue,
        };
        bytes += text.len() as u64;
        let incoming: Incoming = serde_json::from_str(text.as_str()).context("a server message")?;
        match incoming.kind.as_str() {
            "connection_ack" => {
                let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": QUERY,
                    "variables": { "f": { "siteId": plan.site }, "after": "0" } } });
                socket.send(Message::text(subscribe.to_string())).await?;
                subscribed = Some(Instant::now());
            }
            "ping" => {
                socket
                    .send(Message::text(json!({ "type": "pong" }).to_string()))
                    .await?
            }
            "next" => {
                let payload = incoming.payload.context("`next` without payload")?;
                if let Some(errors) = payload.errors {
                    bail!("the feed failed after {events} events: {errors}");
                }
                let push = payload.data.context("`next` without data")?.events;
                if pushes == 0 {
                    first_push_ms = subscribed.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
                }
                pushes += 1;
                for event in &push.events {
                    let position: u64 = event.position.parse()?;
                    if position <= last {
                        bail!("position {position} after {last}");
                    }
                    last = position;
                }
                if push.cursor != last.to_string() {
                    bail!("a push's cursor {} is not its last position {last}", push.cursor);
                }
                events += push.events.len() as u64;
            }
            other => bail!("unexpected {other} message: {text}"),
        }
    }
    let seconds = subscribed.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let _ = socket
        .send(Message::text(json!({ "type": "complete", "id": "1" }).to_string()))
        .await;
    let _ = socket.close(None).await;
    Ok(Report {
        events,
        pushes,
        bytes,
        seconds,
        first_push_ms,
        cpu_seconds: crate::cpu::own_seconds(),
    })
}
