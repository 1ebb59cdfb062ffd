//! A run owner's projects as steps see them: found by slug or id among the owner's own
//! projects (never anyone else's), their files read at their current revisions, and
//! paths chosen by globs. Reading only; what steps propose to change is a change set,
//! applied elsewhere.

use crate::step::StepFailure;
use aura_store::{FileContent, Project, Store};

/// Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    store: Store,
}

impl Workspace {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The owner's project named by `key` (slug or id).
    pub(crate) async fn project(&self, owner_id: &str, key: &str) -> Result<Project, StepFailure> {
        match self.store.find_project_by_key(owner_id, key.trim()).await {
            Ok(Some(project)) => Ok(project),
            Ok(None) => Err(StepFailure::fatal(format!(
                "There is no project `{}` among the run owner's projects.",
                key.trim()
            ))),
            Err(err) => Err(StepFailure::retryable(format!(
                "Could not read the project: {err}"
            ))),
        }
    }

    /// The project's files, sorted by path, with their current content.
    pub(crate) async fn files(&self, project_id: &str) -> Result<Vec<FileContent>, StepFailure> {
        self.store
            .read_all_files(project_id)
            .await
            .map_err(|err| StepFailure::retryable(format!("Could not read the files: {err}")))
    }
}

/// Which paths a step means: globs in the gitignore spirit. `*` and `?` stay within one
/// folder name, `**` spans folders, a pattern with no `/` matches in any folder (`*.rs`),
/// and a pattern with no wildcard names a file or everything in a folder (`src`).
#[derive(Debug, Clone)]
pub(crate) struct PathFilter {
    patterns: Vec<regex::Regex>,
}

impl PathFilter {
    /// No patterns: every path.
    pub(crate) fn new(patterns: &[String]) -> Result<Self, String> {
        let patterns = patterns
            .iter()
            .map(|p| glob_regex(p))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.is_match(path))
    }
}

/// The longest glob accepted, in characters.
const MAX_GLOB_CHARS: usize = 512;

fn glob_regex(glob: &str) -> Result<regex::Regex, String> {
    let glob = glob.trim().trim_start_matches("./");
    if glob.is_empty() {
        return Err("A path pattern is empty.".to_owned());
    }
    if glob.chars().count() > MAX_GLOB_CHARS {
        return Err(format!(
            "A path pattern can have at most {MAX_GLOB_CHARS} characters."
        ));
    }
    if glob.starts_with('/') || glob.split('/').any(|part| part == "..") {
        return Err(format!(
            "`{glob}` must be relative to the project root, without a leading / or `..`."
        ));
    }
    let glob = glob.trim_end_matches('/');
    let wild = glob.contains(['*', '?']);
    let mut out = String::from("^");
    if wild && !glob.contains('/') {
        out.push_str("(?:.*/)?");
    }
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    if !wild {
        out.push_str("(?:/.*)?");
    }
    out.push('$');
    regex::Regex::new(&out).map_err(|e| format!("`{glob}` is not a usable pattern: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str]) -> PathFilter {
        PathFilter::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn globs_choose_files_like_gitignore_patterns() {
        let rs = filter(&["*.rs"]);
        assert!(rs.matches("main.rs") && rs.matches("src/deep/lib.rs"));
        assert!(!rs.matches("main.rsx") && !rs.matches("main.py"));
        let src = filter(&["src/**/*.py"]);
        assert!(src.matches("src/a.py") && src.matches("src/x/y/a.py"));
        assert!(!src.matches("lib/a.py") && !src.matches("src/a.pyc"));
        let one = filter(&["src/*.py"]);
        assert!(one.matches("src/a.py") && !one.matches("src/x/a.py"));
        let folder = filter(&["src/"]);
        assert!(folder.matches("src/a.py") && folder.matches("src/x/b.go"));
        assert!(!folder.matches("srcs/a.py"));
        let exact = filter(&["app.py", "a?.go"]);
        assert!(exact.matches("app.py") && !exact.matches("lib/app.py"));
        assert!(exact.matches("ab.go") && !exact.matches("abc.go"));
        assert!(filter(&[]).matches("anything"));
        assert!(filter(&["a+b(c).py"]).matches("a+b(c).py"));
        for bad in ["", "/etc/passwd", "../x", "a/../../b"] {
            assert!(PathFilter::new(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
