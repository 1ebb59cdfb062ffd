//! Store behaviour that HTTP cannot observe directly, on SQLite or PostgreSQL.

mod common;

use common::*;

#[tokio::test]
async fn tests_run_on_the_backend_the_test_command_asked_for() {
    let app = spawn_app().await;
    let expected = if std::env::var("AURA_TEST_POSTGRES_URL").is_ok() {
        aura_store::Backend::Postgres
    } else {
        aura_store::Backend::Sqlite
    };
    assert_eq!(app.store.backend(), expected);
}

#[tokio::test]
async fn expired_sessions_are_neither_loaded_nor_kept() {
    let app = spawn_app().await;
    let store = &app.store;
    let now = aura_store::now_millis();
    assert!(
        store
            .insert_session("live", None, "{}", now + 60_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_session("stale", None, "{}", now - 1)
            .await
            .unwrap()
    );
    assert!(
        !store.insert_session("live", None, "{}", now).await.unwrap(),
        "ids are never overwritten on create"
    );

    assert!(store.load_session("live", now).await.unwrap().is_some());
    assert!(
        store.load_session("stale", now).await.unwrap().is_none(),
        "expired sessions do not load"
    );
    assert_eq!(store.delete_expired_sessions(now).await.unwrap(), 1);
    assert!(!store.session_exists("stale").await.unwrap());
    assert!(store.session_exists("live").await.unwrap());
}

#[tokio::test]
async fn audit_pages_follow_the_cursor_without_gaps_or_repeats() {
    let app = spawn_app().await;
    for i in 0..7 {
        let event = aura_store::NewAuditEvent {
            action: "auth.sign_in".into(),
            actor_email: Some(format!("user{i}@example.com")),
            ..Default::default()
        };
        app.store.record_audit(&event).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = app
            .store
            .list_audit_events(&aura_store::AuditFilter {
                before,
                limit: 3,
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.events.iter().map(|e| e.actor_email.clone().unwrap()));
        match page.next_before {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7)
        .rev()
        .map(|i| format!("user{i}@example.com"))
        .collect();
    assert_eq!(seen, expected);

    // `%` and `_` in the actor filter are literal characters, not wildcards.
    let page = app
        .store
        .list_audit_events(&aura_store::AuditFilter {
            actor: "user_".into(),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.events.is_empty());
}

#[tokio::test]
async fn concurrent_first_sign_ups_make_exactly_one_admin() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            let user = aura_store::NewUser {
                email: format!("racer{i}@example.com"),
                display_name: format!("Racer {i}"),
                password_hash: "not-a-real-hash".into(),
            };
            store
                .create_user(
                    &user,
                    aura_store::NewAuditEvent {
                        action: "auth.sign_up".into(),
                        ..Default::default()
                    },
                )
                .await
        }));
    }
    let mut admins = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().role == aura_store::Role::Admin {
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn an_agent_transcript_is_appended_once_per_entry_and_goes_with_its_run() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let (run, _) = app
        .run_once(
            &c,
            serde_json::json!([{ "id": "a", "type": "template", "config": { "template": "x" } }]),
            serde_json::json!({}),
        )
        .await;
    let store = &app.store;
    assert!(
        store
            .append_agent_turn(&run, "a", 1, "model", "{\"text\":\"hi\"}")
            .await
            .unwrap()
    );
    assert!(
        store
            .append_agent_turn(&run, "a", 2, "tool_started", "{}")
            .await
            .unwrap()
    );
    // A second writer of entry 2 (a worker whose lease was taken over) is refused.
    assert!(
        !store
            .append_agent_turn(&run, "a", 2, "tool_started", "{\"other\":1}")
            .await
            .unwrap()
    );
    let turns = store.agent_turns(&run, "a").await.unwrap();
    assert_eq!(
        turns
            .iter()
            .map(|t| (t.seq, t.kind.as_str(), t.body.as_str()))
            .collect::<Vec<_>>(),
        [(1, "model", "{\"text\":\"hi\"}"), (2, "tool_started", "{}")]
    );
    assert!(store.agent_turns(&run, "b").await.unwrap().is_empty());
    // The retention job's delete of the run takes the transcript with it.
    app.execute_sql("UPDATE runs SET finished_at = 1").await;
    store.delete_runs_finished_before(2).await.unwrap();
    assert!(store.agent_turns(&run, "a").await.unwrap().is_empty());
}
