//! The child process of the `widget` scenario: the visitors and the agent.
//!
//! Reads a [`Plan`] line on stdin, then: starts the sessions, reports;
//! opens one WebSocket per session, reports; opens the senders'
//! conversations (one message each), reports; subscribes an agent to
//! `notifications` and lets the senders chat, reports the latencies; each
//! report is a [`Step`] line on stdout, each next step waits for a `next`
//! line on stdin.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{LoadReport, Plan, Step, rss_kib};
use crate::load::{self, histogram};

/// Requests or connections in flight while opening.
const OPENING: usize = 64;

/// When each message in flight was posted, and whether it counts.
type Sent = Arc<Mutex<HashMap<String, (Instant, bool)>>>;

/// `livedesk-bench --widget-clients`.
pub fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let mut stdin = stdin_lines();
    let line = stdin.recv().await.context("no plan on stdin")?;
    let plan: Plan = serde_json::from_str(&line).context("the plan")?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.senders + OPENING)
        .build()
        .context("HTTP client")?;

    let tokens = start_sessions(&http, &plan).await?;
    report("sessions", tokens.len(), 0, None);
    wait_next(&mut stdin).await?;

    let closed = Arc::new(AtomicUsize::new(0));
    let opened = open_sockets(&plan, &tokens, &closed).await?;
    report("sockets", opened, closed.load(Ordering::Relaxed), None);
    wait_next(&mut stdin).await?;

    let conversations = open_conversations(&http, &plan, &tokens).await?;
    report("conversations", conversations, closed.load(Ordering::Relaxed), None);
    wait_next(&mut stdin).await?;

    let load = chat(&http, &plan, &tokens).await?;
    report("load", opened, closed.load(Ordering::Relaxed), Some(load));
    wait_next(&mut stdin).await?;
    Ok(())
}

fn report(stage: &str, open: usize, closed: usize, load: Option<LoadReport>) {
    let step = Step {
        stage: stage.to_owned(),
        client_rss_kib: rss_kib(),
        open,
        closed,
        load,
    };
    match serde_json::to_string(&step) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("widget clients: cannot report {stage}: {e}"),
    }
}

/// Stdin's lines, read on a thread of their own.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<String> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn wait_next(stdin: &mut tokio::sync::mpsc::Receiver<String>) -> anyhow::Result<()> {
    match stdin.recv().await {
        Some(line) if line == "next" => Ok(()),
        other => bail!("expected `next` on stdin, got {other:?}"),
    }
}

/// `POST /widget/v1/sessions` for every session; their tokens.
async fn start_sessions(http: &reqwest::Client, plan: &Plan) -> anyhow::Result<Vec<String>> {
    let url = format!("{}/widget/v1/sessions", plan.base);
    futures::stream::iter(0..plan.sessions)
        .map(|i| {
            let body = json!({ "widgetKey": plan.widget_key, "tabId": format!("t-{i}"), "path": "/bench" });
            let request = http.post(&url).json(&body).send();
            async move {
                let response = request.await.context("POST /widget/v1/sessions")?;
                let status = response.status();
                let value: Value = response.json().await.context("session answer")?;
                value["token"]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("session answer {status}: {value}"))
            }
        })
        .buffered(OPENING)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Opens a socket per token and waits for its `ready` frame; each then
/// reads (and drops) frames until the server closes it.
async fn open_sockets(plan: &Plan, tokens: &[String], closed: &Arc<AtomicUsize>) -> anyhow::Result<usize> {
    let ws_base = plan.base.replacen("http://", "ws://", 1);
    let opened: Vec<anyhow::Result<()>> = futures::stream::iter(tokens)
        .map(|token| {
            let url = format!("{ws_base}/widget/v1/ws?token={token}");
            let closed = closed.clone();
            async move {
                let (mut socket, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .context("widget WebSocket")?;
                match socket.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"ready\"") => {}
                    other => bail!("expected a ready frame, got {other:?}"),
                }
                tokio::spawn(async move {
                    while let Some(Ok(_)) = socket.next().await {}
                    closed.fetch_add(1, Ordering::Relaxed);
                });
                Ok(())
            }
        })
        .buffer_unordered(OPENING)
        .collect()
        .await;
    all_done(&opened, "sockets failed to open")
}

/// How many of `results` there are, or an error naming how many failed
/// (`what`) and the first failure.
fn all_done(results: &[anyhow::Result<()>], what: &str) -> anyhow::Result<usize> {
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    if let Some(first) = failed.first() {
        bail!("{} of {} {what}, first: {first:#}", failed.len(), results.len());
    }
    Ok(results.len())
}

/// Each sender says hello, which opens its conversation (the assistant
/// answers it too), so that the server's tables hold the conversations
/// before the statistics are taken and the load begins.
async fn open_conversations(http: &reqwest::Client, plan: &Plan, tokens: &[String]) -> anyhow::Result<usize> {
    let url = format!("{}/widget/v1/messages", plan.base);
    let opened: Vec<anyhow::Result<()>> = futures::stream::iter(tokens.iter().take(plan.senders))
        .map(|token| post(http, &url, token, "hello"))
        .buffer_unordered(OPENING)
        .collect()
        .await;
    all_done(&opened, "conversations failed to open")
}

