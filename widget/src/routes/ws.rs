//! `GET /widget/v1/ws?token=...`: one WebSocket per tab. The server sends
//! JSON frames (`ready`, `message`, `handled_by`, `human_requested`,
//! `connection_request`, `connection_answered`, `agent_connected`,
//! `special_request`, `typing`, `session_ended`, `pong`); the client may send
//! `{"type":"ping"}`. An open socket keeps its session alive (no
//! heartbeats needed).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use livedesk_domain::conversation::ConversationState;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::token;
use crate::Widget;
use crate::error::WidgetResult;
use crate::live::Frame;
use crate::session::{Caller, conversation_of};

/// Frames queued for one socket before it counts as stalled and is closed.
const QUEUE: usize = 64;
/// How often the server pings.
const PING: Duration = Duration::from_secs(25);
/// Close code for a socket that does not read.
const SLOW_CONSUMER: u16 = 4413;
/// Close code after the session ended.
const SESSION_ENDED: u16 = 4000;

#[derive(Debug, Deserialize)]
pub(crate) struct WsQuery {
    #[serde(default)]
    token: Option<String>,
}

pub(crate) async fn upgrade(
    State(widget): State<Widget>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> WidgetResult<Response> {
    let caller = widget.caller(token(&headers, query.token.as_deref())).await?;
    // A visitor's frames are small: tungstenite's 128 KiB read buffer per
    // socket was almost all of an idle session's memory (livedesk-bench
    // widget: 135 of 138 KiB).
    Ok(ws
        .max_message_size(4096)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(widget, caller, socket))
        .into_response())
}

async fn run(widget: Widget, caller: Caller, socket: WebSocket) {
    let claims = &caller.claims;
    let conversation = conversation_of(claims.visitor_id);
    let (queue, mut frames) = mpsc::channel::<Frame>(QUEUE);
    let _subscription = widget
        .hub
        .subscribe(claims.session_id, claims.visitor_id, conversation, queue);
    let (mut sink, mut incoming) = socket.split();
    let holder = match widget.conversations.load(conversation).await {
        Ok(ConversationState::Open(c)) => c.taken_over_by.clone(),
        _ => None,
    };
    let ready = json!({
        "type": "ready",
        "sessionId": claims.session_id,
        "conversationId": conversation,
        "handledBy": widget.labels.handled_by(holder.as_ref()),
    });
    if sink.send(Message::Text(ready.to_string().into())).await.is_err() {
        return;
    }
    let mut ping = tokio::time::interval(PING);
    ping.tick().await;
    let close = loop {
        tokio::select! {
            frame = frames.recv() => match frame {
                Some(frame) => {
                    let ended = frame.ends_with("\"type\":\"session_ended\"}");
                    if sink.send(Message::Text(frame.as_ref().into())).await.is_err() {
                        return;
                    }
                    if ended {
                        break Some((SESSION_ENDED, "session ended"));
                    }
                    if frames.capacity() == 0 {
                        break Some((SLOW_CONSUMER, "the client reads too slowly"));
                    }
                }
                None => break None,
            },
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if text.contains("\"ping\"")
                        && sink.send(Message::Text(json!({ "type": "pong" }).to_string().into())).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
    }
}
