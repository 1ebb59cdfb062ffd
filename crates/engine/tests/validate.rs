//! Save-time validation: one valid definition per step type, and each rule broken once.

use aura_engine::{Problem, StepLimits, WorkflowDefinition, validate, validate_with};
use serde_json::json;

fn definition(value: serde_json::Value) -> WorkflowDefinition {
    serde_json::from_value(value).expect("test definition parses")
}

fn problems(value: serde_json::Value) -> Vec<Problem> {
    validate(&definition(value)).expect_err("definition should be refused")
}

/// Asserts that exactly one problem concerns `step`/`field` and that it mentions `needle`.
fn assert_problem(problems: &[Problem], step: &str, field: &str, needle: &str) {
    let matching: Vec<_> = problems
        .iter()
        .filter(|p| p.step.as_deref() == Some(step) && p.field == field)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one problem at {step}/{field}, got {problems:#?}"
    );
    assert!(
        matching[0].message.contains(needle),
        "{:?} should mention {needle:?}",
        matching[0].message
    );
}

fn review_workflow() -> serde_json::Value {
    json!({ "steps": [
        { "id": "fetch", "type": "http",
          "config": { "method": "GET", "url": "https://api.example.com/repos/{{ input.repo }}",
                      "headers": { "accept": "application/json" } },
          "retry": { "max_attempts": 5 }, "timeout_ms": 10000,
          "next": [{ "to": "is_big" }] },
        { "id": "is_big", "type": "condition",
          "config": { "expression": "steps.fetch.output.body.size > 1000" },
          "next": [{ "to": "summarise", "branch": "true" }, { "to": "note", "branch": "false" }] },
        { "id": "summarise", "type": "llm",
          "config": { "model": "gpt-4o-mini", "system": "You review code.",
                      "prompt": "Summarise {{ steps.fetch.output.body.name }}", "temperature": 0.2 },
          "next": [{ "to": "per_file" }] },
        { "id": "per_file", "type": "map",
          "config": { "items": "steps.fetch.output.body.files", "concurrency": 8,
                      "step": { "type": "template", "config": { "template": "{{ index }}: {{ item.path }}" } } },
          "next": [{ "to": "score" }] },
        { "id": "score", "type": "script",
          "config": { "code": "return input.files.length", "memory_limit_mb": 64 } },
        { "id": "note", "type": "template",
          "config": { "template": "{\"small\": \"{{ input.repo }}\"}", "json": true } }
    ]})
}

#[test]
fn a_workflow_using_every_step_type_is_valid() {
    assert_eq!(validate(&definition(review_workflow())), Ok(()));
}

#[test]
fn definitions_round_trip_through_json() {
    let parsed = definition(review_workflow());
    let again: WorkflowDefinition =
        serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
    assert_eq!(parsed, again);
}

#[test]
fn an_empty_workflow_is_refused() {
    let found = problems(json!({ "steps": [] }));
    assert_eq!(
        found,
        vec![Problem {
            step: None,
            field: "steps".into(),
            message: "A workflow needs at least one step.".into()
        }]
    );
}

#[test]
fn ids_must_be_well_formed_and_unique() {
    let found = problems(json!({ "steps": [
        { "id": "a", "type": "template", "config": { "template": "x" }, "next": [{ "to": "a2" }] },
        { "id": "a2", "type": "template", "config": { "template": "x" }, "next": [{ "to": "Bad Id" }] },
        { "id": "Bad Id", "type": "template", "config": { "template": "x" } },
        { "id": "a2", "type": "template", "config": { "template": "x" } }
    ]}));
    assert_problem(&found, "Bad Id", "id", "lowercase");
    assert!(
        found
            .iter()
            .any(|p| p.step.as_deref() == Some("a2") && p.message.contains("already has the id")),
        "{found:#?}"
    );
}

#[test]
fn edges_must_point_at_existing_other_steps() {
    let found = problems(json!({ "steps": [
        { "id": "a", "type": "template", "config": { "template": "x" }, "next": [{ "to": "ghost" }, { "to": "a" }] }
    ]}));
    assert_problem(&found, "a", "next[0].to", "No step has the id \"ghost\"");
    assert_problem(&found, "a", "next[1].to", "cannot lead to itself");
}

