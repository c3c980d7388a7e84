//! Who is calling: the client IP (the TCP peer, or a trusted proxy's
//! header), browser, OS and device class from the User-Agent (`woothee`),
//! and the country (a trusted proxy's header, else a MaxMind-format
//! database, else unknown).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use axum::http::HeaderMap;
use livedesk_domain::session::{ClientInfo, DeviceClass};

/// Longest browser or OS name kept.
const MAX_NAME: usize = 64;

/// The client IP: the last address of `header` when configured and
/// parsable (the one the trusted proxy saw), else the TCP peer.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, header: Option<&str>) -> Option<IpAddr> {
    let from_header = header
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    from_header.or_else(|| peer.map(|p| p.ip()))
}

/// Browser, OS and device class of a User-Agent.
pub fn parse_user_agent(user_agent: &str) -> (String, String, DeviceClass) {
    let parser = woothee::parser::Parser::new();
    let Some(result) = parser.parse(user_agent) else {
        return ("unknown".into(), "unknown".into(), DeviceClass::Unknown);
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let browser = match (known(result.name), known(result.version)) {
        (true, true) => format!("{} {}", result.name, major(result.version)),
        (true, false) => result.name.to_owned(),
        _ => "unknown".to_owned(),
    };
    let os = match (known(result.os), known(&result.os_version)) {
        (true, true) => format!("{} {}", result.os, result.os_version),
        (true, false) => result.os.to_owned(),
        _ => "unknown".to_owned(),
    };
    let device = match result.category {
        "pc" => DeviceClass::Desktop,
        "smartphone" | "mobilephone" => {
            if user_agent.contains("iPad") || (user_agent.contains("Android") && !user_agent.contains("Mobile")) {
                DeviceClass::Tablet
            } else {
                DeviceClass::Mobile
            }
        }
        _ => DeviceClass::Unknown,
    };
    (truncate(browser), truncate(os), device)
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

fn truncate(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_NAME) {
        s.truncate(i);
    }
    s
}

/// Country lookups: a proxy header or a MaxMind-format database.
pub struct Geo {
    header: Option<String>,
    db: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Geo")
            .field("header", &self.header)
            .field("db", &self.db.is_some())
            .finish()
    }
}

impl Geo {
    /// Opens the database at `db`, if given.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn open(header: Option<String>, db: Option<&Path>) -> Result<Self, maxminddb::MaxMindDbError> {
        let db = db.map(maxminddb::Reader::open_readfile).transpose()?;
        Ok(Self { header, db })
    }

    /// The ISO alpha-2 country, or `None` for unknown.
    pub fn country(&self, headers: &HeaderMap, ip: Option<IpAddr>) -> Option<String> {
        let from_header = self
            .header
            .as_deref()
            .and_then(|name| headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(iso_country);
        from_header.or_else(|| {
            let (db, ip) = (self.db.as_ref()?, ip?);
            let found: CountryRecord<'_> = db.lookup(ip).ok()??;
            found
                .country
                .and_then(|c| c.iso_code)
                .or(found.country_code)
                .and_then(iso_country)
        })
    }
}

/// A country database's record: MaxMind's GeoIP2 / GeoLite2 layout
/// (`country.iso_code`) or ip-location-db's (`country_code`), the freely
/// licensed databases `livedesk demo` uses.
#[derive(Debug, serde::Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(default)]
    country_code: Option<&'a str>,
}

#[derive(Debug, serde::Deserialize)]
struct IsoCode<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
}

/// `code` upper-cased if it is two ASCII letters (`XX` and `T1`, which
/// proxies use for unknown and Tor, are not countries).
fn iso_country(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) && code != "XX").then_some(code)
}

/// The client description of a session start.
pub fn client_info(headers: &HeaderMap, geo: &Geo, ip: Option<IpAddr>) -> ClientInfo {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (browser, os, device) = parse_user_agent(user_agent);
    ClientInfo {
        browser,
        device,
        os,
        country: geo.country(headers, ip),
        languages: headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(accept_language)
            .unwrap_or_default(),
    }
}

/// Most languages kept from one `Accept-Language` header.
const MAX_LANGUAGES: usize = 10;

/// The languages of an `Accept-Language` header, preferred first: ordered
/// by `q` (stable, so equal weights keep the header's order), without
/// `*`, `q=0` and anything that is not a plausible BCP 47 tag (letters,
/// digits and `-`, at most 35 characters); at most ten.
pub fn accept_language(header: &str) -> Vec<String> {
    let mut weighted: Vec<(u16, String)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let plausible = !tag.is_empty()
                && tag.len() <= 35
                && tag.starts_with(|c: char| c.is_ascii_alphabetic())
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !plausible {
                return None;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                })?;
            (q > 0).then(|| (q, tag.replace('_', "-")))
        })
        .take(MAX_LANGUAGES)
        .collect();
    weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn accept_language_gives_the_languages_by_preference() {
        assert_eq!(accept_language("de-AT,de;q=0.9,en;q=0.8"), ["de-AT", "de", "en"]);
        assert_eq!(accept_language("en;q=0.5, fr , *;q=0.1, xx;q=0"), ["fr", "en"]);
        assert_eq!(accept_language("pt_BR, <script>, "), ["pt-BR"]);
        assert!(accept_language("").is_empty());
    }

    #[test]
    fn common_user_agents_give_browser_os_and_device() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0";
        let (browser, os, device) = parse_user_agent(firefox);
        assert_eq!(
            (browser.as_str(), os.as_str(), device),
            ("Firefox 131", "Linux", DeviceClass::Desktop)
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        let (browser, os, device) = parse_user_agent(iphone);
        assert!(browser.starts_with("Safari"), "{browser}");
        assert!(os.starts_with("iPhone"), "{os}");
        assert_eq!(device, DeviceClass::Mobile);
        let ipad = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                    (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(parse_user_agent(ipad).2, DeviceClass::Tablet);
        assert_eq!(
            parse_user_agent("curl/8.0"),
            parse_user_agent("curl/8.0"),
            "deterministic"
        );
        assert_eq!(parse_user_agent("").2, DeviceClass::Unknown);
    }

    #[test]
    fn the_country_comes_from_the_trusted_header_when_valid() {
        let geo = Geo::open(Some("cf-ipcountry".into()), None).expect("no database");
        let mut headers = HeaderMap::new();
        assert_eq!(geo.country(&headers, None), None);
        headers.insert("cf-ipcountry", HeaderValue::from_static("si"));
        assert_eq!(geo.country(&headers, None).as_deref(), Some("SI"));
        headers.insert("cf-ipcountry", HeaderValue::from_static("XX"));
        assert_eq!(geo.country(&headers, None), None);
    }

    #[test]
    fn the_client_ip_is_the_last_forwarded_address_only_when_the_header_is_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1, 10.0.0.7"));
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        assert_eq!(
            client_ip(&headers, Some(peer), Some("x-forwarded-for")),
            "10.0.0.7".parse().ok()
        );
        assert_eq!(client_ip(&headers, Some(peer), None), Some(peer.ip()));
    }
}
