//! The session cookie and the same-origin checks a cookie-authenticated
//! request must pass.
//!
//! The cookie is `livedesk_session`: `HttpOnly`, `SameSite=Strict`,
//! `Path=/`, `Secure` when the console is served over TLS (configured, or
//! the request came through a proxy saying `X-Forwarded-Proto: https`).
//! Because a cookie travels with requests another site makes the browser
//! send, a request authenticated by it must also:
//!
//! - carry `X-Livedesk-Console: 1` (HTTP): a cross-site page can only add
//!   such a header after a CORS preflight, which this server never
//!   grants, and a form post cannot add it at all;
//! - come from this origin: an `Origin` header, when present, names this
//!   host, and `Sec-Fetch-Site`, when present, is `same-origin` or `none`.
//!   A WebSocket upgrade (which cannot carry custom headers) must have an
//!   `Origin` naming this host.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::error::{ApiError, ApiResult};

/// The cookie's name.
pub const SESSION_COOKIE: &str = "livedesk_session";
/// The header every cookie-authenticated HTTP request carries.
pub const CONSOLE_HEADER: &str = "x-livedesk-console";

/// The session secret of the request's cookie, if it has one.
pub fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// Whether the request came through TLS (as a proxy in front says).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session lasting `max_age_secs`.
pub fn set(secret: &str, max_age_secs: u64, secure: bool, headers: &HeaderMap) -> HeaderValue {
    let secure = if secure || over_tls(headers) { "; Secure" } else { "" };
    let value = format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("livedesk_session=; Max-Age=0"))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear() -> HeaderValue {
    HeaderValue::from_static("livedesk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Refuses a request that may have been made by another site.
///
/// # Errors
///
/// [`ApiError::Forbidden`] naming what is missing or foreign.
pub fn require_same_origin(headers: &HeaderMap) -> ApiResult<()> {
    if headers.get(CONSOLE_HEADER).is_none() {
        return Err(ApiError::Forbidden(
            "a request signed in by the console's cookie must carry X-Livedesk-Console: 1".into(),
        ));
    }
    check_origin(headers, false)
}

/// Refuses a WebSocket upgrade with the session cookie from another
/// origin (or with no `Origin` at all).
///
/// # Errors
///
/// [`ApiError::Forbidden`].
pub fn require_same_origin_upgrade(headers: &HeaderMap) -> ApiResult<()> {
    check_origin(headers, true)
}

fn check_origin(headers: &HeaderMap, origin_required: bool) -> ApiResult<()> {
    let foreign = || ApiError::Forbidden("cross-site requests with the console's cookie are refused".into());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
        return Err(foreign());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None if !origin_required => Ok(()),
        Some(Ok(origin)) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            if origin_host.is_some() && origin_host == host {
                Ok(())
            } else {
                Err(foreign())
            }
        }
        _ => Err(foreign()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_session_secret_is_read_from_any_cookie_header() {
        let h = headers(&[("cookie", "a=1; livedesk_session=abc ; b=2")]);
        assert_eq!(session_secret(&h), Some("abc"));
        assert_eq!(session_secret(&headers(&[("cookie", "livedesk_session=")])), None);
        assert_eq!(session_secret(&headers(&[("cookie", "other=1")])), None);
    }

    #[test]
    fn cookie_requests_need_the_console_header_and_this_origin() {
        let host = ("host", "127.0.0.1:8080");
        let header = (CONSOLE_HEADER, "1");
        assert!(require_same_origin(&headers(&[host, header])).is_ok());
        assert!(require_same_origin(&headers(&[host, header, ("origin", "http://127.0.0.1:8080")])).is_ok());
        assert!(require_same_origin(&headers(&[host])).is_err());
        assert!(require_same_origin(&headers(&[host, header, ("origin", "http://evil.example")])).is_err());
        assert!(require_same_origin(&headers(&[host, header, ("origin", "null")])).is_err());
        assert!(require_same_origin(&headers(&[host, header, ("sec-fetch-site", "cross-site")])).is_err());
        assert!(require_same_origin(&headers(&[host, header, ("sec-fetch-site", "same-site")])).is_err());
        assert!(require_same_origin_upgrade(&headers(&[host])).is_err());
        assert!(require_same_origin_upgrade(&headers(&[host, ("origin", "http://127.0.0.1:8080")])).is_ok());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let plain = set("s", 60, false, &HeaderMap::new());
        assert_eq!(
            plain.to_str().ok(),
            Some("livedesk_session=s; Path=/; HttpOnly; SameSite=Strict; Max-Age=60")
        );
        let proxied = set("s", 60, false, &headers(&[("x-forwarded-proto", "https")]));
        assert!(proxied.to_str().is_ok_and(|v| v.ends_with("; Secure")));
        assert!(
            set("s", 60, true, &HeaderMap::new())
                .to_str()
                .is_ok_and(|v| v.ends_with("; Secure"))
        );
    }
}