/// The agent subscribes; the senders post every period; latencies.
async fn chat(http: &reqwest::Client, plan: &Plan, tokens: &[String]) -> anyhow::Result<LoadReport> {
    let sent: Sent = Arc::default();
    let delivered = Arc::new(Mutex::new(histogram()?));
    let (probe_tx, mut probe_rx) = tokio::sync::mpsc::channel(1);
    let agent = tokio::spawn(agent(plan.clone_for_agent(), sent.clone(), delivered.clone(), probe_tx));

    // Live once a probe message gets through.
    let first = tokens.first().context("no session")?;
    let url = format!("{}/widget/v1/messages", plan.base);
    for attempt in 0.. {
        post(http, &url, first, &format!("probe-{attempt}")).await?;
        match tokio::time::timeout(Duration::from_secs(2), probe_rx.recv()).await {
            Ok(Some(())) => break,
            Ok(None) => bail!("the agent's subscription ended: {:?}", agent.await),
            Err(_) if attempt < 15 => {}
            Err(_) => bail!("the agent's subscription delivered no probe within 30 s"),
        }
    }

    let period = Duration::from_millis(plan.period_ms);
    let start = Instant::now() + Duration::from_millis(100);
    let from = start + Duration::from_millis(plan.warmup_ms);
    let until = from + Duration::from_millis(plan.measure_ms);
    let errors = Arc::new(AtomicU64::new(0));
    let posts = Arc::new(Mutex::new(histogram()?));
    let mut senders = tokio::task::JoinSet::new();
    for (i, token) in tokens.iter().take(plan.senders).enumerate() {
        let offset = period.mul_f64(i as f64 / plan.senders as f64);
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        let (sent, errors, posts) = (sent.clone(), errors.clone(), posts.clone());
        senders.spawn(async move {
            let mut at = start + offset;
            let mut k = 0u64;
            while at < until {
                tokio::time::sleep_until(at).await;
                let body = format!("m{i}-{k}");
                let began = Instant::now();
                let counts = (from..until).contains(&began);
                lock(&sent).insert(body.clone(), (began, counts));
                match post(&http, &url, &token, &body).await {
                    Ok(()) if counts => load::record(&mut lock(&posts), began.elapsed()),
                    Ok(()) => {}
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("widget clients: {e:#}");
                        }
                        lock(&sent).remove(&body);
                    }
                }
                at += period;
                k += 1;
            }
        });
    }
    while senders.join_next().await.is_some() {}
    let sent_in_window = lock(&sent).values().filter(|(_, counts)| *counts).count() as u64 + lock(&delivered).len();
    // Stragglers get ten seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lock(&sent).values().any(|(_, counts)| *counts) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.abort();
    let d = lock(&delivered).clone();
    let p = lock(&posts).clone();
    Ok(LoadReport {
        sent: sent_in_window,
        delivered: d.len(),
        errors: errors.load(Ordering::Relaxed),
        post_p50: load::ms(&p, 0.5),
        post_p99: load::ms(&p, 0.99),
        deliver_p50: load::ms(&d, 0.5),
        deliver_p99: load::ms(&d, 0.99),
        deliver_p999: load::ms(&d, 0.999),
        deliver_max: d.max() as f64 / 1000.0,
    })
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: &str) -> anyhow::Result<()> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "body": body, "clientMessageId": body }))
        .send()
        .await
        .context("POST /widget/v1/messages")?;
    if !response.status().is_success() {
        let status = response.status();
        bail!(
            "POST /widget/v1/messages: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// What the agent task needs of the plan.
#[derive(Debug, Clone)]
struct AgentPlan {
    url: String,
    token: String,
}

impl Plan {
    fn clone_for_agent(&self) -> AgentPlan {
        AgentPlan {
            url: format!("{}/graphql/ws", self.base.replacen("http://", "ws://", 1)),
            token: self.agent_token.clone(),
        }
    }
}

/// The agent's console: `notifications` over graphql-transport-ws; records
/// each counted message's latency, signals probes.
async fn agent(
    plan: AgentPlan,
    sent: Sent,
    delivered: Arc<Mutex<Histogram<u64>>>,
    probe: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let mut request = plan.url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("agent WebSocket")?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", plan.token) } });
    socket.send(Message::Text(init.to_string().into())).await?;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else { continue };
        let now = Instant::now();
        let value: Value = serde_json::from_str(text.as_str())?;
        match value["type"].as_str() {
            Some("connection_ack") => {
                let subscribe = json!({ "type": "subscribe", "id": "1",
                    "payload": { "query": "subscription { notifications { kind message { body } } }" } });
                socket.send(Message::Text(subscribe.to_string().into())).await?;
            }
            Some("ping") => {
                socket
                    .send(Message::Text(json!({ "type": "pong" }).to_string().into()))
                    .await?;
            }
            Some("next") => {
                let Some(body) = value["payload"]["data"]["notifications"]["message"]["body"].as_str() else {
                    continue;
                };
                if body.starts_with("probe-") {
                    let _ = probe.try_send(());
                } else if let Some((began, counts)) = lock(&sent).remove(body)
                    && counts
                {
                    load::record(&mut lock(&delivered), now.duration_since(began));
                }
            }
            Some("error" | "complete") => bail!("the agent's subscription stopped: {value}"),
            _ => {}
        }
    }
    bail!("the agent's socket closed")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
