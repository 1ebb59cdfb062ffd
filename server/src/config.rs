//! Typed configuration, layered: built-in defaults, then `Leptos.toml`, then `.env`, then
//! the process environment (`LEPTOS_*` for the Leptos options, `AURA_*` for ours).
//! Any invalid value stops start-up with a message naming the variable or key.

use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub database_url: String,
    pub database_max_connections: u32,
    pub log_format: LogFormat,
    /// Set when Aura is served over HTTPS (directly or behind a TLS-terminating proxy):
    /// the session cookie becomes `__Host-`-prefixed and `Secure`, and HSTS is sent.
    pub secure_cookies: bool,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy you control).
    pub trust_proxy: bool,
    /// The origin browsers use to reach Aura, e.g. `https://aura.example.com`. Requests
    /// whose `Origin` matches it are same-origin even if a proxy rewrote `Host`.
    pub public_origin: Option<String>,
    pub session_idle_timeout: Duration,
    pub session_absolute_lifetime: Duration,
    /// Workflow runners in this process (0 runs none: an API-only instance).
    pub workers: usize,
    /// How long a claimed step stays leased without a heartbeat.
    pub lease: Duration,
    /// Step log cap per attempt.
    pub step_log_max_bytes: usize,
    /// Internal networks `http` steps may reach anyway.
    pub http_allow: aura_engine::EgressPolicy,
    /// The first model provider (until providers are configured in the app): its wire
    /// protocol, API root and key, and the model behind the `default` alias.
    pub llm_protocol: aura_ai::Protocol,
    pub llm_base_url: String,
    pub llm_api_key: Option<String>,
    pub llm_model: Option<String>,
    /// How long a model call may take to open its connection and to send its first token.
    pub llm_timeouts: aura_ai::Timeouts,
    /// How long a cached model answer is reused.
    pub llm_cache_ttl: Duration,
    /// The key that seals stored secrets (64 hex digits), else `secret_key_file`.
    pub secret_key: Option<String>,
    pub secret_key_file: std::path::PathBuf,
    /// The operator's ceilings on what one step may use (timeouts, script memory, HTTP
    /// response size, map items, template fuel, output size).
    pub step_limits: aura_engine::StepLimits,
    /// How to start template evaluator processes: this binary with `__evaluate`. Tests
    /// that run the server in-process point it at the built `aura` binary.
    pub evaluator: aura_engine::EvaluatorProgram,
    /// Most steps one user may have running at once (fair share between users).
    pub max_running_steps_per_user: u32,
    /// Proxies whose `X-Forwarded-For` entries are trusted (with `trust_proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Most live event streams one user may hold open.
    pub max_event_streams_per_user: u32,
    /// How often an open event stream re-checks that its session is still valid.
    pub event_stream_recheck: Duration,
    /// Largest file a project may hold, in KiB.
    pub max_file_kb: u32,
    /// Largest total size of a project's files, in MiB.
    pub max_project_mb: u32,
    /// `AURA_SCHEDULER`: whether this instance fires schedules (every instance may; the
    /// database makes each fire happen once).
    pub scheduler: bool,
    /// `AURA_WEBHOOK_*`: ceilings on every webhook trigger.
    pub webhook_limits: aura_triggers::WebhookLimits,
    /// `AURA_METRICS_TOKEN`: serve `/metrics` on the main listener to this bearer token.
    pub metrics_token: Option<String>,
    /// `AURA_METRICS_ADDR`: serve `/metrics` on a listener of its own.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Where settings come from; a map so tests can load a config without touching the
/// process environment.
pub struct Sources {
    pub file_text: Option<String>,
    pub env: HashMap<String, String>,
}

impl Sources {
    /// `Leptos.toml` (or the file in `AURA_CONFIG`), `.env`, and the process environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError(format!(".env could not be read: {e}"))),
        }
        let env: HashMap<String, String> = std::env::vars().collect();
        let path = env
            .get("AURA_CONFIG")
            .cloned()
            .unwrap_or_else(|| "Leptos.toml".into());
        let file_text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound && !env.contains_key("AURA_CONFIG") =>
            {
                None
            }
            Err(e) => return Err(ConfigError(format!("AURA_CONFIG: cannot read {path}: {e}"))),
        };
        Ok(Sources { file_text, env })
    }
}

