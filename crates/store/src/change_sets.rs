//! Change sets: the files a step (the coding agent) proposes to change or create, applied
//! to a project as new revisions all together or not at all.
//!
//! Each changed file names the revision it was based on. A file that moved on since (a
//! person saved it, another run changed it), was deleted, or appeared where the change set
//! creates one is a conflict: nothing is written, and the conflicts are returned for the
//! approver to see. Nothing is ever overwritten.

use crate::projects::{
    ENTRY_COLUMNS, ensure_folders, insert_file, new_revision, touch_project, usage,
};
use crate::{Entry, ProjectLimits, Store, StoreError, TreeRefusal, now_millis};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

/// One file of a change set: its new content, and the revision it was based on (none for
/// a file the change set creates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub base_revision: Option<i64>,
    pub content: String,
}

/// A change set to apply: whose project, by whom, with which revision note.
#[derive(Debug, Clone)]
pub struct ChangeSet<'a> {
    pub project_id: &'a str,
    pub files: &'a [FileChange],
    /// The revisions' note (who made the change: "Run …, step …").
    pub note: &'a str,
    pub author_id: &'a str,
    pub limits: ProjectLimits,
}

/// Why one file of a change set cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub path: String,
    pub reason: String,
}

/// Applies `set` in `tx`. `Ok(Err(conflicts))` when anything stands in the way; the
/// caller then drops the transaction, so nothing of it is written.
pub(crate) async fn apply(
    tx: &mut Transaction<'static, Any>,
    set: &ChangeSet<'_>,
) -> Result<Result<usize, Vec<Conflict>>, StoreError> {
    let now = now_millis();
    match touch_project(tx, set.project_id, now).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Ok(Err(vec![Conflict {
                path: String::new(),
                reason: "The project was deleted.".to_owned(),
            }]));
        }
        Err(err) => return Err(err),
    }
    let (entries_before, _) = usage(tx, set.project_id).await?;
    let mut conflicts = Vec::new();
    let mut known = std::collections::HashSet::new();
    for file in set.files {
        let entry: Option<Entry> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM project_entries WHERE project_id = $1 AND path = $2"
        ))
        .bind(set.project_id)
        .bind(&file.path)
        .fetch_optional(&mut **tx)
        .await?;
        let conflict = |reason: String| Conflict {
            path: file.path.clone(),
            reason,
        };
        match (entry, file.base_revision) {
            (Some(entry), _) if entry.is_folder() => {
                conflicts.push(conflict("It is a folder now.".to_owned()));
            }
            (Some(entry), Some(base)) if entry.current_revision != base => {
                conflicts.push(conflict(format!(
                    "It changed since it was read: revision {base} then, revision {} now.",
                    entry.current_revision
                )));
            }
            (Some(entry), Some(_)) => {
                if !new_revision(tx, &entry, &file.content, set.note, set.author_id, now).await? {
                    conflicts.push(conflict("It changed while this was applied.".to_owned()));
                }
            }
            (Some(_), None) => {
                conflicts.push(conflict(
                    "A file with this path was created since.".to_owned(),
                ));
            }
            (None, Some(_)) => {
                conflicts.push(conflict("It was deleted or moved since.".to_owned()));
            }
            (None, None) => {
                match ensure_folders(tx, set.project_id, &file.path, false, &mut known, now).await?
                {
                    Ok(()) => {
                        insert_file(
                            tx,
                            set.project_id,
                            &file.path,
                            &file.content,
                            set.note,
                            set.author_id,
                            now,
                        )
                        .await?;
                    }
                    Err(TreeRefusal::ParentIsFile(parent)) => conflicts.push(conflict(format!(
                        "`{parent}` is a file, so it cannot hold this one."
                    ))),
                    Err(_) => conflicts.push(conflict("The path cannot be created.".to_owned())),
                }
            }
        }
    }
    let (entries, bytes) = usage(tx, set.project_id).await?;
    if bytes > set.limits.max_project_bytes {
        conflicts.push(Conflict {
            path: String::new(),
            reason: format!(
                "The project would hold {bytes} bytes, more than its {} allowed.",
                set.limits.max_project_bytes
            ),
        });
    }
    if entries > set.limits.max_entries && entries > entries_before {
        conflicts.push(Conflict {
            path: String::new(),
            reason: format!(
                "The project would hold {entries} files and folders, more than its {} allowed.",
                set.limits.max_entries
            ),
        });
    }
    if conflicts.is_empty() {
        Ok(Ok(set.files.len()))
    } else {
        Ok(Err(conflicts))
    }
}

impl Store {
    /// What would stand in the way of applying `files` to the project now (for the
    /// approver to see before deciding); empty when it would apply cleanly. Reads only.
    pub async fn change_set_conflicts(
        &self,
        project_id: &str,
        files: &[FileChange],
    ) -> Result<Vec<Conflict>, StoreError> {
        let current: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT path, kind, current_revision FROM project_entries WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let by_path: std::collections::HashMap<&str, (&str, i64)> = current
            .iter()
            .map(|(path, kind, rev)| (path.as_str(), (kind.as_str(), *rev)))
            .collect();
        Ok(files
            .iter()
            .filter_map(|file| {
                let reason = match (by_path.get(file.path.as_str()), file.base_revision) {
                    (Some(("folder", _)), _) => "It is a folder now.".to_owned(),
                    (Some((_, now)), Some(base)) if *now != base => format!(
                        "It changed since it was read: revision {base} then, revision {now} now."
                    ),
                    (Some(_), None) => "A file with this path was created since.".to_owned(),
                    (None, Some(_)) => "It was deleted or moved since.".to_owned(),
                    _ => return None,
                };
                Some(Conflict {
                    path: file.path.clone(),
                    reason,
                })
            })
            .collect())
    }
}
