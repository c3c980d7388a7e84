//! Console passwords: Argon2id (the `argon2` crate's defaults: 19 MiB, 2
//! passes, 1 lane, as OWASP recommends), hashed and checked off the async
//! threads. A password is never logged, never put in an event, and only
//! its PHC string is stored.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use livedesk_projections::accounts;
use rand::RngCore;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in characters (a bound on the hashing work a
/// request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Checks a new password's length.
///
/// # Errors
///
/// [`ApiError::BadInput`] naming the rule.
pub fn validate(password: &str) -> ApiResult<()> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(ApiError::BadInput(format!(
            "a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        )))
    }
}

/// The Argon2id PHC string of `password` with a fresh random salt.
///
/// # Errors
///
/// Internal when hashing fails.
pub async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("hashing task: {e}")))?
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash
/// (unknown email, or no password set yet) a hash made for the purpose is
/// checked anyway, so that the answer takes as long either way.
///
/// # Errors
///
/// Internal when the task fails.
pub async fn verify(password: String, stored: Option<String>) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let argon2 = Argon2::default();
        match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(parsed)) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
            Some(Err(_)) | None => {
                let salt = SaltString::encode_b64(b"livedesk-no-user").ok();
                if let Some(salt) = salt {
                    let _ = argon2.hash_password(password.as_bytes(), &salt);
                }
                false
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("verifying task: {e}")))
}

/// Gives `agent_id` the console password `password`: stores its hash
/// and records `AgentPasswordSet` (with `AgentActivated` for an invited
/// agent) through `agents`, acting with `context`. Returns the last
/// position appended, if any. The one way a password is set: invitations,
/// the first-run set-up, the demo and the tests all come here.
///
/// # Errors
///
/// A hashing or store failure, or the domain's rejection.
pub async fn set(
    pool: &PgPool,
    agents: &CommandService<PgEventStore, Agent>,
    agent_id: Uuid,
    password: String,
    context: &CommandContext,
) -> ApiResult<Option<u64>> {
    let hashed = hash(password).await?;
    accounts::set_password_hash(pool, agent_id, &hashed, Utc::now()).await?;
    let executed = agents
        .execute(agent_id, AgentCommand::SetPassword { at: Utc::now() }, context)
        .await?;
    Ok(executed.append.map(|append| append.last_position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_matches_its_own_hash_only() {
        let stored = hash("correct horse battery".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(
            verify("correct horse battery".into(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("correct horse battery!".into(), Some(stored))
                .await
                .expect("verify")
        );
        assert!(!verify("anything at all".into(), None).await.expect("verify"));
        assert!(
            !verify("anything at all".into(), Some("not a hash".into()))
                .await
                .expect("verify")
        );
    }

    #[test]
    fn passwords_have_ten_to_256_characters() {
        assert!(validate("123456789").is_err());
        assert!(validate("1234567890").is_ok());
        assert!(validate(&"é".repeat(256)).is_ok());
        assert!(validate(&"x".repeat(257)).is_err());
    }
}