impl Config {
    /// Whether `/metrics` is served anywhere (and so whether to record metrics at all).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_token.is_some() || self.metrics_addr.is_some()
    }

    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let file: toml::Table = match &sources.file_text {
            Some(text) => text
                .parse()
                .map_err(|e| ConfigError(format!("Leptos.toml: {e}")))?,
            None => toml::Table::new(),
        };
        let leptos = leptos_options(&file, &sources.env)?;
        let aura = match file.get("aura") {
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => return Err(ConfigError("Leptos.toml: [aura] must be a table".into())),
            None => toml::Table::new(),
        };
        let setting = |key: &str| -> Option<String> {
            let var = format!("AURA_{}", key.to_uppercase().replace('-', "_"));
            sources.env.get(&var).cloned().or_else(|| {
                aura.get(key).map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })
        };
        let database_url = setting("database-url")
            .or_else(|| sources.env.get("DATABASE_URL").cloned())
            .unwrap_or_else(|| "sqlite://data/aura.db".into());
        aura_store::Backend::from_url(&database_url)
            .map_err(|e| ConfigError(format!("AURA_DATABASE_URL (or DATABASE_URL) {e}")))?;
        let log_format = match setting("log-format").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError(format!(
                    "AURA_LOG_FORMAT must be text or json, not {other:?}"
                )));
            }
        };
        let public_origin = setting("public-origin").filter(|s| !s.is_empty());
        if let Some(origin) = &public_origin
            && !(origin.starts_with("http://") || origin.starts_with("https://"))
        {
            return Err(ConfigError(
                "AURA_PUBLIC_ORIGIN must start with http:// or https://".into(),
            ));
        }
        let llm_protocol = match setting("llm-protocol").as_deref().map(str::trim) {
            None | Some("" | "openai") => aura_ai::Protocol::OpenAi,
            Some("anthropic") => aura_ai::Protocol::Anthropic,
            Some(other) => {
                return Err(ConfigError(format!(
                    "AURA_LLM_PROTOCOL must be openai or anthropic, not {other:?}"
                )));
            }
        };
        let mut config = Config {
            leptos,
            database_url,
            database_max_connections: parse(&setting, "database-max-connections", 10)?,
            log_format,
            secure_cookies: parse(&setting, "secure-cookies", false)?,
            trust_proxy: parse(&setting, "trust-proxy", false)?,
            public_origin: public_origin.map(|o| o.trim_end_matches('/').to_owned()),
            session_idle_timeout: Duration::from_secs(parse(
                &setting,
                "session-idle-timeout-secs",
                12 * 3600,
            )?),
            session_absolute_lifetime: Duration::from_secs(parse(
                &setting,
                "session-absolute-lifetime-secs",
                7 * 24 * 3600,
            )?),
            workers: parse(&setting, "workers", 4)?,
            lease: Duration::from_secs(parse(&setting, "lease-secs", 30)?),
            step_log_max_bytes: parse(&setting, "step-log-max-bytes", 64 * 1024)?,
            http_allow: aura_engine::EgressPolicy::parse(
                &setting("http-allow").unwrap_or_default(),
            )
            .map_err(|e| ConfigError(format!("AURA_HTTP_ALLOW: {e}")))?,
            llm_protocol,
            llm_base_url: setting("llm-base-url")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| match llm_protocol {
                    aura_ai::Protocol::OpenAi => "https://api.openai.com/v1".into(),
                    aura_ai::Protocol::Anthropic => "https://api.anthropic.com/v1".into(),
                }),
            llm_api_key: setting("llm-api-key").filter(|s| !s.is_empty()),
            llm_model: setting("llm-model").filter(|s| !s.trim().is_empty()),
            llm_cache_ttl: Duration::from_secs(parse(&setting, "llm-cache-ttl-secs", 86_400)?),
            secret_key: setting("secret-key").filter(|s| !s.trim().is_empty()),
            secret_key_file: setting("secret-key-file")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "data/secret.key".into())
                .into(),
            llm_timeouts: aura_ai::Timeouts {
                connect: Duration::from_secs(parse(&setting, "llm-connect-timeout-secs", 10)?),
                first_token: Duration::from_secs(parse(
                    &setting,
                    "llm-first-token-timeout-secs",
                    60,
                )?),
                ..aura_ai::Timeouts::default()
            },
            step_limits: step_limits(&setting)?,
            evaluator: aura_engine::EvaluatorProgram::current_exe(),
            max_running_steps_per_user: 0,
            trusted_proxies: parse_networks(
                &setting("trusted-proxies").unwrap_or_else(|| "127.0.0.0/8, ::1".into()),
            )
            .map_err(|e| ConfigError(format!("AURA_TRUSTED_PROXIES: {e}")))?,
            max_event_streams_per_user: parse(&setting, "max-event-streams-per-user", 8)?,
            event_stream_recheck: Duration::from_secs(parse(
                &setting,
                "event-stream-recheck-secs",
                5,
            )?),
            max_file_kb: parse(&setting, "max-file-kb", 1024)?,
            max_project_mb: parse(&setting, "max-project-mb", 20)?,
            scheduler: parse(&setting, "scheduler", true)?,
            webhook_limits: aura_triggers::WebhookLimits {
                max_body_kb: parse(&setting, "webhook-max-body-kb", 1024)?,
                max_rate_per_minute: parse(&setting, "webhook-max-rate-per-minute", 600)?,
                max_sync_timeout: Duration::from_secs(parse(
                    &setting,
                    "webhook-max-sync-secs",
                    30,
                )?),
            },
            metrics_token: setting("metrics-token").filter(|s| !s.is_empty()),
            metrics_addr: match setting("metrics-addr").filter(|s| !s.trim().is_empty()) {
                Some(addr) => Some(addr.trim().parse().map_err(|_| {
                    ConfigError(format!(
                        "AURA_METRICS_ADDR must be an address and port such as 127.0.0.1:9100, not {addr:?}"
                    ))
                })?),
                None => None,
            },
        };
        let hooks = &config.webhook_limits;
        if !(1..=64 * 1024).contains(&hooks.max_body_kb) {
            return Err(ConfigError(
                "AURA_WEBHOOK_MAX_BODY_KB must be 1 to 65536".into(),
            ));
        }
        if !(1..=1_000_000).contains(&hooks.max_rate_per_minute) {
            return Err(ConfigError(
                "AURA_WEBHOOK_MAX_RATE_PER_MINUTE must be 1 to 1000000".into(),
            ));
        }
        if !(1..=300).contains(&hooks.max_sync_timeout.as_secs()) {
            return Err(ConfigError(
                "AURA_WEBHOOK_MAX_SYNC_SECS must be 1 to 300".into(),
            ));
        }
        if let Some(token) = &config.metrics_token
            && (token.len() < 16 || !token.chars().all(|c| c.is_ascii_graphic()))
        {
            return Err(ConfigError(
                "AURA_METRICS_TOKEN must be at least 16 printable characters without spaces (openssl rand -hex 24)".into(),
            ));
        }
        if !(1..=16 * 1024).contains(&config.max_file_kb) {
            return Err(ConfigError("AURA_MAX_FILE_KB must be 1 to 16384".into()));
        }
        if !(1..=10 * 1024).contains(&config.max_project_mb)
            || u64::from(config.max_project_mb) * 1024 < u64::from(config.max_file_kb)
        {
            return Err(ConfigError(
                "AURA_MAX_PROJECT_MB must be 1 to 10240 and hold at least one file of AURA_MAX_FILE_KB".into(),
            ));
        }
        if config.lease < Duration::from_secs(3) {
            return Err(ConfigError("AURA_LEASE_SECS must be at least 3".into()));
        }
        // Half the runners by default, so one user's backlog leaves the rest to others.
        config.max_running_steps_per_user = parse(
            &setting,
            "max-running-steps-per-user",
            (config.workers as u32).div_ceil(2).max(1),
        )?;
        if config.max_running_steps_per_user == 0 {
            return Err(ConfigError(
                "AURA_MAX_RUNNING_STEPS_PER_USER must be at least 1".into(),
            ));
        }
        if config.max_event_streams_per_user == 0 || config.event_stream_recheck.is_zero() {
            return Err(ConfigError(
                "AURA_MAX_EVENT_STREAMS_PER_USER and AURA_EVENT_STREAM_RECHECK_SECS must be at least 1"
                    .into(),
            ));
        }
        if config.session_idle_timeout.is_zero() || config.session_absolute_lifetime.is_zero() {
            return Err(ConfigError(
                "AURA_SESSION_*_SECS must be greater than zero".into(),
            ));
        }
        if config.database_max_connections == 0 {
            return Err(ConfigError(
                "AURA_DATABASE_MAX_CONNECTIONS must be at least 1".into(),
            ));
        }
        Ok(config)
    }
}

