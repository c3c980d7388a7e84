//! An integrator's consumer of the `events` subscription that never misses
//! an event and, for its own output, never writes one twice
//! (`docs/integrations.md` explains every step).
//!
//! ```text
//! LIVEDESK_TOKEN=ldk_... cargo run -p livedesk-tests --bin integrator_consumer -- \
//!   --url http://127.0.0.1:8080 --site 0193... --cursor feed.cursor --output events.jsonl
//! ```
//!
//! Every option can also be given as an environment variable:
//! `LIVEDESK_URL`, `LIVEDESK_TOKEN`, `LIVEDESK_SITE`, `LIVEDESK_CURSOR`,
//! `LIVEDESK_OUTPUT` (prefer the variable for the token: arguments are
//! visible to every user of the machine).
//!
//! The side effect here is appending each event as a JSON line to the
//! output file. After each push it fsyncs the output, then writes the
//! cursor file (temporary file, fsync, rename): `{"cursor", "output_bytes"}`.
//! On start it cuts the output back to `output_bytes`, so lines written
//! after the last stored cursor (a crash between the two writes) are
//! dropped and received again: at-least-once delivery, exactly-once output.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const QUERY: &str = "subscription($f: EventFilter!, $after: String) { events(filter: $f, after: $after) { \
    cursor events { position eventId streamId streamVersion type schemaVersion payload actor recordedAt siteId } } }";
/// Error codes that retrying the same subscription cannot cure.
const REFUSALS: [&str; 3] = ["FORBIDDEN", "BAD_USER_INPUT", "UNAUTHENTICATED"];
/// Reconnect delays: from this, doubling, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The server pings every 15 s; this long without a word means the
/// connection is dead even if TCP has not noticed.
const SILENCE: Duration = Duration::from_secs(60);

/// Where to connect and where to keep state.
#[derive(Debug)]
struct Config {
    ws_url: String,
    token: String,
    site: String,
    cursor_file: PathBuf,
    output: PathBuf,
}

/// What is durably stored: the last handled position and the output's
/// length at that moment.
#[derive(Debug, Default, Clone, Copy)]
struct Checkpoint {
    cursor: u64,
    output_bytes: u64,
}

