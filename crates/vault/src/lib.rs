//! Secrets at rest. Every secret Aura stores (provider API keys, users' workflow secrets)
//! is sealed with AES-256-GCM under one 256-bit key, which comes from `AURA_SECRET_KEY`
//! (64 hex digits) or a key file Aura creates with mode 0600 on first start.
//!
//! A sealed value is `v1.<key id>.<hex of nonce ‖ ciphertext ‖ tag>`. The key id (the first
//! 8 hex digits of the key's SHA-256) says which key sealed it, so a wrong key is a clear
//! error rather than garbage. Each value is bound to where it is stored (the `context`,
//! e.g. `model_providers.api_key:<id>`) as associated data: a sealed value copied into
//! another row does not open.
//!
//! No I/O but the key file, no database: the store keeps sealed text only.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use std::path::Path;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("{0}")]
    BadKey(String),
    /// The value was sealed under another key.
    #[error(
        "this secret was sealed with key {sealed_with}, not the current key {current}; start Aura with the key it was sealed with (see `aura secrets rotate`)"
    )]
    WrongKey {
        sealed_with: String,
        current: String,
    },
    /// The value is not a sealed secret, or was changed, or belongs to another place.
    #[error("a stored secret is damaged or was moved from where it was sealed ({0})")]
    Corrupt(String),
    #[error("{context}: {reason}")]
    KeyFile { context: String, reason: String },
}

/// Where the key came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File { created: bool },
}

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("key_id", &self.id).finish()
    }
}

impl Vault {
    /// A vault from 32 key bytes.
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        Self {
            cipher: Aes256Gcm::new(key.into()),
            id: hex(&digest[..4]),
        }
    }

    /// A vault from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, VaultError> {
        let bytes = unhex(text.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                VaultError::BadKey(
                "a secret key is 64 hex digits (32 random bytes), e.g. from `openssl rand -hex 32`"
                    .into(),
            )
            })?;
        let mut key = [0_u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Self::from_bytes(&key))
    }

    /// A new random key, as 64 hex digits.
    pub fn generate_hex() -> Result<String, VaultError> {
        let mut key = [0_u8; 32];
        getrandom::fill(&mut key).map_err(|err| {
            VaultError::BadKey(format!("the OS gave no random bytes for a key: {err}"))
        })?;
        Ok(hex(&key))
    }

    /// The key from `env_key` (`AURA_SECRET_KEY`) when set, else from `key_file`, which is
    /// created (mode 0600, its directory 0700) when missing. An existing key file that
    /// others can read is refused, as ssh refuses such a private key.
    pub fn load(env_key: Option<&str>, key_file: &Path) -> Result<(Self, KeySource), VaultError> {
        if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
            let vault = Self::from_hex(text)
                .map_err(|err| VaultError::BadKey(format!("AURA_SECRET_KEY: {err}")))?;
            return Ok((vault, KeySource::Environment));
        }
        let file_error = |reason: String| VaultError::KeyFile {
            context: key_file.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(key_file) {
            Ok(text) => {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(key_file)
                    .map_err(|e| file_error(e.to_string()))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(file_error(format!(
                        "others can read it (mode {:o}); run `chmod 600` on it",
                        mode & 0o777
                    )));
                }
                let vault = Self::from_hex(&text).map_err(|err| file_error(err.to_string()))?;
                Ok((vault, KeySource::File { created: false }))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let text = Self::generate_hex()?;
                write_key_file(key_file, &text).map_err(|e| file_error(e.to_string()))?;
                Ok((Self::from_hex(&text)?, KeySource::File { created: true }))
            }
            Err(err) => Err(file_error(err.to_string())),
        }
    }

    /// The key's id: the first 8 hex digits of its SHA-256.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` for the place `context` names.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String, VaultError> {
        let mut nonce = [0_u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|err| VaultError::BadKey(format!("the OS gave no random bytes: {err}")))?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt("encryption failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}.{}.{}", self.id, hex(&bytes)))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, VaultError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Corrupt("not a sealed value".into()));
        };
        if key_id != self.id {
            return Err(VaultError::WrongKey {
                sealed_with: key_id.to_owned(),
                current: self.id.clone(),
            });
        }
        let bytes = unhex(body)
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or_else(|| VaultError::Corrupt("not hex".into()))?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt(context.to_owned()))?;
        String::from_utf8(plain).map_err(|_| VaultError::Corrupt(context.to_owned()))
    }

    /// The id of the key a sealed value names, without opening it.
    pub fn sealed_key_id(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, '.');
        (parts.next()? == VERSION).then_some(())?;
        parts.next()
    }
}

/// Writes a new key file: 0700 directory, 0600 file, never over an existing one.
pub fn write_key_file(path: &Path, key_hex: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{key_hex}\n").as_bytes())?;
    file.sync_all()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_hex(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn sealed_values_open_in_their_place_only() {
        let v = vault();
        let sealed = v.seal("sk-live-123", "model_providers.api_key:p1").unwrap();
        assert!(sealed.starts_with(&format!("v1.{}.", v.key_id())));
        assert!(!sealed.contains("sk-live"));
        assert_eq!(
            v.open(&sealed, "model_providers.api_key:p1").unwrap(),
            "sk-live-123"
        );
        // Another row, a changed byte, another key: each refused, none garbage.
        assert!(matches!(
            v.open(&sealed, "model_providers.api_key:p2"),
            Err(VaultError::Corrupt(_))
        ));
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert!(matches!(
            v.open(&tampered, "model_providers.api_key:p1"),
            Err(VaultError::Corrupt(_))
        ));
        let other = Vault::from_hex(&"cd".repeat(32)).unwrap();
        assert!(matches!(
            other.open(&sealed, "model_providers.api_key:p1"),
            Err(VaultError::WrongKey { .. })
        ));
        // Two seals of one value differ (fresh nonces).
        assert_ne!(
            sealed,
            v.seal("sk-live-123", "model_providers.api_key:p1").unwrap()
        );
    }

    #[test]
    fn keys_are_64_hex_digits() {
        assert!(Vault::from_hex("abc").is_err());
        assert!(Vault::from_hex(&"zz".repeat(32)).is_err());
        assert!(Vault::from_hex(&format!(" {}\n", "0f".repeat(32))).is_ok());
        let generated = Vault::generate_hex().unwrap();
        assert_eq!(generated.len(), 64);
        assert_ne!(generated, Vault::generate_hex().unwrap());
    }

    #[test]
    fn the_key_file_is_created_private_and_refused_when_others_can_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("aura-vault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("keys/secret.key");
        let (first, source) = Vault::load(None, &file).unwrap();
        assert_eq!(source, KeySource::File { created: true });
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (again, source) = Vault::load(None, &file).unwrap();
        assert_eq!(source, KeySource::File { created: false });
        assert_eq!(first.key_id(), again.key_id(), "the same key is read back");
        // The environment wins over the file.
        let (env, source) = Vault::load(Some(&"ab".repeat(32)), &file).unwrap();
        assert_eq!(source, KeySource::Environment);
        assert_eq!(env.key_id(), vault().key_id());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Vault::load(None, &file).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
