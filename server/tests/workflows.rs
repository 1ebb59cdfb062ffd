//! Workflows saved as immutable versions, on SQLite or PostgreSQL.

mod common;

use aura_engine::{WorkflowDefinition, WorkflowError, WorkflowInput, Workflows};
use common::*;
use serde_json::json;

async fn user(app: &TestApp, email: &str) -> aura_store::Principal {
    let user = aura_store::NewUser {
        email: email.into(),
        display_name: email.into(),
        password_hash: "unused".into(),
    };
    let audit = aura_store::NewAuditEvent {
        action: "auth.sign_up".into(),
        ..Default::default()
    };
    let user = app.store.create_user(&user, audit).await.unwrap();
    aura_store::Principal::session(user, aura_store::Origin::default())
}

fn input(name: &str, template: &str) -> WorkflowInput {
    let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": [
        { "id": "greet", "type": "template", "config": { "template": template } }
    ]}))
    .unwrap();
    WorkflowInput {
        name: name.into(),
        description: String::new(),
        definition,
        layout: None,
    }
}

#[tokio::test]
async fn every_save_is_a_new_version_and_old_versions_stay_readable() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let workflows = Workflows::new(app.store.clone());

    let created = workflows
        .create(&owner, &input("  Greeter ", "Hello {{ input.name }}"))
        .await
        .unwrap();
    assert_eq!(
        (created.name.as_str(), created.current_version),
        ("Greeter", 1)
    );

    let updated = workflows
        .update(
            &owner,
            &created.id,
            &input("Greeter", "Hi {{ input.name }}"),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(updated.current_version, 2);
    assert!(updated.definition.contains("Hi {{ input.name }}"));

    let (v1, definition) = workflows.version(&owner, &created.id, 1).await.unwrap();
    assert_eq!(v1.created_by.as_deref(), Some(owner.user_id()));
    assert_eq!(definition, input("x", "Hello {{ input.name }}").definition);
    let versions: Vec<i64> = workflows
        .versions(&owner, &created.id)
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec![2, 1]);

    // Deleting hides the workflow but keeps its versions for the runs that used them.
    workflows.delete(&owner, &created.id).await.unwrap();
    assert!(matches!(
        workflows.get(&owner, &created.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(workflows.list(&owner).await.unwrap().is_empty());
    assert!(workflows.version(&owner, &created.id, 2).await.is_ok());
    assert!(matches!(
        workflows.delete(&owner, &created.id).await,
        Err(WorkflowError::NotFound)
    ));
}

#[tokio::test]
async fn a_stale_save_is_refused_instead_of_overwriting() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let workflows = Workflows::new(app.store.clone());
    let created = workflows
        .create(&owner, &input("Greeter", "v1"))
        .await
        .unwrap();

    workflows
        .update(&owner, &created.id, &input("Greeter", "tab one"), Some(1))
        .await
        .unwrap();
    let stale = workflows
        .update(&owner, &created.id, &input("Greeter", "tab two"), Some(1))
        .await;
    assert!(matches!(stale, Err(WorkflowError::Conflict)), "{stale:?}");
    let current = workflows.get(&owner, &created.id).await.unwrap();
    assert_eq!(current.current_version, 2);
    assert!(
        current.definition.contains("tab one"),
        "nothing was overwritten"
    );
}

#[tokio::test]
async fn invalid_workflows_are_refused_with_every_problem_and_nothing_is_written() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let workflows = Workflows::new(app.store.clone());

    let mut bad = input(" ", "{{ steps.ghost.output }}");
    bad.description = "x".repeat(2_001);
    let Err(WorkflowError::Invalid(problems)) = workflows.create(&owner, &bad).await else {
        panic!("an invalid workflow must be refused");
    };
    let fields: Vec<(Option<&str>, &str)> = problems
        .iter()
        .map(|p| (p.step.as_deref(), p.field.as_str()))
        .collect();
    assert!(fields.contains(&(None, "name")), "{problems:#?}");
    assert!(fields.contains(&(None, "description")), "{problems:#?}");
    assert!(
        fields.contains(&(Some("greet"), "config.template")),
        "{problems:#?}"
    );
    assert!(workflows.list(&owner).await.unwrap().is_empty());

    let created = workflows
        .create(&owner, &input("Greeter", "ok"))
        .await
        .unwrap();
    let refused = workflows
        .update(&owner, &created.id, &input("Greeter", "{{ nope }}"), None)
        .await;
    assert!(matches!(refused, Err(WorkflowError::Invalid(_))));
    assert_eq!(
        workflows
            .get(&owner, &created.id)
            .await
            .unwrap()
            .current_version,
        1
    );
}

