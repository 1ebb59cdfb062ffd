//! Request middleware, outermost first: request ids, security headers, the same-origin
//! check for state-changing requests, and resolving the caller (session → user) with the
//! sign-in redirect for protected pages.

use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::{SESSION_SEEN_AT, SESSION_SIGNED_IN_AT, SESSION_USER_ID};
use aura_store::{Origin, Principal};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

pub const REQUEST_ID: &str = "x-request-id";

/// A per-request CSP nonce, shared by the header and Leptos' hydration script.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// The policy of every response. HTML pages may carry `<style>` elements with the
/// request's nonce (the builder positions its nodes with one until the browser takes
/// over); `style` attributes stay forbidden. The pages with Monaco (the editor,
/// `/projects/{id}`, and the review of proposed changes, `/runs/{id}/changes/{step}`)
/// alone allow inline styles, `blob:` workers and `data:` fonts, which Monaco needs (it
/// injects `<style>` elements, starts its workers from blob URLs and inlines its icon
/// font); their scripts still come only from this origin. Links into them make a full
/// page load, so another page's policy never blocks Monaco.
fn content_security_policy(nonce: Option<&str>, editor: bool) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    let (styles, workers, fonts) = if editor {
        (
            "style-src 'self' 'unsafe-inline'".to_owned(),
            "worker-src 'self' blob:",
            "font-src 'self' data:",
        )
    } else {
        let styles = match nonce {
            Some(nonce) => format!("style-src 'self' 'nonce-{nonce}'"),
            None => "style-src 'self'".to_owned(),
        };
        (styles, "worker-src 'self'", "font-src 'self'")
    };
    format!(
        "default-src 'self'; {scripts}; {styles}; {workers}; img-src 'self' data:; {fonts}; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Whether `path` is a page with Monaco: `/projects/{id}` or `/runs/{id}/changes/{step}`.
fn is_editor_page(path: &str) -> bool {
    let segments = |prefix: &str| {
        path.strip_prefix(prefix)
            .map(|rest| rest.split('/').collect::<Vec<_>>())
            .filter(|parts| parts.iter().all(|p| !p.is_empty()))
    };
    matches!(segments("/projects/").as_deref(), Some([_]))
        || matches!(segments("/runs/").as_deref(), Some([_, "changes", _]))
}

/// Adds the security headers to every response. HTML pages get a CSP carrying the nonce
/// that Leptos put on its inline hydration script; everything else gets the same policy
/// without one.
pub async fn security_headers(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = leptos::nonce::Nonce::new().as_inner().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let editor = is_editor_page(req.uri().path());
    let is_api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let csp = content_security_policy(is_html.then_some(nonce.as_str()), editor);
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if state.config.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    // Pages, API answers and exports may hold private data: no cache keeps them.
    if is_html || is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Whether a request comes from one of our own pages, judged by the headers browsers set
/// on every cross-site request. Requests with neither header are not from a browser (the
/// CLI, curl, tests) and cannot carry a victim's cookies by accident, so they pass.
fn is_same_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if public_origin.is_some_and(|o| o == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    !host.is_empty() && origin_host == Some(host)
}

/// CSRF defence: refuses state-changing requests (including server functions, which are
/// POSTs) that a browser reports as coming from another site.
pub async fn same_origin_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A request with an API key carries no cookie a forger could borrow.
    if !safe
        && api_key(&req).is_none()
        && !is_same_origin(req.headers(), state.config.public_origin.as_deref())
    {
        tracing::warn!(path = %req.uri().path(), "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"code":"forbidden","message":"Cross-site requests are not allowed."}"#,
        )
            .into_response();
    }
    next.run(req).await
}

/// The client's address. Behind a trusted proxy (`AURA_TRUST_PROXY`, and the connection
/// comes from one of `AURA_TRUSTED_PROXIES`), it is the right-most `X-Forwarded-For`
/// entry that is not itself a trusted proxy: each proxy appends the address it saw, so
/// everything left of that entry was written by the client and may be forged.
fn client_ip(req: &Request, config: &crate::config::Config) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    let trusted = |ip: &IpAddr| config.trusted_proxies.iter().any(|net| net.contains(ip));
    if !config.trust_proxy || !trusted(&peer) {
        return peer.to_string();
    }
    forwarded_client(req.headers(), peer, trusted).to_string()
}

