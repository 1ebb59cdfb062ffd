//! Password rules and argon2id hashing.
//!
//! Hashing costs ~20 MiB and tens of milliseconds of CPU by design, so it always runs on
//! tokio's blocking pool. Parameters are the argon2 crate defaults (argon2id, m=19 MiB,
//! t=2, p=1), the OWASP-recommended minimum.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

static COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().collect())
}

/// Number of entries in the bundled common-password list.
pub fn common_password_count() -> usize {
    common_passwords().len()
}

/// Checks a new password against the policy; the error is shown under the password field.
pub fn check_policy(password: &str, email: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LEN {
        return Err(format!("Use at least {MIN_LEN} characters."));
    }
    if length > MAX_LEN {
        return Err(format!("Use at most {MAX_LEN} characters."));
    }
    let lowered = password.to_lowercase();
    if common_passwords().contains(lowered.as_str()) {
        return Err("This password is too common. Choose one that is harder to guess.".into());
    }
    if !email.is_empty() && lowered == email.to_lowercase() {
        return Err("Do not use your email address as your password.".into());
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt (PHC string format).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Verifies a password against a stored PHC hash. A malformed hash counts as a mismatch
/// (and is logged) rather than an error, so a corrupt row cannot be used to probe.
pub async fn verify(password: String, stored_hash: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = match PasswordHash::new(&stored_hash) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::error!("stored password hash is malformed: {e}");
                return false;
            }
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(Into::into)
}

/// A hash of a random password, verified against when the email is unknown so that an
/// unknown account costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = SaltString::generate(&mut OsRng);
        hash_blocking(random.as_str()).expect("argon2 with default parameters cannot fail")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_list_is_large_enough() {
        assert!(
            common_password_count() >= 10_000,
            "{}",
            common_password_count()
        );
    }

    #[test]
    fn policy_enforces_length_and_common_passwords() {
        assert!(
            check_policy("short1!", "")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(
            check_policy(&"x".repeat(129), "")
                .unwrap_err()
                .contains("at most 128")
        );
        assert!(
            check_policy(&"é".repeat(128), "").is_ok(),
            "length counts characters, not bytes"
        );
        assert!(
            check_policy("password", "")
                .unwrap_err()
                .contains("too common")
        );
        assert!(
            check_policy("PassWord1", "")
                .unwrap_err()
                .contains("too common")
        );
        assert!(check_policy("ada@example.com", "ada@example.com").is_err());
        assert!(check_policy("correct horse battery staple", "ada@example.com").is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_default_parameters_and_verify() {
        let hashed = hash("correct horse battery staple".into()).await.unwrap();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert!(
            verify("correct horse battery staple".into(), hashed.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify("correct horse battery stapler".into(), hashed.clone())
                .await
                .unwrap()
        );
        let again = hash("correct horse battery staple".into()).await.unwrap();
        assert_ne!(hashed, again, "each hash has its own salt");
    }

    #[tokio::test]
    async fn malformed_hashes_never_verify() {
        assert!(
            !verify("anything".into(), "not-a-phc-string".into())
                .await
                .unwrap()
        );
        assert!(
            !verify("anything".into(), dummy_hash().to_owned())
                .await
                .unwrap()
        );
    }
}
