//! `aura projects`: list, push a local directory (a new project is imported as one zip;
//! an existing one gets each changed file saved as a new revision), and pull a project
//! into a directory.

use super::CliError;
use super::client::Client;
use super::output::{print_json, print_table, when};
use super::workflows::path_segment;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Your projects.
    #[command(after_help = "Example:\n  aura projects list")]
    List,
    /// Upload a directory: a new project, or new revisions of the files that changed.
    #[command(after_help = "\
Examples:
  aura projects push ./service                 the project named `service`, or a new one
  aura projects push . --project my-service    an existing project, by slug or id

Only text files are uploaded. `.git`, `target` and `node_modules` are left out, and so are
symbolic links. Files only on the server are listed, never deleted.")]
    Push {
        /// The directory.
        dir: PathBuf,
        /// The project to update, by id or slug (default: the one named like the
        /// directory, or a new one).
        #[arg(long, short)]
        project: Option<String>,
        /// The name of a new project (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Download a project's files into a directory.
    #[command(after_help = "Example:\n  aura projects pull my-service ./my-service")]
    Pull {
        /// The project's id or slug.
        project: String,
        /// Where to write (default: ./SLUG). Files there with the same paths are replaced.
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Project {
    id: String,
    name: String,
    slug: String,
    description: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<Project>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    path: String,
    kind: String,
    revision: i64,
}

#[derive(Debug, Deserialize)]
struct FileContent {
    content: String,
}

/// What a push did, for `--json` and the summary line.
#[derive(Debug, Default, Serialize)]
struct Pushed {
    project: Option<String>,
    created: Vec<String>,
    updated: Vec<String>,
    unchanged: usize,
    skipped: Vec<String>,
    only_on_server: Vec<String>,
}

/// Directories never uploaded: version control and build output.
pub(super) const LEFT_OUT: [&str; 3] = [".git", "target", "node_modules"];

pub async fn run(command: Command, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    match command {
        Command::List => {
            let all = all_projects(&client).await?;
            if json {
                print_json(&all);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|p| {
                        vec![
                            p.slug.clone(),
                            p.name.clone(),
                            p.id.clone(),
                            when(p.updated_at),
                        ]
                    })
                    .collect();
                print_table(
                    &["SLUG", "NAME", "ID", "UPDATED (UTC)"],
                    &rows,
                    "No projects yet. Upload a directory with `aura projects push DIR`.",
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Push { dir, project, name } => push(&client, &dir, project, name, json).await,
        Command::Pull { project, dir } => pull(&client, &project, dir, json).await,
    }
}

async fn all_projects(client: &Client) -> Result<Vec<Project>, CliError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        let page: Page = client
            .data(client.request(Method::GET, "/projects").query(&query))
            .await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

async fn find(client: &Client, id_or_slug: &str) -> Result<Option<Project>, CliError> {
    Ok(all_projects(client)
        .await?
        .into_iter()
        .find(|p| p.id == id_or_slug || p.slug == id_or_slug))
}

/// The text files under `dir`, by their `/`-separated path relative to it; files that
/// are not UTF-8 go to `skipped`.
fn local_files(dir: &Path, skipped: &mut Vec<String>) -> Result<Vec<(String, String)>, CliError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(CliError::io(format!(
            "could not read {}",
            current.display()
        )))?;
        for entry in entries {
            let entry = entry.map_err(CliError::io(format!(
                "could not read {}",
                current.display()
            )))?;
            let kind = entry.file_type().map_err(CliError::io(format!(
                "could not read {}",
                entry.path().display()
            )))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                if !LEFT_OUT.contains(&name.as_str()) {
                    pending.push(path);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = std::fs::read(&path)
                .map_err(CliError::io(format!("could not read {}", path.display())))?;
            match String::from_utf8(bytes) {
                Ok(text) if !text.contains('\0') => files.push((relative, text)),
                _ => skipped.push(relative),
            }
        }
    }
    files.sort();
    Ok(files)
}

async fn push(
    client: &Client,
    dir: &Path,
    project: Option<String>,
    name: Option<String>,
    json: bool,
) -> Result<ExitCode, CliError> {
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let dir_name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into());
    let name = name.unwrap_or(dir_name);
    let mut pushed = Pushed::default();
    let files = local_files(dir, &mut pushed.skipped)?;
    let target = match &project {
        Some(wanted) => Some(find(client, wanted).await?.ok_or_else(|| {
            CliError::Failed(format!(
                "no project of yours has the id or slug `{wanted}`; `aura projects list` shows them"
            ))
        })?),
        None => all_projects(client)
            .await?
            .into_iter()
            .find(|p| p.name == name),
    };
    match target {
        None => {
            let archive = zip_files(&files)?;
            #[derive(Deserialize)]
            struct Imported {
                project: Project,
                files: usize,
                skipped: Vec<String>,
            }
            let imported: Imported = client
                .data(
                    client
                        .request(Method::POST, "/projects/import")
                        .query(&[("name", name.as_str())])
                        .header("Content-Type", "application/zip")
                        .body(archive),
                )
                .await?;
            pushed.project = Some(imported.project.slug.clone());
            pushed.created = files.iter().map(|(path, _)| path.clone()).collect();
            pushed.skipped.extend(imported.skipped);
            if !json {
                println!(
                    "Created project {} ({}) with {} files.",
                    imported.project.name, imported.project.slug, imported.files
                );
            }
        }
        Some(project) => {
            pushed.project = Some(project.slug.clone());
            sync(client, &project, &files, &mut pushed).await?;
            if !json {
                println!(
                    "Pushed to {}: {} new, {} changed, {} unchanged.",
                    project.slug,
                    pushed.created.len(),
                    pushed.updated.len(),
                    pushed.unchanged
                );
                if !pushed.only_on_server.is_empty() {
                    println!(
                        "Only on the server (left as they are): {}",
                        pushed.only_on_server.join(", ")
                    );
                }
            }
        }
    }
    if json {
        print_json(&pushed);
    } else if !pushed.skipped.is_empty() {
        println!("Not text, left out: {}", pushed.skipped.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// Saves each local file that differs from the project's as a new revision on top of the
/// revision it was compared with, so a save in between is a conflict, not lost.
async fn sync(
    client: &Client,
    project: &Project,
    files: &[(String, String)],
    pushed: &mut Pushed,
) -> Result<(), CliError> {
    let tree: Vec<Entry> = client
        .get(&format!("/projects/{}/files", project.id))
        .await?;
    let mut remote: HashMap<&str, &Entry> = tree
        .iter()
        .filter(|e| e.kind == "file")
        .map(|e| (e.path.as_str(), e))
        .collect();
    for (path, content) in files {
        match remote.remove(path.as_str()) {
            None => {
                let _: serde_json::Value = client
                    .post(
                        &format!("/projects/{}/files", project.id),
                        &serde_json::json!({ "path": path, "kind": "file", "content": content }),
                    )
                    .await?;
                pushed.created.push(path.clone());
            }
            Some(entry) => {
                let saved: FileContent = client
                    .get(&format!("/projects/{}/files/{}", project.id, entry.id))
                    .await?;
                if &saved.content == content {
                    pushed.unchanged += 1;
                    continue;
                }
                let _: serde_json::Value = client
                    .put(
                        &format!("/projects/{}/files/{}", project.id, entry.id),
                        &serde_json::json!({ "content": content, "base_revision": entry.revision }),
                    )
                    .await?;
                pushed.updated.push(path.clone());
            }
        }
    }
    pushed.only_on_server = remote.keys().map(|p| p.to_string()).collect();
    pushed.only_on_server.sort();
    Ok(())
}

fn zip_files(files: &[(String, String)]) -> Result<Vec<u8>, CliError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let failed =
        |err: zip::result::ZipError| CliError::Failed(format!("could not zip the files: {err}"));
    for (path, content) in files {
        writer.start_file(path.as_str(), options).map_err(failed)?;
        writer
            .write_all(content.as_bytes())
            .map_err(CliError::io("could not zip the files"))?;
    }
    Ok(writer.finish().map_err(failed)?.into_inner())
}

async fn pull(
    client: &Client,
    id_or_slug: &str,
    dir: Option<PathBuf>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let project = find(client, id_or_slug).await?.ok_or_else(|| {
        CliError::Failed(format!(
            "no project of yours has the id or slug `{id_or_slug}`; `aura projects list` shows them"
        ))
    })?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&project.slug));
    let response = client
        .send(client.request(
            Method::GET,
            &format!("/projects/{}/export", path_segment(&project.id)),
        ))
        .await?;
    let bytes = response.bytes().await.map_err(|e| client.transport(e))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|err| CliError::Failed(format!("the server's archive is not a zip: {err}")))?;
    let mut written = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive
            .by_index(index)
            .map_err(|err| CliError::Failed(format!("could not read the archive: {err}")))?;
        // Only paths that stay inside `dir`.
        let Some(relative) = file.enclosed_name() else {
            continue;
        };
        if file.is_dir() {
            continue;
        }
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(CliError::io(format!(
                "could not create {}",
                parent.display()
            )))?;
        }
        let mut out = std::fs::File::create(&target).map_err(CliError::io(format!(
            "could not write {}",
            target.display()
        )))?;
        std::io::copy(&mut file, &mut out).map_err(CliError::io(format!(
            "could not write {}",
            target.display()
        )))?;
        written.push(relative.to_string_lossy().into_owned());
    }
    if json {
        print_json(&serde_json::json!({ "project": project, "dir": dir, "files": written }));
    } else {
        println!(
            "Pulled {} ({} files) into {}.",
            project.slug,
            written.len(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
