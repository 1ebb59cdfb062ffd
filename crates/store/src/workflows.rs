//! Workflows and their immutable, numbered versions.
//!
//! Deleting a workflow hides it (`deleted_at`) rather than removing it, so runs that
//! recorded a version can still read the definition they ran.

use crate::{Store, StoreError, new_id, now_millis};
use serde::{Deserialize, Serialize};

/// A workflow with the definition of its current version (JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Workflow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub current_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub definition: String,
    /// Where the builder drew the current version's steps (JSON), if it has.
    pub layout: Option<String>,
}

/// One saved version of a workflow's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct WorkflowVersion {
    pub workflow_id: String,
    pub version: i64,
    pub definition: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub layout: Option<String>,
    /// The saver's display name, while their account exists.
    pub created_by_name: Option<String>,
}

/// What a save writes: name, description and the (already validated) definition.
#[derive(Debug, Clone)]
pub struct WorkflowDraft {
    pub name: String,
    pub description: String,
    pub definition: String,
    /// Step positions (JSON), already checked against the definition.
    pub layout: Option<String>,
}

const WORKFLOW_COLUMNS: &str = "w.id, w.owner_id, w.name, w.description, w.current_version, \
     w.created_at, w.updated_at, v.definition, v.layout";
const VERSION_COLUMNS: &str = "v.workflow_id, v.version, v.definition, v.created_by, \
     v.created_at, v.layout, u.display_name AS created_by_name";

impl Store {
    /// Creates a workflow and its version 1 in one transaction.
    pub async fn create_workflow(
        &self,
        owner_id: &str,
        draft: &WorkflowDraft,
    ) -> Result<Workflow, StoreError> {
        let id = new_id();
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO workflows (id, owner_id, name, description, current_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&draft.name)
        .bind(&draft.description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, &id, 1, draft, owner_id, now).await?;
        tx.commit().await?;
        self.find_workflow(owner_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Saves a new version. With `expected_version`, refuses (`Conflict`) when someone else
    /// saved in between, so no edit is silently overwritten.
    pub async fn update_workflow(
        &self,
        owner_id: &str,
        id: &str,
        draft: &WorkflowDraft,
        expected_version: Option<i64>,
    ) -> Result<Workflow, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE workflows SET current_version = current_version + 1, name = $1, description = $2, \
             updated_at = $3 \
             WHERE id = $4 AND owner_id = $5 AND deleted_at IS NULL AND ($6 < 0 OR current_version = $6) \
             RETURNING current_version",
        )
        .bind(&draft.name)
        .bind(&draft.description)
        .bind(now)
        .bind(id)
        .bind(owner_id)
        .bind(expected_version.unwrap_or(-1))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version,)) = bumped else {
            drop(tx);
            return match self.find_workflow(owner_id, id).await? {
                Some(_) => Err(StoreError::Conflict("workflows_current_version".into())),
                None => Err(StoreError::NotFound),
            };
        };
        insert_version(&mut tx, id, version, draft, owner_id, now).await?;
        tx.commit().await?;
        self.find_workflow(owner_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The owner's workflow with its current definition; `None` for other users' workflows,
    /// so their existence does not leak.
    pub async fn find_workflow(
        &self,
        owner_id: &str,
        id: &str,
    ) -> Result<Option<Workflow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows w \
             JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version \
             WHERE w.id = $1 AND w.owner_id = $2 AND w.deleted_at IS NULL"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The owner's workflows, most recently changed first.
    pub async fn list_workflows(&self, owner_id: &str) -> Result<Vec<Workflow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows w \
             JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version \
             WHERE w.owner_id = $1 AND w.deleted_at IS NULL ORDER BY w.updated_at DESC, w.id DESC"
        ))
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every version, newest first. Versions of deleted workflows stay readable.
    pub async fn list_workflow_versions(
        &self,
        owner_id: &str,
        id: &str,
    ) -> Result<Vec<WorkflowVersion>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} \
             FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id \
             LEFT JOIN users u ON u.id = v.created_by \
             WHERE v.workflow_id = $1 AND w.owner_id = $2 ORDER BY v.version DESC"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn find_workflow_version(
        &self,
        owner_id: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<WorkflowVersion>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} \
             FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id \
             LEFT JOIN users u ON u.id = v.created_by \
             WHERE v.workflow_id = $1 AND w.owner_id = $2 AND v.version = $3"
        ))
        .bind(id)
        .bind(owner_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Replaces where the builder drew `version`'s steps, without making a version: a run
    /// never reads positions. Refused (`Conflict`) unless `version` is still the current
    /// one, so a stale tab cannot move the steps of a version it has not seen.
    pub async fn set_workflow_layout(
        &self,
        owner_id: &str,
        id: &str,
        version: i64,
        layout: &str,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE workflow_versions SET layout = $1 WHERE workflow_id = $2 AND version = $3 \
             AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = $2 AND w.owner_id = $4 \
             AND w.deleted_at IS NULL AND w.current_version = $3)",
        )
        .bind(layout)
        .bind(id)
        .bind(version)
        .bind(owner_id)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return match self.find_workflow(owner_id, id).await? {
                Some(_) => Err(StoreError::Conflict("workflows_current_version".into())),
                None => Err(StoreError::NotFound),
            };
        }
        Ok(())
    }

    /// Hides the workflow; its versions remain for the runs that used them.
    pub async fn delete_workflow(&self, owner_id: &str, id: &str) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE workflows SET deleted_at = $1 WHERE id = $2 AND owner_id = $3 AND deleted_at IS NULL",
        )
        .bind(now_millis())
        .bind(id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    workflow_id: &str,
    version: i64,
    draft: &WorkflowDraft,
    created_by: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at, layout) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(workflow_id)
    .bind(version)
    .bind(&draft.definition)
    .bind(created_by)
    .bind(now)
    .bind(&draft.layout)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
