//! Serving the agent console: the files `npm run build` wrote to
//! `console/dist` (`--console-dir`), read once at start.
//!
//! - `/` leads to `/console/` (the demo shop stays at `/demo`).
//! - `/console/assets/*` are content-hashed: cached for a year,
//!   `immutable`; a missing one is 404.
//! - Every other `/console/*` path that is not a file is the app's
//!   `index.html` (`no-cache`), so deep links work after a reload.
//! - Every answer carries a Content-Security-Policy that allows no inline
//!   script and no foreign origin, with `nosniff`, no framing and a
//!   same-origin referrer.
//! - A file with a `.br` or `.gz` twin (the build writes them) is served
//!   compressed to clients that accept it.
//!
//! The sign-in API under `/console/api/` belongs to `livedesk-api`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The policy every console answer carries.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; media-src 'self' data: blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One file of the built console.
#[derive(Debug)]
struct Asset {
    content_type: &'static str,
    plain: Vec<u8>,
    brotli: Option<Vec<u8>>,
    gzip: Option<Vec<u8>>,
}

/// The built console, by URL path below `/console/`.
#[derive(Debug, Clone, Default)]
pub struct ConsoleAssets {
    files: Arc<HashMap<String, Asset>>,
}

impl ConsoleAssets {
    /// Reads every file under `dir`. A missing directory gives an empty
    /// console, which answers 503 saying how to build it.
    ///
    /// # Errors
    ///
    /// A file that exists but cannot be read.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        if dir.is_dir() {
            read_dir(dir, dir, &mut files)?;
        } else {
            tracing::warn!(dir = %dir.display(), "the console is not built: run `npm ci && npm run build` in console/");
        }
        Ok(Self { files: Arc::new(files) })
    }

    /// Whether an `index.html` was found.
    pub fn is_built(&self) -> bool {
        self.files.contains_key("index.html")
    }
}

fn read_dir(root: &Path, dir: &Path, files: &mut HashMap<String, Asset>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, files)?;
            continue;
        }
        let Some(name) = path.strip_prefix(root).ok().and_then(|p| p.to_str()) else {
            continue;
        };
        let name = name.replace('\\', "/");
        if name.ends_with(".br") || name.ends_with(".gz") {
            continue;
        }
        let twin = |ext: &str| std::fs::read(format!("{}.{ext}", path.display())).ok();
        let asset = Asset {
            content_type: content_type(&name),
            plain: std::fs::read(&path)?,
            brotli: twin("br"),
            gzip: twin("gz"),
        };
        files.insert(name, asset);
    }
    Ok(())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `/` and `/console/*`.
pub fn router<S: Clone + Send + Sync + 'static>(assets: ConsoleAssets) -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(serve))
        .route("/console/{*path}", get(serve))
        .with_state(assets)
}

async fn serve(State(assets): State<ConsoleAssets>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().strip_prefix("/console/").unwrap_or_default();
    if !assets.is_built() {
        let page = "<!doctype html><title>Livedesk console</title><p>The console is not built. Run \
                    <code>npm ci &amp;&amp; npm run build</code> in <code>console/</code> (scripts/run.sh does), \
                    then restart the server.</p>";
        return secure((StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(page)).into_response());
    }
    let (name, cache) = match assets.files.get(path) {
        Some(_) if path.starts_with("assets/") => (path, "public, max-age=31536000, immutable"),
        Some(_) if !path.is_empty() => (path, "no-cache"),
        _ if path.starts_with("assets/") || path.starts_with("api/") => {
            return secure(StatusCode::NOT_FOUND.into_response());
        }
        _ => ("index.html", "no-cache"),
    };
    let Some(asset) = assets.files.get(name) else {
        return secure(StatusCode::NOT_FOUND.into_response());
    };
    let accepts = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accepts = |coding: &str| {
        accepts
            .split(',')
            .any(|c| c.split(';').next().unwrap_or_default().trim() == coding)
    };
    let (body, encoding) = match (&asset.brotli, &asset.gzip) {
        (Some(br), _) if accepts("br") => (br.clone(), Some("br")),
        (_, Some(gz)) if accepts("gzip") => (gz.clone(), Some("gzip")),
        _ => (asset.plain.clone(), None),
    };
    let mut response = Response::new(Body::from(body));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    secure(response)
}

/// Adds the security headers every console answer carries.
fn secure(mut response: Response) -> Response {
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
