//! Both wire protocols against a local server that answers byte for byte as real
//! providers do: text and tool calls split across chunks (inside JSON and inside a UTF-8
//! character), the usage-chunk variants, errors mid-stream, whole answers, and what is
//! sent (paths, headers, bodies).

mod support;

use aura_ai::{
    CallError, ChatRequest, Endpoint, Message, Part, Protocol, RetryPolicy, RouteError, Router,
    StopReason, Target, Timeouts, ToolCall, ToolSpec, Usage,
};
use serde_json::json;
use std::sync::Arc;
use support::{Reply, Script};

fn target(script: &Script, protocol: Protocol, name: &str, model: &str) -> Target {
    Target {
        endpoint: Arc::new(Endpoint {
            name: name.into(),
            protocol,
            base_url: format!("{}/v1", script.url),
            api_key: Some(format!("key-{name}")),
        }),
        model: model.into(),
    }
}

fn router(targets: Vec<Target>) -> Router {
    let policy = RetryPolicy {
        base_delay: std::time::Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    Router::new(Timeouts::default(), policy)
        .unwrap()
        .with_alias("default", targets)
}

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        system: Some("Be brief.".into()),
        messages: vec![Message::user("Weather in Paris?")],
        tools: vec![ToolSpec {
            name: "weather".into(),
            description: "Current weather".into(),
            parameters: json!({ "type": "object", "properties": { "city": { "type": "string" } } }),
        }],
        temperature: Some(0.0),
        max_tokens: Some(200),
        stream,
        ..ChatRequest::default()
    }
}

/// Calls `default`, collecting the streamed text.
async fn call(
    router: &Router,
    request: &ChatRequest,
) -> (Result<aura_ai::Route, RouteError>, String) {
    let mut streamed = String::new();
    let result = router
        .chat("default", request, &mut |progress| {
            if let aura_ai::Progress::Text(text) = progress {
                streamed.push_str(text);
            }
        })
        .await;
    (result, streamed)
}

#[tokio::test]
async fn openai_streams_text_split_inside_json_and_inside_a_character() {
    // "Très" has a two-byte `è`; the second chunk starts in the middle of it.
    let whole = concat!(
        "data: {\"id\":\"c1\",\"model\":\"gpt-x-2025\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-x-2025\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Très\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-x-2025\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" beau.\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-x-2025\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n",
        "data: [DONE]\n\n",
    )
    .as_bytes();
    let split = whole.windows(2).position(|w| w == "è".as_bytes()).unwrap() + 1;
    let mut reply = Reply::stream(&[]);
    reply.chunks = vec![
        whole[..40].to_vec(),
        whole[40..split].to_vec(),
        whole[split..].to_vec(),
    ];
    let script = Script::start(vec![reply]).await;
    let router = router(vec![target(&script, Protocol::OpenAi, "openai", "gpt-x")]);
    let (route, streamed) = call(&router, &request(true)).await;
    let route = route.unwrap();
    assert_eq!(route.response.text, "Très beau.");
    assert_eq!(streamed, "Très beau.");
    assert_eq!(route.response.model, "gpt-x-2025");
    assert_eq!(route.response.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        route.response.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 3
        })
    );
    assert_eq!(route.target, "openai/gpt-x");

    let seen = &script.seen()[0];
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.headers["authorization"], "Bearer key-openai");
    assert_eq!(seen.body["model"], "gpt-x");
    assert_eq!(seen.body["stream"], true);
    assert_eq!(
        seen.body["stream_options"],
        json!({ "include_usage": true })
    );
    assert_eq!(
        seen.body["messages"][0],
        json!({ "role": "system", "content": "Be brief." })
    );
    assert_eq!(
        seen.body["messages"][1],
        json!({ "role": "user", "content": "Weather in Paris?" })
    );
    assert_eq!(seen.body["tools"][0]["type"], "function");
    assert_eq!(seen.body["tools"][0]["function"]["name"], "weather");
    assert_eq!(seen.body["max_tokens"], 200);
}

