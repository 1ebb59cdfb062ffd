//! Routing against local servers: `Retry-After` honoured, 5xx retried, a refused call not
//! retried, a timeout before the first token, fallback to the next target, cool-down of a
//! target that keeps failing, and answers larger than the cap refused.

mod support;

use aura_ai::{
    CallError, ChatRequest, Endpoint, Message, Progress, Protocol, RetryPolicy, RouteError, Router,
    Target, Timeouts,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Reply, Script};

const OK: &str = r#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;

fn target(script: &Script, name: &str) -> Target {
    Target {
        endpoint: Arc::new(Endpoint {
            name: name.into(),
            protocol: Protocol::OpenAi,
            base_url: script.url.clone(),
            api_key: None,
        }),
        model: "m".into(),
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    }
}

async fn call(router: &Router) -> (Result<aura_ai::Route, RouteError>, Vec<String>) {
    let mut failures = Vec::new();
    let result = router
        .chat("default", &request(), &mut |progress| {
            if let Progress::Failed(failed) = progress {
                failures.push(format!("{}: {}", failed.target, failed.error));
            }
        })
        .await;
    (result, failures)
}

#[tokio::test]
async fn a_429_waits_exactly_its_retry_after_then_succeeds() {
    let script = Script::start(vec![
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached","type":"tokens"}}"#,
        )
        .header("retry-after", "1"),
        Reply::json(200, OK),
    ])
    .await;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let started = Instant::now();
    let (route, failures) = call(&router).await;
    let route = route.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(route.response.text, "fine");
    assert_eq!(route.tries[0].retry_in, Some(Duration::from_secs(1)));
    assert!(matches!(
        route.tries[0].error,
        CallError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)
    ));
    assert_eq!(
        failures,
        vec!["p/m: rate limited (429): Rate limit reached"]
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_longest_wait_moves_to_the_next_target() {
    let first = Script::start(vec![
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("retry-after", "600"),
    ])
    .await;
    let second = Script::start(vec![Reply::json(200, OK)]).await;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_alias("default", vec![target(&first, "a"), target(&second, "b")]);
    let started = Instant::now();
    let route = call(&router).await.0.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(route.target, "b/m");
    assert_eq!(route.tries.len(), 1);
    assert_eq!(route.tries[0].retry_in, None);
}

#[tokio::test]
async fn a_500_then_success_on_the_same_target() {
    let script = Script::start(vec![
        Reply::json(500, r#"{"error":{"message":"boom"}}"#),
        Reply::json(200, OK),
    ])
    .await;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let route = call(&router).await.0.unwrap();
    assert_eq!(route.target, "p/m");
    assert!(matches!(
        route.tries[0].error,
        CallError::Server { status: 500, .. }
    ));
    assert_eq!(script.left(), 0);
}

#[tokio::test]
async fn a_refused_call_is_not_retried_and_is_not_retryable() {
    let script = Script::start(vec![
        Reply::json(401, r#"{"error":{"message":"Incorrect API key provided"}}"#),
        Reply::json(200, OK),
    ])
    .await;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let err = call(&router).await.0.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
    assert_eq!(script.left(), 1, "the same call was not sent again");
}

#[tokio::test]
async fn no_first_token_in_time_falls_back_to_the_next_target() {
    let slow = Script::start(vec![
        Reply::stream(&["data: [DONE]\n\n"]).delayed(Duration::from_secs(5)),
    ])
    .await;
    let fast = Script::start(vec![Reply::stream(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"quick\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    ])])
    .await;
    let timeouts = Timeouts {
        first_token: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let policy = RetryPolicy {
        attempts_per_target: 1,
        ..policy()
    };
    let router = Router::new(timeouts, policy).unwrap().with_alias(
        "default",
        vec![target(&slow, "slow"), target(&fast, "fast")],
    );
    let mut request = request();
    request.stream = true;
    let started = Instant::now();
    let route = router.chat("default", &request, &mut |_| {}).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(route.target, "fast/m");
    assert_eq!(route.response.text, "quick");
    assert_eq!(
        route.tries[0].error,
        CallError::FirstTokenTimeout(Duration::from_millis(300))
    );
}

#[tokio::test]
async fn the_whole_call_is_bounded_even_while_tokens_keep_coming() {
    let chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n";
    let endless = Reply::stream(&vec![chunk; 400]);
    let script = Script::start(vec![endless]).await;
    let timeouts = Timeouts {
        total: Duration::from_millis(500),
        ..Timeouts::default()
    };
    let policy = RetryPolicy {
        attempts_per_target: 1,
        ..policy()
    };
    let router = Router::new(timeouts, policy)
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let mut request = request();
    request.stream = true;
    let err = router
        .chat("default", &request, &mut |_| {})
        .await
        .unwrap_err();
    let RouteError::AllFailed { tries, .. } = err else {
        panic!()
    };
    assert_eq!(
        tries[0].error,
        CallError::TotalTimeout(Duration::from_millis(500))
    );
}

#[tokio::test]
async fn a_target_that_keeps_failing_cools_down_and_is_skipped() {
    let failing = Script::start(vec![
        Reply::json(503, r#"{"error":{"message":"down"}}"#),
        Reply::json(503, r#"{"error":{"message":"down"}}"#),
        Reply::json(200, OK),
    ])
    .await;
    let backup = Script::start(vec![
        Reply::json(200, OK),
        Reply::json(200, OK),
        Reply::json(200, OK),
    ])
    .await;
    let policy = RetryPolicy {
        attempts_per_target: 1,
        failures_to_cool: 2,
        cool_down: Duration::from_secs(60),
        ..policy()
    };
    let router = Router::new(Timeouts::default(), policy)
        .unwrap()
        .with_alias("default", vec![target(&failing, "a"), target(&backup, "b")]);
    for _ in 0..3 {
        let route = call(&router).await.0.unwrap();
        assert_eq!(route.target, "b/m");
    }
    assert_eq!(
        failing.seen().len(),
        2,
        "the third call skipped the cooling target"
    );
    assert_eq!(backup.seen().len(), 3);

    // With only the cooling target left, the call says so instead of waiting.
    let down = Script::start(vec![
        Reply::json(503, r#"{"error":{"message":"down"}}"#),
        Reply::json(503, r#"{"error":{"message":"down"}}"#),
        Reply::json(200, OK),
    ])
    .await;
    let lonely = Router::new(Timeouts::default(), policy)
        .unwrap()
        .with_alias("default", vec![target(&down, "a")]);
    assert!(call(&lonely).await.0.is_err());
    assert!(call(&lonely).await.0.is_err());
    let err = call(&lonely).await.0.unwrap_err();
    assert!(
        matches!(&err, RouteError::CoolingDown { ready_in, .. } if *ready_in > Duration::from_secs(50)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(down.left(), 1, "no call was sent while cooling down");
}

#[tokio::test]
async fn an_answer_over_the_cap_is_refused() {
    let big = format!(
        r#"{{"choices":[{{"index":0,"message":{{"content":"{}"}},"finish_reason":"stop"}}]}}"#,
        "x".repeat(4096)
    );
    let script = Script::start(vec![Reply::json(200, &big)]).await;
    let policy = RetryPolicy {
        attempts_per_target: 1,
        max_response_bytes: 1024,
        ..policy()
    };
    let router = Router::new(Timeouts::default(), policy)
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let err = call(&router).await.0.unwrap_err();
    assert!(err.to_string().contains("larger than 1024 bytes"), "{err}");
}

#[tokio::test]
async fn unknown_aliases_and_provider_model_names() {
    let script = Script::start(vec![Reply::json(200, OK)]).await;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_alias("default", vec![target(&script, "p")]);
    let err = router
        .chat("fast", &request(), &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(err, RouteError::UnknownAlias("fast".into()));
    assert!(!err.is_retryable());
    // `provider/model` names one target directly.
    let route = router
        .chat("p/other", &request(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(route.target, "p/other");
    assert_eq!(script.seen()[0].body["model"], "other");
}

#[tokio::test]
async fn bare_model_names_go_to_the_default_provider() {
    let script = Script::start(vec![Reply::json(200, OK), Reply::json(200, OK)]).await;
    let endpoint = target(&script, "env").endpoint;
    let router = Router::new(Timeouts::default(), policy())
        .unwrap()
        .with_default_endpoint(endpoint);
    let route = router
        .chat("gpt-4o-mini", &request(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(route.target, "env/gpt-4o-mini");
    // A model whose own name has a slash, with no provider of that name.
    let route = router
        .chat("meta-llama/llama-3-8b", &request(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(route.target, "env/meta-llama/llama-3-8b");
    assert_eq!(script.seen()[1].body["model"], "meta-llama/llama-3-8b");
}