/// Walks `X-Forwarded-For` from the right, past trusted proxies, to the client.
fn forwarded_client(
    headers: &HeaderMap,
    peer: IpAddr,
    trusted: impl Fn(&IpAddr) -> bool,
) -> IpAddr {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage where an address should be: nothing further left can be believed,
            // so the nearest hop we trust is the best answer.
            Err(_) => return client,
        }
    }
    client
}

/// Keeps a client's `x-request-id` only when it is short and made of safe characters (it
/// is echoed in responses and written to logs); otherwise one is generated.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let acceptable = req
        .headers()
        .get(REQUEST_ID)
        .map(|v| is_safe_request_id(v.as_bytes()));
    if acceptable == Some(false) {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Pages anyone may see; every other page needs a signed-in user.
fn is_public_path(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/signup"
            | "/healthz"
            | "/readyz"
            | "/favicon.svg"
            | "/favicon.ico"
            | "/robots.txt"
    ) || path.starts_with("/api/")
        || path.starts_with("/pkg/")
}

/// Where a request comes from: client address (behind trusted proxies, the client's),
/// user agent and request id.
pub fn origin_of(req: &Request, config: &crate::config::Config) -> Origin {
    Origin {
        ip: client_ip(req, config),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request_id: req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Resolves the session to a user (ending sessions past their absolute lifetime), stores
/// the request's [`Origin`] and, when signed in (or holding an API key on `/api/v1/`), its
/// [`Principal`] in the extensions, and redirects anonymous page views to sign-in.
pub async fn resolve_caller(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let origin = origin_of(&req, &state.config);
    let request_id = origin.request_id.clone();
    // A REST request with an API key is that key's principal; the session plays no part.
    // Elsewhere (pages, server functions) a key is not a credential at all.
    let principal = if let Some(secret) = api_key(&req).map(str::to_owned) {
        match state.services.api_keys.authenticate(&secret, &origin).await {
            Ok(principal) => Some(principal),
            Err(err) => {
                let path = req.uri().path();
                return aura_app::server::REQUEST_ID
                    .sync_scope(request_id, || error_for_surface(path, AppError::from(err)));
            }
        }
    } else {
        match signed_in_user(&state, &session).await {
            Ok(user) => user.map(|user| Principal::session(user, origin.clone())),
            Err(err) => {
                tracing::error!(request_id = %request_id, error = %err, "could not resolve the session");
                let unavailable = AppError::Unavailable {
                    message:
                        "Aura cannot reach its database right now. Try again in a few seconds."
                            .into(),
                    retry_after_secs: 5,
                };
                let path = req.uri().path();
                return aura_app::server::REQUEST_ID
                    .sync_scope(request_id, || error_for_surface(path, unavailable));
            }
        }
    };
    let path = req.uri().path();
    let is_page_view = matches!(*req.method(), Method::GET | Method::HEAD);
    if is_page_view && principal.is_none() && !is_public_path(path) {
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let target = if here == "/" {
            "/login".to_owned()
        } else {
            format!("/login?next={}", aura_app::shell::encode_query_value(here))
        };
        return Redirect::to(&target).into_response();
    }
    if is_page_view && principal.is_some() && matches!(path, "/login" | "/signup") {
        return Redirect::to("/").into_response();
    }
    req.extensions_mut().insert(origin);
    if let Some(principal) = principal {
        req.extensions_mut().insert(principal);
    }
    // Errors raised anywhere inside answer and log with this request's id.
    aura_app::server::REQUEST_ID
        .scope(request_id, next.run(req))
        .await
}

/// The API key of a REST request (`Authorization: Bearer aura_…`). Only `/api/v1/`
/// accepts keys: a key never authenticates a page or a server function.
fn api_key(req: &Request) -> Option<&str> {
    if !req.uri().path().starts_with("/api/v1/") {
        return None;
    }
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|key| key.starts_with(aura_auth::KEY_PREFIX))
}

/// An error answered before any handler ran, in the form the caller reads: REST's
/// envelope, a server function's error JSON, or text for a page.
fn error_for_surface(path: &str, err: AppError) -> Response {
    if path.starts_with("/api/v1/") {
        return err.into_response();
    }
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if path.starts_with("/api/") {
        (status, axum::Json(&err)).into_response()
    } else {
        (status, err.to_string()).into_response()
    };
    if let Some(value) = err
        .retry_after_secs()
        .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn signed_in_user(
    state: &AppState,
    session: &Session,
) -> anyhow::Result<Option<aura_store::User>> {
    let Some(user_id) = session.get::<String>(SESSION_USER_ID).await? else {
        return Ok(None);
    };
    let signed_in_at = session.get::<i64>(SESSION_SIGNED_IN_AT).await?.unwrap_or(0);
    let now = aura_store::now_millis();
    if state.services.sessions.is_past_lifetime(signed_in_at, now) {
        session.flush().await?;
        return Ok(None);
    }
    // The idle timeout slides only when the record is saved again. Saving on every request
    // would write to the database for each asset, so activity is recorded once a tenth of
    // the idle timeout has passed since the last time: the session ends between 90 % and
    // 100 % of the idle timeout after the last request.
    let seen_at = session
        .get::<i64>(SESSION_SEEN_AT)
        .await?
        .unwrap_or(signed_in_at);
    let refresh_every = (state.config.session_idle_timeout.as_millis() / 10) as i64;
    if now - seen_at >= refresh_every {
        session.insert(SESSION_SEEN_AT, now).await?;
    }
    match state.services.accounts.user(&user_id).await? {
        Some(user) => Ok(Some(user)),
        None => {
            session.flush().await?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn same_origin_rules() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(is_same_origin(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example")
            ]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]),
            None
        ));
        assert!(is_same_origin(
            &headers(&[
                ("host", "internal:8080"),
                ("origin", "https://aura.example")
            ]),
            Some("https://aura.example")
        ));
        assert!(
            is_same_origin(&headers(&[]), None),
            "non-browser clients send neither header"
        );
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let trusted = |ip: &IpAddr| proxies.iter().any(|n| n.contains(ip));
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let client = |xff: &'static str| {
            forwarded_client(&headers(&[("x-forwarded-for", xff)]), peer, trusted).to_string()
        };
        // The client forged the left-most entries; the proxy appended what it saw.
        assert_eq!(client("1.2.3.4, 203.0.113.9"), "203.0.113.9");
        assert_eq!(client("203.0.113.9, 10.0.0.5"), "203.0.113.9");
        assert_eq!(client("not-an-ip, 10.0.0.5"), "10.0.0.5");
        assert_eq!(client("2001:db8::1"), "2001:db8::1");
        assert_eq!(
            forwarded_client(&headers(&[]), peer, trusted).to_string(),
            "10.0.0.2"
        );
    }

    #[test]
    fn only_short_safe_request_ids_are_kept() {
        assert!(is_safe_request_id(b"0192abcd-ef01"));
        assert!(is_safe_request_id(b"trace:abc.def_1"));
        assert!(!is_safe_request_id(b""));
        assert!(!is_safe_request_id(&[b'a'; 65]));
        assert!(!is_safe_request_id(b"abc\r\ninjected"));
        assert!(!is_safe_request_id(b"<script>"));
    }

    #[test]
    fn public_paths() {
        assert!(is_public_path("/login"));
        assert!(is_public_path("/pkg/aura.wasm"));
        assert!(is_public_path("/api/auth/sign_in"));
        assert!(!is_public_path("/"));
        assert!(!is_public_path("/runs"));
        assert!(!is_public_path("/login/../runs"));
    }

    #[test]
    fn csp_allows_only_self_wasm_and_the_nonce() {
        let csp = content_security_policy(Some("abc"), false);
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("blob:"));
    }

    #[test]
    fn only_the_editor_page_allows_inline_styles_and_blob_workers() {
        let csp = content_security_policy(Some("abc"), true);
        assert!(csp.contains("style-src 'self' 'unsafe-inline'"));
        assert!(csp.contains("worker-src 'self' blob:"));
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(is_editor_page("/projects/0192"));
        assert!(is_editor_page("/runs/0192/changes/review"));
        // Elsewhere only `<style>` elements with the nonce: no style attributes.
        let csp = content_security_policy(Some("abc"), false);
        assert!(csp.contains("style-src 'self' 'nonce-abc';"));
        assert!(!csp.contains("unsafe-inline"));
        for other in [
            "/projects",
            "/projects/",
            "/projects/a/b",
            "/runs/1",
            "/runs/1/changes",
            "/runs/1/changes/",
            "/runs/1/other/review",
            "/runs/1/changes/review/x",
            "/",
        ] {
            assert!(!is_editor_page(other), "{other}");
        }
    }
}