#[tokio::test]
async fn openai_assembles_tool_calls_by_index_and_accepts_a_null_usage_chunk_without_done() {
    let chunks = [
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\": \\\"Lyon\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"model\":\"m\",\"choices\":null,\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":20}}\n\n",
    ];
    let script = Script::start(vec![Reply::stream(&chunks)]).await;
    let router = router(vec![target(&script, Protocol::OpenAi, "local", "m")]);
    let (route, streamed) = call(&router, &request(true)).await;
    let response = route.unwrap().response;
    assert_eq!(streamed, "");
    assert_eq!(response.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        response.tool_calls,
        vec![
            ToolCall {
                id: "call_a".into(),
                name: "weather".into(),
                arguments: json!({ "city": "Paris" })
            },
            ToolCall {
                id: "call_b".into(),
                name: "weather".into(),
                arguments: json!({ "city": "Lyon" })
            },
        ]
    );
    assert_eq!(response.usage.unwrap().output_tokens, 20);
}

#[tokio::test]
async fn openai_usage_in_a_chunk_with_one_empty_delta() {
    let chunks = [
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
        "data: [DONE]\n\n",
    ];
    let script = Script::start(vec![Reply::stream(&chunks)]).await;
    let router = router(vec![target(&script, Protocol::OpenAi, "local", "m")]);
    let response = call(&router, &request(true)).await.0.unwrap().response;
    assert_eq!(response.text, "ok");
    assert_eq!(
        response.stop_reason,
        Some(StopReason::EndTurn),
        "a later null keeps the reason"
    );
    assert_eq!(response.usage.unwrap().input_tokens, 5);
}

#[tokio::test]
async fn openai_tool_results_and_calls_are_sent_in_its_shape() {
    let script = Script::start(vec![Reply::json(
        200,
        r#"{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Nice\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"#,
    )])
    .await;
    let router = router(vec![target(&script, Protocol::OpenAi, "local", "m")]);
    let mut request = request(false);
    request.messages.push(aura_ai::Message {
        role: aura_ai::Role::Assistant,
        parts: vec![Part::ToolCall(ToolCall {
            id: "call_1".into(),
            name: "weather".into(),
            arguments: json!({ "city": "Paris" }),
        })],
    });
    request.messages.push(aura_ai::Message {
        role: aura_ai::Role::User,
        parts: vec![Part::ToolResult {
            call_id: "call_1".into(),
            content: "sunny".into(),
            is_error: false,
        }],
    });
    let response = call(&router, &request).await.0.unwrap().response;
    assert_eq!(response.tool_calls[0].arguments, json!({ "city": "Nice" }));
    assert_eq!(response.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(response.usage.unwrap().input_tokens, 9);

    let body = &script.seen()[0].body;
    assert_eq!(body["stream"], false);
    assert!(body.get("stream_options").is_none());
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], serde_json::Value::Null);
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    assert_eq!(
        messages[3],
        json!({ "role": "tool", "tool_call_id": "call_1", "content": "sunny" })
    );
}

#[tokio::test]
async fn an_error_mid_stream_is_retried_and_the_retry_answers() {
    let broken = Reply::stream(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}\n\n",
    ]);
    let good = Reply::stream(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    ]);
    let script = Script::start(vec![broken, good]).await;
    let router = router(vec![target(&script, Protocol::OpenAi, "local", "m")]);
    let route = call(&router, &request(true)).await.0.unwrap();
    assert_eq!(route.response.text, "Hello");
    assert_eq!(route.tries.len(), 1);
    assert_eq!(
        route.tries[0].error,
        CallError::MidStream("The server is overloaded".into())
    );
}

