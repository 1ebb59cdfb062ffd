//! The workflows service: saving definitions as immutable versions, after validation.

use crate::definition::WorkflowDefinition;
use crate::limits::StepLimits;
use crate::validate::{Problem, validate_with};
use aura_store::{Principal, Store, StoreError, Workflow, WorkflowDraft, WorkflowVersion};
use aura_types::StepPositions;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// Every problem with the input, each tied to its step or field.
    #[error("the workflow is not valid")]
    Invalid(Vec<Problem>),
    /// Absent, deleted, or someone else's: deliberately indistinguishable.
    #[error("workflow not found")]
    NotFound,
    /// Someone saved a newer version since the caller loaded it.
    #[error("the workflow was changed by someone else")]
    Conflict,
    /// The caller already has one of these in progress; they may try again shortly.
    #[error("{0}")]
    Busy(String),
    /// The run is not in a state that allows this (cancelling a finished run, say).
    #[error("{0}")]
    InvalidState(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<StoreError> for WorkflowError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => WorkflowError::NotFound,
            StoreError::Conflict(c) if c == "workflows_current_version" => WorkflowError::Conflict,
            other => WorkflowError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// What the builder saves.
#[derive(Debug, Clone)]
pub struct WorkflowInput {
    pub name: String,
    pub description: String,
    pub definition: WorkflowDefinition,
    /// Where the builder drew the steps; positions of steps the definition lacks are
    /// dropped.
    pub layout: Option<StepPositions>,
}

const MAX_NAME: usize = 120;
const MAX_DESCRIPTION: usize = 2_000;

fn problem(field: &str, message: &str) -> Problem {
    Problem {
        step: None,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// Validates name, description and definition together and returns the row to store.
fn draft(input: &WorkflowInput, limits: &StepLimits) -> Result<WorkflowDraft, WorkflowError> {
    let mut problems = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        problems.push(problem("name", "Give the workflow a name."));
    } else if name.chars().count() > MAX_NAME {
        problems.push(problem("name", "Use at most 120 characters."));
    }
    if input.description.chars().count() > MAX_DESCRIPTION {
        problems.push(problem("description", "Use at most 2,000 characters."));
    }
    if let Err(found) = validate_with(&input.definition, limits) {
        problems.extend(found);
    }
    let layout = match &input.layout {
        Some(positions) => match stored_layout(&input.definition, positions) {
            Ok(text) => Some(text),
            Err(bad) => {
                problems.push(bad);
                None
            }
        },
        None => None,
    };
    if !problems.is_empty() {
        return Err(WorkflowError::Invalid(problems));
    }
    Ok(WorkflowDraft {
        name: name.to_owned(),
        description: input.description.trim().to_owned(),
        definition: serde_json::to_string(&input.definition).map_err(anyhow::Error::new)?,
        layout,
    })
}

/// Farthest a node may sit from the origin, in canvas pixels.
const MAX_COORDINATE: f64 = 1_000_000.0;

/// The positions of `definition`'s steps as stored text; other ids are dropped.
fn stored_layout(
    definition: &WorkflowDefinition,
    positions: &StepPositions,
) -> Result<String, Problem> {
    let mut kept = StepPositions::new();
    for step in &definition.steps {
        if let Some(&[x, y]) = positions.get(&step.id) {
            if !(x.is_finite() && y.is_finite())
                || x.abs() > MAX_COORDINATE
                || y.abs() > MAX_COORDINATE
            {
                return Err(Problem {
                    step: Some(step.id.clone()),
                    field: "layout".to_owned(),
                    message: "A step's position must be within a million pixels of the origin."
                        .to_owned(),
                });
            }
            kept.insert(step.id.clone(), [x.round(), y.round()]);
        }
    }
    Ok(serde_json::to_string(&kept).unwrap_or_default())
}

/// The stored positions of a version, or none when they are missing or unreadable.
pub fn read_layout(text: Option<&str>) -> StepPositions {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Workflows {
    store: Store,
    /// The ceilings saved definitions are checked against.
    limits: std::sync::Arc<StepLimits>,
}

impl Workflows {
    /// With the default ceilings.
    pub fn new(store: Store) -> Self {
        Self::with_limits(store, StepLimits::default())
    }

    pub fn with_limits(store: Store, limits: StepLimits) -> Self {
        Self {
            store,
            limits: std::sync::Arc::new(limits),
        }
    }

    pub async fn create(
        &self,
        owner: &Principal,
        input: &WorkflowInput,
    ) -> Result<Workflow, WorkflowError> {
        Ok(self
            .store
            .create_workflow(owner.user_id(), &draft(input, &self.limits)?)
            .await?)
    }

    /// Saves `input` as the next version. `expected_version` is the version the editor
    /// loaded; when another save got there first the result is `Conflict`. A save that
    /// changes only where the steps are drawn rewrites the current version's positions
    /// and makes no new version.
    pub async fn update(
        &self,
        owner: &Principal,
        id: &str,
        input: &WorkflowInput,
        expected_version: Option<i64>,
    ) -> Result<Workflow, WorkflowError> {
        let draft = draft(input, &self.limits)?;
        let current = self.get(owner, id).await?;
        let unchanged = current.name == draft.name
            && current.description == draft.description
            && serde_json::from_str::<WorkflowDefinition>(&current.definition)
                .is_ok_and(|d| d == input.definition);
        if unchanged && expected_version.is_none_or(|v| v == current.current_version) {
            if let Some(layout) = &draft.layout {
                self.store
                    .set_workflow_layout(owner.user_id(), id, current.current_version, layout)
                    .await?;
            }
            return self.get(owner, id).await;
        }
        Ok(self
            .store
            .update_workflow(owner.user_id(), id, &draft, expected_version)
            .await?)
    }

    /// Everything a save of `input` would refuse, without saving: the builder checks as
    /// the user edits.
    pub fn check(&self, input: &WorkflowInput) -> Result<(), WorkflowError> {
        draft(input, &self.limits).map(|_| ())
    }

    pub async fn get(&self, owner: &Principal, id: &str) -> Result<Workflow, WorkflowError> {
        self.store
            .find_workflow(owner.user_id(), id)
            .await?
            .ok_or(WorkflowError::NotFound)
    }

    pub async fn list(&self, owner: &Principal) -> Result<Vec<Workflow>, WorkflowError> {
        Ok(self.store.list_workflows(owner.user_id()).await?)
    }

    pub async fn versions(
        &self,
        owner: &Principal,
        id: &str,
    ) -> Result<Vec<WorkflowVersion>, WorkflowError> {
        let versions = self
            .store
            .list_workflow_versions(owner.user_id(), id)
            .await?;
        if versions.is_empty() {
            return Err(WorkflowError::NotFound);
        }
        Ok(versions)
    }

    /// One version's definition, parsed. Old versions of deleted workflows stay readable.
    pub async fn version(
        &self,
        owner: &Principal,
        id: &str,
        version: i64,
    ) -> Result<(WorkflowVersion, WorkflowDefinition), WorkflowError> {
        self.owned_version(owner.user_id(), id, version).await
    }

    /// A version of `owner_id`'s workflow, for the runner, which acts for a run's owner.
    pub(crate) async fn owned_version(
        &self,
        owner_id: &str,
        id: &str,
        version: i64,
    ) -> Result<(WorkflowVersion, WorkflowDefinition), WorkflowError> {
        let row = self
            .store
            .find_workflow_version(owner_id, id, version)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let definition = serde_json::from_str(&row.definition).map_err(anyhow::Error::new)?;
        Ok((row, definition))
    }

    pub async fn delete(&self, owner: &Principal, id: &str) -> Result<(), WorkflowError> {
        Ok(self.store.delete_workflow(owner.user_id(), id).await?)
    }
}
