//! Accounts and sessions over real HTTP, on SQLite or PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, RETRY_AFTER};

#[tokio::test]
async fn sign_up_creates_a_session_and_the_first_user_is_admin() {
    let app = spawn_app().await;
    let c = client();
    let res = app
        .sign_up(&c, "  Ada@Example.COM ", "Ada Lovelace", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = session_cookie(res.headers()).expect("session cookie set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP in tests: {cookie}");

    let me = json(c.post(app.url("/api/auth/me")).send().await.unwrap()).await;
    assert_eq!(me["email"], "ada@example.com", "email is normalised");
    assert_eq!(me["is_admin"], true);

    let second = app.signed_in_client("bob@example.com").await;
    let me = json(second.post(app.url("/api/auth/me")).send().await.unwrap()).await;
    assert_eq!(me["is_admin"], false, "only the first account is admin");

    let page = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Ada Lovelace"));
}

#[tokio::test]
async fn sign_up_rejects_duplicates_weak_passwords_and_bad_emails_with_field_errors() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;

    let res = app
        .sign_up(&client(), "ADA@example.com", "Another Ada", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    assert_eq!(body["code"], "validation");
    assert!(
        body["fields"]["email"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{body}"
    );

    for weak in ["short", "password123", "iloveyou1"] {
        let res = app.sign_up(&client(), "new@example.com", "New", weak).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let body = json(res).await;
        assert!(body["fields"]["password"].is_string(), "{weak}: {body}");
    }

    let res = app.sign_up(&client(), "not-an-email", "", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    assert!(body["fields"]["email"].is_string(), "{body}");
    assert!(body["fields"]["display_name"].is_string(), "{body}");

    let users = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "auth.sign_up")
        .count();
    assert_eq!(users, 1, "refused sign-ups write nothing");
}

#[tokio::test]
async fn sign_in_checks_credentials_with_one_message_for_unknown_and_wrong() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;

    let c = client();
    let wrong = app.sign_in(&c, "ada@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = json(wrong).await;
    let unknown = app
        .sign_in(&c, "nobody@example.com", "not the password")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = json(unknown).await;
    assert_eq!(
        wrong, unknown,
        "an unknown email must look exactly like a wrong password"
    );
    assert_eq!(wrong["message"], "The email or password is not correct.");

    let ok = app.sign_in(&c, "ADA@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(json(ok).await, "/");
    assert_eq!(
        c.get(app.url("/profile")).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_in_returns_only_same_site_next_paths() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;
    let c = client();
    async fn landing(app: &TestApp, c: &reqwest::Client, next: &str) -> serde_json::Value {
        let form = [
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("next", next),
        ];
        json(app.post(c, "/api/auth/sign_in", &form).await).await
    }
    assert_eq!(landing(&app, &c, "/runs?x=1").await, "/runs?x=1");
    assert_eq!(landing(&app, &c, "//evil.example/").await, "/");
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_with_retry_after() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;
    let c = client();
    for _ in 0..5 {
        assert_eq!(
            app.sign_in(&c, "ada@example.com", "wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.sign_in(&c, "ada@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = res.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let body = json(res).await;
    assert_eq!(body["code"], "throttled");
    assert!(
        body["message"].as_str().unwrap().contains("Try again in"),
        "{body}"
    );

    // Other accounts from elsewhere are unaffected.
    app.signed_in_client("bob@example.com").await;
    assert_eq!(
        app.sign_in(&client(), "bob@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    let throttled = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, o, e)| {
            a == "auth.sign_in" && o == "failure" && e.as_deref() == Some("ada@example.com")
        })
        .count();
    assert_eq!(
        throttled, 6,
        "5 wrong passwords and 1 throttled attempt are audited"
    );
}

#[tokio::test]
async fn session_id_is_cycled_at_sign_in() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;
    let c = client();
    let first =
        session_cookie(app.sign_in(&c, "ada@example.com", PASSWORD).await.headers()).unwrap();
    let second =
        session_cookie(app.sign_in(&c, "ada@example.com", PASSWORD).await.headers()).unwrap();
    let id = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
}

#[tokio::test]
async fn sign_out_deletes_the_session_on_the_server() {
    let app = spawn_app().await;
    let c = client();
    let res = app.sign_up(&c, "ada@example.com", "Ada", PASSWORD).await;
    let cookie = session_cookie(res.headers()).unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();

    let res = app.post(&c, "/api/auth/sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, "/login");

    // Replaying the old cookie by hand gets nowhere: the record is gone.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/profile"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let raw_id = pair.split_once('=').unwrap().1;
    assert!(!app.store.session_exists(raw_id).await.unwrap());
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|(a, o, _)| a == "auth.sign_out" && o == "success")
    );
}

#[tokio::test]
async fn protected_pages_redirect_to_sign_in_with_next() {
    let app = spawn_app().await;
    let c = client();
    let res = c.get(app.url("/runs?status=failed")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION],
        "/login?next=/runs%3Fstatus%3Dfailed"
    );
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/login");
    let res = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Server functions answer 401 rather than redirecting.
    let res = app
        .post(&c, "/api/profile/display_name", &[("display_name", "X")])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_pages_get_a_404_page_for_signed_in_users() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c
        .post(app.url("/api/profile/display_name"))
        .header("origin", "https://evil.example")
        .form(&[("display_name", "Pwned")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(app.url("/api/auth/sign_out"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me = json(
        c.post(app.url("/api/auth/me"))
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["display_name"], "Test User", "nothing changed");
}

#[tokio::test]
async fn responses_carry_security_headers_and_request_ids() {
    let app = spawn_app().await;
    let c = client();
    let res = c
        .get(app.url("/login"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    let h = res.headers().clone();
    assert_eq!(h["x-request-id"], "trace-me-42");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("CSP has a nonce");
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the CSP nonce"
    );
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS without TLS"
    );

    let res = c.get(app.url("/healthz")).send().await.unwrap();
    assert!(
        !res.headers()["x-request-id"].to_str().unwrap().is_empty(),
        "a request id is generated"
    );
    assert_eq!(
        c.get(app.url("/readyz")).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn secure_mode_uses_host_prefixed_secure_cookies_and_hsts() {
    let app = spawn_app_with(&[("AURA_SECURE_COOKIES", "true")]).await;
    let res = app
        .sign_up(&client(), "ada@example.com", "Ada", PASSWORD)
        .await;
    let cookie = session_cookie(res.headers()).unwrap();
    assert!(cookie.starts_with("__Host-aura_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    let res = client().get(app.url("/login")).send().await.unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    let here = app.signed_in_client("ada@example.com").await;
    let elsewhere = client();
    assert_eq!(
        app.sign_in(&elsewhere, "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    let res = app
        .post(
            &here,
            "/api/profile/password",
            &[
                ("current_password", "wrong one"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(res).await["fields"]["current_password"].is_string());

    let res = app
        .post(
            &here,
            "/api/profile/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, 1, "one other session ended");

    assert_eq!(
        here.get(app.url("/profile")).send().await.unwrap().status(),
        StatusCode::OK,
        "this session lives on"
    );
    assert_eq!(
        elsewhere
            .get(app.url("/profile"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.sign_in(&client(), "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&client(), "ada@example.com", "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_absolute_lifetime() {
    use std::time::{Duration, Instant};
    let status = |c: &reqwest::Client, url: String| {
        let request = c.get(url).send();
        async move { request.await.unwrap().status() }
    };

    let idle = spawn_app_with(&[("AURA_SESSION_IDLE_TIMEOUT_SECS", "2")]).await;
    let c = idle.signed_in_client("ada@example.com").await;
    assert_eq!(status(&c, idle.url("/profile")).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    assert_eq!(
        status(&c, idle.url("/profile")).await,
        StatusCode::SEE_OTHER
    );

    let absolute = spawn_app_with(&[("AURA_SESSION_ABSOLUTE_LIFETIME_SECS", "3")]).await;
    let c = absolute.signed_in_client("ada@example.com").await;
    // Taken after the response, so the server's sign-in time is no later than this.
    let signed_in = Instant::now();
    // Staying active does not extend the absolute lifetime: requests well inside it pass…
    while signed_in.elapsed() < Duration::from_millis(1_800) {
        assert_eq!(status(&c, absolute.url("/profile")).await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // …and the first one after it is sent to sign in.
    tokio::time::sleep_until((signed_in + Duration::from_millis(3_300)).into()).await;
    assert_eq!(
        status(&c, absolute.url("/profile")).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn admins_close_sign_up_and_every_step_is_audited() {
    let app = spawn_app().await;
    let admin = app.signed_in_client("admin@example.com").await;
    let member = app.signed_in_client("member@example.com").await;

    let res = app
        .post(&member, "/api/settings/signup_open", &[("open", "false")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(&admin, "/api/settings/signup_open", &[("open", "false")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .sign_up(&client(), "late@example.com", "Late", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        json(res).await["message"]
            .as_str()
            .unwrap()
            .contains("Sign-up is closed")
    );

    app.sign_in(&client(), "member@example.com", "bad password!")
        .await;
    app.post(&member, "/api/auth/sign_out", &[]).await;

    let events = app.audit_actions().await;
    for (action, outcome) in [
        ("auth.sign_up", "success"),
        ("settings.change", "success"),
        ("auth.sign_in", "failure"),
        ("auth.sign_out", "success"),
    ] {
        assert!(
            events.iter().any(|(a, o, _)| a == action && o == outcome),
            "missing {action}/{outcome}: {events:?}"
        );
    }
    let page = app
        .store
        .list_audit_events(&aura_store::AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let newest = &page.events[0];
    assert_eq!(newest.action, "auth.sign_out", "newest first");
    assert_eq!(newest.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(newest.user_agent.as_deref(), Some("aura-tests/1.0"));
    assert!(newest.occurred_at > 1_700_000_000_000, "UTC milliseconds");
    assert!(page.next_before.is_some(), "more pages follow");

    // The admin API filters by actor and action; members are refused.
    let res = admin
        .post(app.url("/api/audit/events"))
        .form(&[("actor", "MEMBER@"), ("action", "auth.sign_in")])
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["outcome"], "failure");
    let member_again = client();
    assert_eq!(
        app.sign_in(&member_again, "member@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .post(
            &member_again,
            "/api/audit/events",
            &[("actor", ""), ("action", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// Before the WASM bundle loads, forms are plain HTML posts to the server functions. They
/// must still sign people in and still show what went wrong.
#[tokio::test]
async fn forms_work_before_hydration() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;
    let c = client();
    let form_post = |form: Vec<(&'static str, &'static str)>| {
        c.post(app.url("/api/auth/sign_in"))
            .header("accept", "text/html")
            .header("referer", app.url("/login?next=/runs"))
            .form(&form)
            .send()
    };

    let res = form_post(vec![
        ("email", "ada@example.com"),
        ("password", "wrong password!"),
        ("next", "/runs"),
    ])
    .await
    .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.contains("/login") && back.contains("__err="), "{back}");
    let page = c.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("The email or password is not correct."),
        "the error is rendered on the page"
    );

    let res = form_post(vec![
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("next", "/runs"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/runs");
    assert_eq!(
        c.get(app.url("/runs")).send().await.unwrap().status(),
        StatusCode::OK
    );
}