#[tokio::test]
async fn a_stream_cut_off_before_its_end_is_an_error_not_an_answer() {
    let cut = Reply::stream(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half an ans\"},\"finish_reason\":null}]}\n\n",
    ]);
    let script = Script::start(vec![cut.clone(), cut]).await;
    let router = router(vec![target(&script, Protocol::OpenAi, "local", "m")]);
    let err = call(&router, &request(true)).await.0.unwrap_err();
    let RouteError::AllFailed { tries, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(tries[0].error, CallError::Transport(_)),
        "{tries:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn anthropic_streams_text_and_a_tool_call_whose_input_is_split() {
    let events = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x-20250101\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Let me che\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ck.\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Pa\"}}\n\nevent: content_block_de",
        "lta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":41}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];
    let script = Script::start(vec![Reply::stream(&events)]).await;
    let router = router(vec![target(
        &script,
        Protocol::Anthropic,
        "anthropic",
        "claude-x",
    )]);
    let (route, streamed) = call(&router, &request(true)).await;
    let response = route.unwrap().response;
    assert_eq!(streamed, "Let me check.");
    assert_eq!(response.text, "Let me check.");
    assert_eq!(response.model, "claude-x-20250101");
    assert_eq!(response.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        response.tool_calls,
        vec![ToolCall {
            id: "toolu_1".into(),
            name: "weather".into(),
            arguments: json!({ "city": "Paris" })
        }]
    );
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 25,
            output_tokens: 41
        })
    );

    let seen = &script.seen()[0];
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.headers["x-api-key"], "key-anthropic");
    assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
    assert!(seen.headers.get("authorization").is_none());
    assert_eq!(seen.body["system"], "Be brief.");
    assert_eq!(seen.body["max_tokens"], 200);
    assert_eq!(
        seen.body["messages"][0],
        json!({ "role": "user", "content": [{ "type": "text", "text": "Weather in Paris?" }] })
    );
    assert_eq!(seen.body["tools"][0]["input_schema"]["type"], "object");
}

#[tokio::test]
async fn anthropic_error_event_mid_stream_fails_the_try() {
    let events = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    ];
    let script = Script::start(vec![Reply::stream(&events), Reply::stream(&events)]).await;
    let router = router(vec![target(&script, Protocol::Anthropic, "anthropic", "c")]);
    let err = call(&router, &request(true)).await.0.unwrap_err();
    let RouteError::AllFailed { tries, .. } = err else {
        panic!()
    };
    assert_eq!(tries.len(), 2, "retried once on the same target");
    assert_eq!(
        tries[0].error,
        CallError::MidStream("overloaded_error: Overloaded".into())
    );
}

#[tokio::test]
async fn anthropic_whole_answers_and_tool_results_in_its_shape() {
    let script = Script::start(vec![Reply::json(
        200,
        r#"{"id":"msg_2","type":"message","role":"assistant","model":"c-1","content":[{"type":"text","text":"It is sunny."}],"stop_reason":"end_turn","usage":{"input_tokens":50,"output_tokens":6}}"#,
    )])
    .await;
    let router = router(vec![target(&script, Protocol::Anthropic, "anthropic", "c")]);
    let mut request = request(false);
    request.max_tokens = None;
    request.messages.push(aura_ai::Message {
        role: aura_ai::Role::Assistant,
        parts: vec![Part::ToolCall(ToolCall {
            id: "toolu_1".into(),
            name: "weather".into(),
            arguments: json!({ "city": "Paris" }),
        })],
    });
    request.messages.push(aura_ai::Message {
        role: aura_ai::Role::User,
        parts: vec![Part::ToolResult {
            call_id: "toolu_1".into(),
            content: "sunny".into(),
            is_error: false,
        }],
    });
    let response = call(&router, &request).await.0.unwrap().response;
    assert_eq!(response.text, "It is sunny.");
    assert_eq!(response.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(response.usage.unwrap().output_tokens, 6);
    let body = &script.seen()[0].body;
    assert_eq!(body["max_tokens"], 4096, "Anthropic requires max_tokens");
    assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(
        body["messages"][1]["content"][0]["input"],
        json!({ "city": "Paris" })
    );
    assert_eq!(
        body["messages"][2]["content"][0],
        json!({ "type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny", "is_error": false })
    );
}

#[tokio::test]
async fn a_whole_answer_to_a_streaming_request_is_read_as_one() {
    let script = Script::start(vec![Reply::json(
        200,
        r#"{"content":[{"text":"Hello from a proxy","type":"text"}],"id":"msg_1","model":"m","role":"assistant","stop_reason":"end_turn","type":"message","usage":{"input_tokens":4,"output_tokens":5}}"#,
    )])
    .await;
    let router = router(vec![target(&script, Protocol::Anthropic, "proxy", "m")]);
    let (route, streamed) = call(&router, &request(true)).await;
    let response = route.unwrap().response;
    assert_eq!(response.text, "Hello from a proxy");
    assert_eq!(
        streamed, "Hello from a proxy",
        "the text still reaches the log"
    );
    assert_eq!(response.usage.unwrap().output_tokens, 5);
}