/// The step ceilings, each from its `AURA_*` variable, checked for sane ranges.
fn step_limits(
    setting: &impl Fn(&str) -> Option<String>,
) -> Result<aura_engine::StepLimits, ConfigError> {
    let defaults = aura_engine::StepLimits::default();
    let ranged = |key: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
        let value: u64 = parse(setting, key, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError(format!(
                "AURA_{} must be {} to {}",
                key.to_uppercase().replace('-', "_"),
                range.start(),
                range.end()
            )))
        }
    };
    let max_timeout = ranged(
        "max-step-timeout-secs",
        defaults.max_timeout.as_secs(),
        1..=24 * 3600,
    )?;
    Ok(aura_engine::StepLimits {
        max_timeout: Duration::from_secs(max_timeout),
        script_time: defaults.script_time,
        script_memory_mb: ranged(
            "script-memory-mb",
            u64::from(defaults.script_memory_mb),
            1..=512,
        )? as u32,
        http_max_response_bytes: ranged(
            "http-max-response-kb",
            defaults.http_max_response_bytes / 1024,
            1..=1024 * 1024,
        )? * 1024,
        map_max_items: ranged(
            "map-max-items",
            defaults.map_max_items as u64,
            1..=1_000_000,
        )? as usize,
        template_fuel: ranged(
            "template-fuel",
            defaults.template_fuel,
            1_000..=1_000_000_000,
        )?,
        template_memory_mb: ranged(
            "template-memory-mb",
            u64::from(defaults.template_memory_mb),
            16..=4096,
        )? as u32,
        max_output_bytes: ranged(
            "step-output-max-kb",
            (defaults.max_output_bytes / 1024) as u64,
            1..=1024 * 1024,
        )? as usize
            * 1024,
    })
}

