//! API token secrets: how they are made, shown once, and hashed.
//!
//! A token reads `ldk_` followed by 43 characters of URL-safe base64 (256
//! random bits). Only `sha256:` + the hex SHA-256 of the whole token is
//! stored (in the `ApiTokenIssued` event and the `api_tokens` table). A
//! fast hash is enough: the secret is random, not a password.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every token starts with, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "ldk_";

/// A freshly made token: the secret to print once, and its hash to store.
#[derive(Debug)]
pub struct NewToken {
    /// The secret; shown once, stored nowhere.
    pub secret: String,
    /// `sha256:<hex>` of the secret.
    pub hash: String,
}

impl NewToken {
    /// Draws a new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = hash(&secret);
        Self { secret, hash }
    }
}

/// The stored form of a token: `sha256:` and the hex digest.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// The token of an `Authorization` value: `Bearer <token>` (the scheme in
/// any case). `None` when the value is not a bearer credential.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_hashes_to_what_is_stored_and_never_to_itself() {
        let token = NewToken::generate();
        assert!(token.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(token.secret.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash(&token.secret), token.hash);
        assert!(!token.hash.contains(&token.secret));
        assert_ne!(NewToken::generate().secret, token.secret);
    }

    #[test]
    fn only_bearer_credentials_are_read() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
