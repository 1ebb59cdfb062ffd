//! A tiny key-value store over a database connection.

use std::collections::HashMap;

const GITHUB_TOKEN: &str = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"; // expect: security.hardcoded-secret

pub struct Store {
    cache: HashMap<String, String>,
}

impl Store {
    pub fn new() -> Self {
        Store { cache: HashMap::new() }
    }

    pub fn query_for(&self, key: &str) -> String {
        format!("SELECT value FROM kv WHERE key = '{}'", key) // expect: security.sql-injection
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.cache.get(key)
    }

    pub fn first_byte(&self, data: &[u8]) -> u8 {
        // SAFETY: callers pass non-empty slices.
        unsafe { *data.get_unchecked(0) } // expect: rust.unsafe
    }

    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .danger_accept_invalid_certs(true) // expect: security.tls-verification-disabled
            .build()
            .expect("client")
    }
}

// XXX: eviction is missing expect: style.todo
pub fn token() -> &'static str {
    GITHUB_TOKEN
}