/// How a connection ended.
#[derive(Debug)]
enum End {
    /// Reconnect from the stored cursor.
    Retry(String),
    /// Reconnecting cannot help (revoked token, refused subscription).
    Stop(String),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_args()?;
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut backoff = MIN_BACKOFF;
    loop {
        let checkpoint = load(&config)?;
        eprintln!("connecting, resuming after position {}", checkpoint.cursor);
        // Cancelling at an await point is safe: the output and the cursor
        // are written without awaiting in between.
        let end = tokio::select! {
            end = connection(&config, checkpoint, &mut backoff) => end.unwrap_or_else(|e| End::Retry(format!("{e:#}"))),
            _ = &mut ctrl_c => return Ok(()),
        };
        match end {
            End::Stop(why) => bail!("stopping: {why}"),
            End::Retry(why) => {
                let jitter = SystemTime::now().duration_since(UNIX_EPOCH)?.subsec_millis() % 250;
                let delay = backoff + Duration::from_millis(u64::from(jitter));
                eprintln!("disconnected ({why}); reconnecting in {delay:?}");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = &mut ctrl_c => return Ok(()),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One WebSocket connection: handshake, subscribe after the checkpoint,
/// handle pushes until the connection ends.
async fn connection(config: &Config, mut checkpoint: Checkpoint, backoff: &mut Duration) -> anyhow::Result<End> {
    let mut request = config.ws_url.as_str().into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .with_context(|| format!("connecting to {}", config.ws_url))?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", config.token) } });
    socket.send(Message::text(init.to_string())).await?;
    let mut output = OpenOptions::new().append(true).open(&config.output)?;
    loop {
        let message = match tokio::time::timeout(SILENCE, socket.next()).await {
            Err(_) => return Ok(End::Retry(format!("nothing heard for {SILENCE:?}"))),
            Ok(None) => return Ok(End::Retry("connection ended".into())),
            Ok(Some(message)) => message?,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(frame) => return Ok(closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())))),
            _ => continue, // WebSocket-level pings are answered by tungstenite
        };
        let message: Value = serde_json::from_str(text.as_str())?;
        match message["type"].as_str() {
            Some("connection_ack") => {
                let variables = json!({ "f": { "siteId": config.site }, "after": checkpoint.cursor.to_string() });
                let subscribe = json!({ "type": "subscribe", "id": "events",
                    "payload": { "query": QUERY, "variables": variables } });
                socket.send(Message::text(subscribe.to_string())).await?;
            }
            Some("ping") => {
                socket
                    .send(Message::text(json!({ "type": "pong" }).to_string()))
                    .await?
            }
            Some("next") => {
                let payload = &message["payload"];
                if let Some(errors) = payload["errors"].as_array() {
                    let code = |e: &Value| e["extensions"]["code"].as_str().unwrap_or_default().to_owned();
                    if let Some(refused) = errors.iter().map(code).find(|c| REFUSALS.contains(&c.as_str())) {
                        return Ok(End::Stop(format!(
                            "subscription refused ({refused}): {}",
                            payload["errors"]
                        )));
                    }
                    // INTERNAL: the feed ends after this (then `complete`); resume.
                    eprintln!("the feed reported: {}", payload["errors"]);
                }
                if let Some(push) = payload["data"]["events"].as_object() {
                    checkpoint = handle(config, &mut output, checkpoint, push)?;
                    *backoff = MIN_BACKOFF;
                }
            }
            Some("error") => return Ok(End::Stop(format!("subscription refused: {}", message["payload"]))),
            Some("complete") => return Ok(End::Retry("the server completed the feed".into())),
            _ => {}
        }
    }
}

/// Handles one push: appends its events to the output, makes them
/// durable, then stores the push's cursor. Returns the new checkpoint.
fn handle(
    config: &Config,
    output: &mut File,
    checkpoint: Checkpoint,
    push: &serde_json::Map<String, Value>,
) -> anyhow::Result<Checkpoint> {
    let cursor: u64 = push["cursor"].as_str().context("a push without cursor")?.parse()?;
    let mut lines = Vec::new();
    for event in push["events"].as_array().into_iter().flatten() {
        serde_json::to_writer(&mut lines, event)?;
        lines.push(b'\n');
    }
    output.write_all(&lines)?;
    output.sync_data()?;
    let next = Checkpoint {
        cursor,
        output_bytes: checkpoint.output_bytes + lines.len() as u64,
    };
    store(&config.cursor_file, next)?;
    Ok(next)
}

/// What a close code asks for.
fn closed(frame: Option<(u16, String)>) -> End {
    match frame {
        Some((4403, reason)) => End::Stop(format!("4403 {reason}: the token is revoked or invalid")),
        Some((4401, reason)) => End::Stop(format!("4401 {reason}: subscribed before the ack (a bug here)")),
        // 4413 slow consumer, 4504 keep-alive, 1001 server restart, ...
        Some((code, reason)) => End::Retry(format!("closed {code} {reason}")),
        None => End::Retry("closed without a code".into()),
    }
}

/// Reads the checkpoint (none yet: position 0) and cuts the output back
/// to what the checkpoint covers.
fn load(config: &Config) -> anyhow::Result<Checkpoint> {
    let checkpoint = match std::fs::read_to_string(&config.cursor_file) {
        Ok(text) => {
            let value: Value = serde_json::from_str(&text).context("the cursor file")?;
            Checkpoint {
                cursor: value["cursor"]
                    .as_str()
                    .context("no cursor in the cursor file")?
                    .parse()?,
                output_bytes: value["output_bytes"]
                    .as_u64()
                    .context("no output_bytes in the cursor file")?,
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Checkpoint::default(),
        Err(e) => return Err(e).context("reading the cursor file"),
    };
    let output = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&config.output)
        .with_context(|| format!("opening {}", config.output.display()))?;
    let length = output.metadata()?.len();
    if length > checkpoint.output_bytes {
        output.set_len(checkpoint.output_bytes)?;
        output.sync_all()?;
    } else if length < checkpoint.output_bytes {
        eprintln!(
            "warning: {} is shorter than the cursor file says",
            config.output.display()
        );
    }
    Ok(Checkpoint {
        output_bytes: length.min(checkpoint.output_bytes),
        ..checkpoint
    })
}

/// Replaces the cursor file atomically and durably: a crash leaves the
/// old checkpoint or the new one, never a torn file.
fn store(path: &Path, checkpoint: Checkpoint) -> anyhow::Result<()> {
    let text = json!({ "cursor": checkpoint.cursor.to_string(), "output_bytes": checkpoint.output_bytes });
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary)?;
    file.write_all(text.to_string().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    let directory = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(directory)?.sync_all()?; // makes the rename itself durable
    Ok(())
}

impl Config {
    /// `--url --token --site --cursor --output`, each falling back to
    /// `LIVEDESK_URL`, `LIVEDESK_TOKEN`, ...
    fn from_args() -> anyhow::Result<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let option = |name: &str| -> anyhow::Result<String> {
            let flag = format!("--{name}");
            let given = args
                .iter()
                .position(|a| *a == flag)
                .and_then(|i| args.get(i + 1))
                .cloned();
            let variable = format!("LIVEDESK_{}", name.to_uppercase());
            given
                .or_else(|| std::env::var(&variable).ok())
                .with_context(|| format!("give {flag} or set {variable}"))
        };
        let url = option("url")?;
        let ws_url = format!("{}/graphql/ws", url.trim_end_matches('/').replacen("http", "ws", 1));
        Ok(Self {
            ws_url,
            token: option("token")?,
            site: option("site")?,
            cursor_file: option("cursor")?.into(),
            output: option("output")?.into(),
        })
    }
}
