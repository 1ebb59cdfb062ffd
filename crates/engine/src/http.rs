//! The `http` step: one request with timeouts, a response size cap, and an egress guard.
//!
//! Workflows are written by users, so an `http` step must not become a way into the
//! server's own network. Every address a request would connect to is checked *after* DNS
//! resolution (a custom resolver), IP-literal hosts are checked before connecting, and
//! redirects are followed here, hop by hop, through the same checks. Loopback, private,
//! link-local, shared, multicast and unspecified addresses are refused unless an operator
//! allow-lists them (`AURA_HTTP_ALLOW`, which the tests use for loopback).

use crate::step::{StepFailure, StepLog};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, Url};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Networks permitted even though they are internal.
    pub allow: Vec<IpNet>,
}

impl EgressPolicy {
    /// Parses a comma-separated list of addresses or CIDR networks.
    pub fn parse(list: &str) -> Result<Self, String> {
        let allow = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{item}` is not an IP address or CIDR network"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allow })
    }

    /// `Err(kind)` when `ip` may not be contacted, naming what kind of address it is.
    pub fn check(&self, ip: IpAddr) -> Result<(), &'static str> {
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        match internal_kind(ip) {
            Some(kind) => Err(kind),
            None => Ok(()),
        }
    }
}

/// Networks that are not the public internet, beyond what `std` classifies: shared and
/// benchmarking space, IETF protocol assignments, documentation, NAT64 and the other
/// IPv6 ranges that embed or relay to an IPv4 address.
const SPECIAL_NETWORKS: [(&str, &str); 13] = [
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "NAT64 (local use)"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignment (Teredo and others)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("fec0::/10", "site-local"),
];

/// What kind of internal address `ip` is, if it is one.
fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    static SPECIAL: std::sync::LazyLock<Vec<(IpNet, &'static str)>> =
        std::sync::LazyLock::new(|| {
            SPECIAL_NETWORKS
                .iter()
                .map(|(net, kind)| (net.parse().expect("valid network"), *kind))
                .collect()
        });
    if let Some((_, kind)) = SPECIAL.iter().find(|(net, _)| net.contains(&ip)) {
        return Some(kind);
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_kind(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.segments()[..6] == [0; 6] {
                Some("IPv4-compatible")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// Resolves names with the system resolver and drops addresses the policy refuses; a name
/// with only refused addresses fails with the reason.
struct GuardedResolver {
    policy: Arc<EgressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(kind) => {
                        refused.get_or_insert(kind);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                // The kind of address, never the address: the error reaches the workflow's
                // author, who must not learn the server's internal addressing from it.
                let why = match refused {
                    Some(kind) => format!(
                        "{host} resolves only to internal addresses (a {kind} address); {INTERNAL_HINT}"
                    ),
                    None => format!("{host} has no addresses"),
                };
                return Err(Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

const INTERNAL_HINT: &str =
    "requests to internal networks are refused (an operator can allow some with AURA_HTTP_ALLOW)";

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A rendered request.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub max_response_bytes: u64,
}

const MAX_REDIRECTS: usize = 5;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: Arc<EgressPolicy>,
}

fn refused(message: String) -> StepFailure {
    StepFailure::fatal(format!("Request refused: {message}."))
}

impl HttpClient {
    pub fn new(policy: EgressPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            // A proxy would resolve and connect on our behalf, past the guard.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Aura/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// Sends the request, following redirects through the guard; the step's timeout
    /// bounds the whole exchange.
    pub async fn send(&self, request: &HttpRequest, log: &StepLog) -> Result<Value, StepFailure> {
        let mut method =
            Method::from_bytes(request.method.to_uppercase().as_bytes()).map_err(|_| {
                StepFailure::fatal(format!("`{}` is not an HTTP method.", request.method))
            })?;
        let mut url = Url::parse(&request.url).map_err(|e| {
            StepFailure::fatal(format!("`{}` is not a valid URL: {e}.", request.url))
        })?;
        let mut body = request.body.clone();
        let origin = url.origin();
        for hop in 0..=MAX_REDIRECTS {
            self.check_url(&url)?;
            log.line(&format!("{method} {url}"));
            let mut builder = self.client.request(method.clone(), url.clone());
            // Credentials are for the origin the author wrote, not for wherever it
            // redirects to.
            let same_origin = url.origin() == origin;
            for (name, value) in &request.headers {
                if same_origin || !is_credential(name) {
                    builder = builder.header(name, value);
                }
            }
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(|e| describe_send_error(&e))?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            if status.is_redirection()
                && hop < MAX_REDIRECTS
                && let Some(location) = location
            {
                url = url.join(location).map_err(|e| {
                    StepFailure::fatal(format!("Bad redirect location `{location}`: {e}."))
                })?;
                if status.as_u16() == 303
                    || (matches!(status.as_u16(), 301 | 302) && method != Method::HEAD)
                {
                    method = Method::GET;
                    body = None;
                }
                continue;
            }
            return read_response(response, request.max_response_bytes).await;
        }
        Err(StepFailure::fatal(format!(
            "More than {MAX_REDIRECTS} redirects."
        )))
    }

    fn check_url(&self, url: &Url) -> Result<(), StepFailure> {
        let literal = |ip: IpAddr| {
            self.policy
                .check(ip)
                .map_err(|kind| refused(format!("{ip} is a {kind} address; {INTERNAL_HINT}")))
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(StepFailure::fatal(format!(
                "Only http and https URLs can be called, not `{}`.",
                url.scheme()
            )));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => literal(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => literal(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(StepFailure::fatal("The URL has no host.")),
        }
    }
}

/// Headers that carry credentials, dropped on a redirect to another origin.
fn is_credential(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

fn describe_send_error(err: &reqwest::Error) -> StepFailure {
    // The resolver's refusal sits somewhere in the source chain.
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return refused(r.0.clone());
        }
        source = e.source();
    }
    let what = if err.is_connect() {
        "could not connect"
    } else if err.is_timeout() {
        "timed out"
    } else {
        "failed"
    };
    let mut message = format!("The request {what}: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        message.push_str(&format!(": {e}"));
        source = e.source();
    }
    StepFailure::retryable(message)
}

/// `{status, headers, body}`; the body is parsed when it is JSON. Statuses of 400 and
/// above fail the step (429 and 5xx may be retried).
async fn read_response(
    mut response: reqwest::Response,
    max_bytes: u64,
) -> Result<Value, StepFailure> {
    let status = response.status();
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large(max_bytes));
    }
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            headers.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
        }
    }
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| StepFailure::retryable(format!("Reading the response failed: {e}")))?
    {
        if (bytes.len() + chunk.len()) as u64 > max_bytes {
            return Err(too_large(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if status.as_u16() >= 400 {
        let excerpt: String = text.chars().take(300).collect();
        let message = format!("The server answered {status}: {excerpt}");
        return Err(if status.as_u16() == 429 || status.is_server_error() {
            StepFailure::retryable(message)
        } else {
            StepFailure::fatal(message)
        });
    }
    let body = if is_json {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    Ok(serde_json::json!({
        "status": status.as_u16(),
        "headers": headers,
        "body": body,
    }))
}

fn too_large(max_bytes: u64) -> StepFailure {
    StepFailure::fatal(format!(
        "The response is larger than the {max_bytes}-byte cap (max_response_bytes; the most \
         is AURA_HTTP_MAX_RESPONSE_KB); it was read no further."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let policy = EgressPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.255",
            "100.127.255.254",
            "224.0.0.1",
            "ff02::1",
            "240.0.0.1",
            "255.255.255.255",
            "2002:a00:1::",
            "::10.0.0.1",
        ] {
            assert!(policy.check(ip.parse().unwrap()).is_err(), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "100.128.0.1",
            "198.20.0.1",
        ] {
            assert!(policy.check(ip.parse().unwrap()).is_ok(), "{ip}");
        }
        let policy = EgressPolicy::parse("127.0.0.1, 10.1.0.0/16").unwrap();
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("10.1.2.3".parse().unwrap()).is_ok());
        assert!(policy.check("10.2.0.1".parse().unwrap()).is_err());
        assert!(EgressPolicy::parse("localhost").is_err());
    }
}