/// A comma-separated list of addresses or CIDR networks.
fn parse_networks(list: &str) -> Result<Vec<ipnet::IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("`{item}` is not an IP address or CIDR network"))
        })
        .collect()
}

fn parse<T: std::str::FromStr>(
    setting: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, ConfigError> {
    match setting(key) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| {
            ConfigError(format!(
                "AURA_{} (or `{key}` in Leptos.toml) has an invalid value: {raw:?}",
                key.to_uppercase().replace('-', "_")
            ))
        }),
    }
}

/// The `[leptos]` table of Leptos.toml with `LEPTOS_*` overrides. Leptos' own loader does
/// the layering; it expects a Cargo-style section header, so we hand it one.
fn leptos_options(
    file: &toml::Table,
    env: &HashMap<String, String>,
) -> Result<LeptosOptions, ConfigError> {
    let mut table = match file.get("leptos") {
        Some(toml::Value::Table(t)) => t.clone(),
        Some(_) => return Err(ConfigError("Leptos.toml: [leptos] must be a table".into())),
        None => toml::Table::new(),
    };
    table.entry("output-name").or_insert_with(|| "aura".into());
    // Environment overrides are applied here rather than by Leptos' loader, which reads the
    // real process environment; this keeps `Config::load` a pure function of `Sources`.
    for (name, value) in env {
        if let Some(key) = name.strip_prefix("LEPTOS_") {
            let key = key.to_lowercase().replace('_', "-");
            table.insert(key, toml::Value::String(value.clone()));
        }
    }
    let text = format!(
        "[package.metadata.leptos]\n{}",
        toml::to_string(&table).map_err(|e| ConfigError(e.to_string()))?
    );
    leptos::config::get_config_from_str(&text)
        .map_err(|e| ConfigError(format!("Leptos options (LEPTOS_* / [leptos]): {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(file: &str, env: &[(&str, &str)]) -> Sources {
        Sources {
            file_text: Some(file.to_owned()),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let config = Config::load(&Sources {
            file_text: None,
            env: HashMap::new(),
        })
        .unwrap();
        assert_eq!(config.database_url, "sqlite://data/aura.db");
        assert_eq!(config.session_idle_timeout, Duration::from_secs(43_200));
        assert_eq!(config.leptos.output_name.as_ref(), "aura");
        assert!(!config.secure_cookies);
        assert_eq!(config.max_running_steps_per_user, 2, "half of 4 workers");
        assert_eq!(config.step_limits, aura_engine::StepLimits::default());
    }

    #[test]
    fn env_overrides_the_file() {
        let file = "[leptos]\nsite-addr = \"127.0.0.1:4000\"\n[aura]\nlog-format = \"text\"\nsecure-cookies = false\n";
        let config = Config::load(&sources(
            file,
            &[
                ("AURA_LOG_FORMAT", "json"),
                ("AURA_SECURE_COOKIES", "true"),
                ("LEPTOS_SITE_ADDR", "127.0.0.1:5000"),
                ("DATABASE_URL", "postgres://localhost/aura"),
            ],
        ))
        .unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.secure_cookies);
        assert_eq!(config.leptos.site_addr.to_string(), "127.0.0.1:5000");
        assert_eq!(config.database_url, "postgres://localhost/aura");
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let err =
            Config::load(&sources("", &[("AURA_SESSION_IDLE_TIMEOUT_SECS", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("AURA_SESSION_IDLE_TIMEOUT_SECS"),
            "{err}"
        );
        let err = Config::load(&sources("", &[("AURA_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("AURA_DATABASE_URL"), "{err}");
        let err = Config::load(&sources("", &[("AURA_HTTP_ALLOW", "localhost")])).unwrap_err();
        assert!(err.to_string().contains("AURA_HTTP_ALLOW"), "{err}");
        let err = Config::load(&sources("", &[("AURA_TEMPLATE_FUEL", "10")])).unwrap_err();
        assert!(err.to_string().contains("AURA_TEMPLATE_FUEL"), "{err}");
        let err =
            Config::load(&sources("", &[("AURA_TRUSTED_PROXIES", "proxy.local")])).unwrap_err();
        assert!(err.to_string().contains("AURA_TRUSTED_PROXIES"), "{err}");
        let err =
            Config::load(&sources("", &[("AURA_MAX_RUNNING_STEPS_PER_USER", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("AURA_MAX_RUNNING_STEPS_PER_USER"),
            "{err}"
        );
        let err = Config::load(&sources("", &[("AURA_LOG_FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("AURA_LOG_FORMAT"), "{err}");
        let err =
            Config::load(&sources("", &[("LEPTOS_SITE_ADDR", "not an address")])).unwrap_err();
        assert!(err.to_string().contains("LEPTOS"), "{err}");
        assert!(Config::load(&sources("[aura\n", &[])).is_err());
        for (var, value) in [
            ("AURA_METRICS_TOKEN", "short"),
            ("AURA_METRICS_TOKEN", "a token with spaces in it"),
            ("AURA_METRICS_ADDR", "localhost"),
        ] {
            let err = Config::load(&sources("", &[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn metrics_are_off_unless_a_token_or_an_address_is_set() {
        assert!(!Config::load(&sources("", &[])).unwrap().metrics_enabled());
        let token = Config::load(&sources("", &[("AURA_METRICS_TOKEN", &"t".repeat(16))]));
        assert!(token.unwrap().metrics_enabled());
        let addr = Config::load(&sources("", &[("AURA_METRICS_ADDR", "127.0.0.1:9100")]));
        assert!(addr.unwrap().metrics_enabled());
    }
}