#[test]
fn branches_belong_exactly_to_condition_edges() {
    let found = problems(json!({ "steps": [
        { "id": "check", "type": "condition", "config": { "expression": "input.ok" },
          "next": [{ "to": "yes", "branch": "true" }, { "to": "no" }] },
        { "id": "yes", "type": "template", "config": { "template": "x" }, "next": [{ "to": "no", "branch": "true" }] },
        { "id": "no", "type": "template", "config": { "template": "x" } }
    ]}));
    assert_problem(&found, "check", "next[1].branch", "need a branch");
    assert_problem(
        &found,
        "yes",
        "next[0].branch",
        "Only edges out of a condition",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn cycles_are_refused_and_only_their_members_are_named() {
    let found = problems(json!({ "steps": [
        { "id": "start", "type": "template", "config": { "template": "x" }, "next": [{ "to": "a" }] },
        { "id": "a", "type": "template", "config": { "template": "x" }, "next": [{ "to": "b" }] },
        { "id": "b", "type": "template", "config": { "template": "x" }, "next": [{ "to": "a" }, { "to": "after" }] },
        { "id": "after", "type": "template", "config": { "template": "x" } }
    ]}));
    assert_problem(&found, "a", "next", "cycle");
    assert_problem(&found, "b", "next", "cycle");
    assert!(
        !found
            .iter()
            .any(|p| p.step.as_deref() == Some("after") || p.step.as_deref() == Some("start")),
        "{found:#?}"
    );
}

#[test]
fn every_step_must_be_reachable_from_the_first() {
    let found = problems(json!({ "steps": [
        { "id": "start", "type": "template", "config": { "template": "x" }, "next": [{ "to": "second" }] },
        { "id": "second", "type": "template", "config": { "template": "x" } },
        { "id": "island", "type": "template", "config": { "template": "x" } }
    ]}));
    assert_problem(
        &found,
        "island",
        "id",
        "No path leads here from the first step, \"start\"",
    );
    assert_eq!(found.len(), 1);
}

#[test]
fn configs_must_match_their_type_schema() {
    let found = problems(json!({ "steps": [
        { "id": "t", "type": "template", "config": {}, "next": [{ "to": "h" }] },
        { "id": "h", "type": "http", "config": { "method": "FETCH", "url": "", "extra": 1 }, "next": [{ "to": "h2" }] },
        { "id": "h2", "type": "http", "config": { "method": "FETCH", "url": " " }, "next": [{ "to": "s" }] },
        { "id": "s", "type": "script", "config": { "code": "  ", "memory_limit_mb": 4096 }, "next": [{ "to": "m" }] },
        { "id": "m", "type": "map", "config": { "items": "input.list", "concurrency": 0,
            "step": { "type": "map", "config": {} } }, "next": [{ "to": "l" }] },
        { "id": "l", "type": "llm", "config": { "model": "", "prompt": "hi", "temperature": 3.5, "max_tokens": 0 } }
    ]}));
    assert_problem(&found, "t", "config", "missing field `template`");
    assert_problem(&found, "h", "config", "unknown field `extra`");
    assert_problem(&found, "h2", "config.method", "Use one of GET");
    assert_problem(&found, "h2", "config.url", "Enter the URL");
    assert_problem(&found, "s", "config.code", "Enter the script");
    assert_problem(
        &found,
        "s",
        "config.memory_limit_mb",
        "at most 64 MB (AURA_SCRIPT_MEMORY_MB)",
    );
    assert_problem(&found, "m", "config.concurrency", "1 to 64");
    assert_problem(
        &found,
        "m",
        "config.step.type",
        "single llm, script, http, template or analysis",
    );
    assert_problem(&found, "l", "config.model", "Enter the model");
    assert_problem(&found, "l", "config.temperature", "0 to 2");
    assert_problem(&found, "l", "config.max_tokens", "at least one token");
}

#[test]
fn an_approval_applies_only_an_earlier_steps_changes() {
    let found = problems(json!({ "steps": [
        { "id": "first", "type": "approval", "config": { "message": "ok", "apply": "later" }, "next": [{ "to": "later" }] },
        { "id": "later", "type": "approval", "config": { "message": "ok", "apply": "first" } }
    ]}));
    assert_problem(
        &found,
        "first",
        "config.apply",
        "`later` is not a step before this one",
    );
    assert!(
        !found.iter().any(|p| p.step.as_deref() == Some("later")),
        "{found:?}"
    );
}

#[test]
fn analysis_steps_name_a_project_or_text_in_a_known_language() {
    let found = problems(json!({ "steps": [
        { "id": "none", "type": "analysis", "config": {}, "next": [{ "to": "both" }] },
        { "id": "both", "type": "analysis", "config": { "project": "api", "text": "x", "language": "go" }, "next": [{ "to": "lang" }] },
        { "id": "lang", "type": "analysis", "config": { "text": "{{ steps.none.output }}", "language": "cobol" }, "next": [{ "to": "nolang" }] },
        { "id": "nolang", "type": "analysis", "config": { "text": "x", "paths": ["a.py"] }, "next": [{ "to": "globs" }] },
        { "id": "globs", "type": "analysis", "config": { "project": "api", "paths": ["src/**/*.py", "/etc/passwd", "../up"], "fail_on": "error" }, "next": [{ "to": "sev" }] },
        { "id": "sev", "type": "analysis", "config": { "project": "api", "fail_on": "critical" }, "next": [{ "to": "many" }] },
        { "id": "many", "type": "analysis", "config": { "project": "api", "paths": (0..101).map(|i| format!("f{i}.py")).collect::<Vec<_>>() } }
    ]}));
    assert_problem(&found, "none", "config.project", "Name the project");
    assert_problem(&found, "both", "config.text", "not both");
    assert_problem(
        &found,
        "lang",
        "config.language",
        "`cobol` is not a language",
    );
    assert_problem(
        &found,
        "nolang",
        "config.language",
        "Say the text's language",
    );
    assert_problem(&found, "nolang", "config.paths", "text has none");
    assert_problem(
        &found,
        "globs",
        "config.paths[1]",
        "relative to the project root",
    );
    assert_problem(
        &found,
        "globs",
        "config.paths[2]",
        "relative to the project root",
    );
    assert!(
        !found.iter().any(|p| p.field == "config.paths[0]"),
        "{found:?}"
    );
    assert_problem(&found, "sev", "config", "unknown variant `critical`");
    assert_problem(&found, "many", "config.paths", "at most 100 paths");
}

#[test]
fn retry_policies_and_timeouts_are_checked() {
    let found = problems(json!({ "steps": [
        { "id": "a", "type": "template", "config": { "template": "x" }, "timeout_ms": 0,
          "retry": { "max_attempts": 0, "backoff_coefficient": 0.5, "initial_interval_ms": 5000, "max_interval_ms": 10 } }
    ]}));
    assert_problem(&found, "a", "timeout_ms", "greater than zero");
    assert_problem(&found, "a", "retry.max_attempts", "1 to 100");
    assert_problem(&found, "a", "retry.backoff_coefficient", "at least 1");
    assert_problem(&found, "a", "retry.max_interval_ms", "not be below");
}

#[test]
fn templates_may_read_only_input_and_upstream_steps() {
    let found = problems(json!({ "steps": [
        { "id": "first", "type": "template", "config": { "template": "{{ steps.later.output }}" },
          "next": [{ "to": "left" }, { "to": "right" }] },
        { "id": "left", "type": "template", "config": { "template": "{{ steps.right.output }}" }, "next": [{ "to": "later" }] },
        { "id": "right", "type": "template", "config": { "template": "{{ steps.right.output }}" }, "next": [{ "to": "later" }] },
        { "id": "later", "type": "http",
          "config": { "method": "POST", "url": "{{ env.token }}", "body": "{{ steps.nowhere.output }}",
                      "headers": { "x-item": "{{ item }}", "authorization": "Bearer {{ secrets.TOKEN }}", "x-all": "{{ secrets }}" } } }
    ]}));
    assert_problem(
        &found,
        "first",
        "config.template",
        "steps.later does not run before this step",
    );
    assert_problem(
        &found,
        "left",
        "config.template",
        "steps.right does not run before this step",
    );
    assert_problem(
        &found,
        "right",
        "config.template",
        "cannot read its own output",
    );
    assert_problem(&found, "later", "config.url", "Unknown variable \"env\"");
    // The owner's secrets are readable by name, not as a whole.
    assert_problem(
        &found,
        "later",
        "config.headers.x-all",
        "Read a secret as secrets.<NAME>.",
    );
    assert!(
        !found
            .iter()
            .any(|p| p.field == "config.headers.authorization"),
        "{found:?}"
    );
    assert_problem(
        &found,
        "later",
        "config.body",
        "No step has the id \"nowhere\"",
    );
    assert_problem(
        &found,
        "later",
        "config.headers.x-item",
        "Unknown variable \"item\"",
    );
}

#[test]
fn template_and_expression_syntax_errors_are_reported_with_the_field() {
    let found = problems(json!({ "steps": [
        { "id": "a", "type": "template", "config": { "template": "{{ input.x " }, "next": [{ "to": "b" }] },
        { "id": "b", "type": "condition", "config": { "expression": "input.x >" },
          "next": [{ "to": "c", "branch": "true" }] },
        { "id": "c", "type": "condition", "config": { "expression": " " } }
    ]}));
    assert_problem(&found, "a", "config.template", "Template error");
    assert_problem(&found, "b", "config.expression", "Expression error");
    assert_problem(&found, "c", "config.expression", "Enter an expression");
}

#[test]
fn unknown_step_types_and_fields_are_rejected_when_parsing() {
    let err = serde_json::from_value::<WorkflowDefinition>(
        json!({ "steps": [{ "id": "a", "type": "teleport" }] }),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `teleport`"),
        "{err}"
    );
    let err = serde_json::from_value::<WorkflowDefinition>(
        json!({ "steps": [{ "id": "a", "type": "template", "colour": 1 }] }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
}

#[test]
fn a_step_may_lower_the_operator_ceilings_but_never_raise_them() {
    let limits = StepLimits {
        max_timeout: std::time::Duration::from_secs(60),
        script_memory_mb: 32,
        http_max_response_bytes: 1024 * 1024,
        map_max_items: 500,
        template_fuel: 10_000,
        ..StepLimits::default()
    };
    let asking_for_more = definition(json!({ "steps": [
        { "id": "t", "type": "template", "config": { "template": "x", "fuel": 20000 }, "timeout_ms": 61000, "next": [{ "to": "s" }] },
        { "id": "s", "type": "script", "config": { "code": "return 1", "memory_limit_mb": 33 }, "next": [{ "to": "h" }] },
        { "id": "h", "type": "http", "config": { "method": "GET", "url": "https://example.com", "max_response_bytes": 1048577 }, "next": [{ "to": "c" }] },
        { "id": "c", "type": "condition", "config": { "expression": "true", "fuel": 10001 }, "next": [{ "to": "m", "branch": "true" }] },
        { "id": "m", "type": "map", "config": { "items": "input.xs", "max_items": 501,
            "step": { "type": "template", "config": { "template": "{{ item }}" } } } }
    ]}));
    let found = validate_with(&asking_for_more, &limits).expect_err("refused");
    assert_problem(
        &found,
        "t",
        "timeout_ms",
        "at most 60000 ms (AURA_MAX_STEP_TIMEOUT_SECS)",
    );
    assert_problem(
        &found,
        "t",
        "config.fuel",
        "at most 10000 instructions (AURA_TEMPLATE_FUEL)",
    );
    assert_problem(
        &found,
        "s",
        "config.memory_limit_mb",
        "at most 32 MB (AURA_SCRIPT_MEMORY_MB)",
    );
    assert_problem(
        &found,
        "h",
        "config.max_response_bytes",
        "(AURA_HTTP_MAX_RESPONSE_KB)",
    );
    assert_problem(&found, "c", "config.fuel", "AURA_TEMPLATE_FUEL");
    assert_problem(
        &found,
        "m",
        "config.max_items",
        "at most 500 items (AURA_MAP_MAX_ITEMS)",
    );
    assert_eq!(found.len(), 6, "{found:#?}");
    let lowered = definition(json!({ "steps": [
        { "id": "t", "type": "template", "config": { "template": "x", "fuel": 10000 }, "timeout_ms": 60000, "next": [{ "to": "s" }] },
        { "id": "s", "type": "script", "config": { "code": "return 1", "memory_limit_mb": 8 } }
    ]}));
    assert_eq!(validate_with(&lowered, &limits), Ok(()));
}