#[tokio::test]
async fn other_users_cannot_see_or_change_a_workflow() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let other = user(&app, "eve@example.com").await;
    let workflows = Workflows::new(app.store.clone());
    let created = workflows
        .create(&owner, &input("Private", "x"))
        .await
        .unwrap();

    assert!(matches!(
        workflows.get(&other, &created.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        workflows.versions(&other, &created.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        workflows.version(&other, &created.id, 1).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        workflows
            .update(&other, &created.id, &input("Mine", "y"), None)
            .await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        workflows.delete(&other, &created.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(workflows.list(&other).await.unwrap().is_empty());
    assert_eq!(workflows.list(&owner).await.unwrap().len(), 1);
}

#[tokio::test]
async fn moving_steps_rewrites_positions_without_a_new_version() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let workflows = Workflows::new(app.store.clone());
    let created = workflows
        .create(&owner, &input("Greeter", "Hello"))
        .await
        .unwrap();
    assert_eq!(created.layout, None);

    // Only the positions change: version 1 is rewritten in place. Unknown ids are dropped
    // and coordinates rounded to whole pixels.
    let mut moved = input("Greeter", "Hello");
    moved.layout = Some(
        [
            ("greet".to_owned(), [40.4, 80.6]),
            ("gone".to_owned(), [1.0, 1.0]),
        ]
        .into(),
    );
    let saved = workflows
        .update(&owner, &created.id, &moved, Some(1))
        .await
        .unwrap();
    assert_eq!(saved.current_version, 1);
    assert_eq!(
        aura_engine::read_layout(saved.layout.as_deref()),
        [("greet".to_owned(), [40.0, 81.0])].into()
    );

    // A changed definition with positions is a new version carrying them.
    let mut edited = input("Greeter", "Hi");
    edited.layout = Some([("greet".to_owned(), [0.0, 0.0])].into());
    let saved = workflows
        .update(&owner, &created.id, &edited, Some(1))
        .await
        .unwrap();
    assert_eq!(saved.current_version, 2);
    let (v1, _) = workflows.version(&owner, &created.id, 1).await.unwrap();
    assert_eq!(v1.layout.as_deref(), Some(r#"{"greet":[40.0,81.0]}"#));

    // A tab still on version 1 cannot move version 2's steps.
    assert!(matches!(
        workflows.update(&owner, &created.id, &moved, Some(1)).await,
        Err(WorkflowError::Conflict)
    ));

    // Positions must be finite and near the origin; the problem names the step.
    let mut far = input("Greeter", "Hi");
    far.layout = Some([("greet".to_owned(), [f64::MAX, 0.0])].into());
    match workflows.update(&owner, &created.id, &far, Some(2)).await {
        Err(WorkflowError::Invalid(problems)) => {
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].field, "layout");
            assert_eq!(problems[0].step.as_deref(), Some("greet"));
        }
        other => panic!("expected the layout to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn each_user_has_one_layout_in_progress_at_a_time() {
    let app = spawn_app().await;
    let owner = user(&app, "ada@example.com").await;
    let other = user(&app, "bob@example.com").await;
    let steps: Vec<_> = (0..200)
        .map(|i| json!({ "id": format!("s{i}"), "type": "template", "config": { "template": "x" },
                         "next": if i < 199 { json!([{ "to": format!("s{}", i + 1) }]) } else { json!([]) } }))
        .collect();
    let big: WorkflowDefinition = serde_json::from_value(json!({ "steps": steps })).unwrap();
    let small = input("x", "y").definition;

    // While Ada's first layout is queued or computing, her second is refused at once;
    // Bob's waits for the slot and is made.
    let (first, second, theirs) = tokio::join!(
        app.engine.tidy(&owner, big.clone()),
        app.engine.tidy(&owner, big.clone()),
        app.engine.tidy(&other, small.clone()),
    );
    assert_eq!(first.unwrap().len(), 200);
    let busy = second.unwrap_err();
    assert!(matches!(busy, WorkflowError::Busy(_)), "{busy:?}");
    assert_eq!(aura_app::error::AppError::from(busy).status(), 429);
    assert_eq!(theirs.unwrap().len(), 1);
    // Her turn is free again once the first is done.
    assert!(app.engine.tidy(&owner, small).await.is_ok());
}
