//! Visitor tokens: what the widget shows to prove who it is.
//!
//! `v1.<claims>.<mac>`: the claims are base64url (no padding) JSON
//! `{"s": site, "v": visitor, "x": session, "t": tab, "e": expiry (unix
//! seconds)}`, and the mac is base64url HMAC-SHA256 over `v1.<claims>` with
//! the server's secret. A token authorises only its own session and its
//! visitor's conversation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::WidgetError;

const VERSION: &str = "v1";
/// Longest token accepted before any parsing.
const MAX_TOKEN_BYTES: usize = 1024;

/// What a visitor token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The site.
    #[serde(rename = "s")]
    pub site_id: Uuid,
    /// The visitor.
    #[serde(rename = "v")]
    pub visitor_id: Uuid,
    /// The session.
    #[serde(rename = "x")]
    pub session_id: Uuid,
    /// The tab that started or joined the session.
    #[serde(rename = "t")]
    pub tab_id: String,
    /// Expiry, unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Claims {
    /// When the token stops working.
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.expires, 0).single().unwrap_or_default()
    }
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct TokenSigner {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// A signer with `secret` (any length; 32 random bytes or more advised).
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    /// The token for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
        let mac = URL_SAFE_NO_PAD.encode(self.mac(signed.as_bytes()));
        format!("{signed}.{mac}")
    }

    /// The claims of `token` if this server signed it and it has not
    /// expired at `now`.
    ///
    /// # Errors
    ///
    /// [`WidgetError::InvalidToken`] for anything not signed by this
    /// secret; [`WidgetError::TokenExpired`] for an expired one.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, WidgetError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(WidgetError::InvalidToken);
        }
        let (signed, mac) = token.rsplit_once('.').ok_or(WidgetError::InvalidToken)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| WidgetError::InvalidToken)?;
        let mut check = self.hmac();
        check.update(signed.as_bytes());
        check.verify_slice(&mac).map_err(|_| WidgetError::InvalidToken)?;
        let claims = signed
            .strip_prefix("v1.")
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
            .ok_or(WidgetError::InvalidToken)?;
        if claims.expires <= now.timestamp() {
            return Err(WidgetError::TokenExpired);
        }
        Ok(claims)
    }

    fn hmac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!())
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = self.hmac();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `user_id` with `secret`:
/// the identity check of `tag`. Compared in constant time.
pub fn identity_signature_matches(secret: &str, user_id: &str, signature: &str) -> bool {
    let Some(bytes) = decode_hex(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// The hex HMAC-SHA256 of `user_id` with `secret`: what a site's backend
/// computes.
pub fn identity_signature(secret: &str, user_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(user_id.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || hex.len() > 256 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn claims(expires: DateTime<Utc>) -> Claims {
        Claims {
            site_id: Uuid::now_v7(),
            visitor_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            tab_id: "tab-1".into(),
            expires: expires.timestamp(),
        }
    }

    #[test]
    fn a_token_verifies_with_its_secret_only_and_until_it_expires() {
        let now = Utc::now();
        let signer = TokenSigner::new(b"server secret".to_vec());
        let c = claims(now + TimeDelta::minutes(5));
        let token = signer.sign(&c);
        assert_eq!(signer.verify(&token, now).ok(), Some(c));
        let other = TokenSigner::new(b"another secret".to_vec());
        assert!(matches!(other.verify(&token, now), Err(WidgetError::InvalidToken)));
        assert!(matches!(
            signer.verify(&token, now + TimeDelta::minutes(6)),
            Err(WidgetError::TokenExpired)
        ));
    }

    #[test]
    fn altered_claims_or_garbage_are_invalid() {
        let now = Utc::now();
        let signer = TokenSigner::new(b"server secret".to_vec());
        let token = signer.sign(&claims(now + TimeDelta::minutes(5)));
        let (_, mac) = token.rsplit_once('.').expect("three parts");
        let forged = format!(
            "v1.{}.{mac}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now + TimeDelta::days(9))).expect("json"))
        );
        for bad in [forged.as_str(), "", "v1..", "garbage", "v1.e30.AAAA"] {
            assert!(
                matches!(signer.verify(bad, now), Err(WidgetError::InvalidToken)),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_identity_signature_is_the_hex_hmac_of_the_user_id() {
        let secret = "site-secret-0123456789-abcdefghijklmnop";
        let signature = identity_signature(secret, "user-42");
        assert_eq!(signature.len(), 64);
        assert!(identity_signature_matches(secret, "user-42", &signature));
        assert!(identity_signature_matches(secret, "user-42", &signature.to_uppercase()));
        assert!(!identity_signature_matches(secret, "user-43", &signature));
        assert!(!identity_signature_matches(secret, "user-42", "zz"));
    }
}
