//! The files a coding agent works on: a project as it was when the agent started (each
//! file at the revision read), with the agent's own edits on top. Nothing here writes to
//! the project: the edits become a change set (each file with its base revision, new
//! content and a unified diff) that an approval applies, or not.
//!
//! Every tool answers with text for the model: what it asked for, or a precise reason it
//! could not be done ("the search text occurs 3 times; include more lines around it").
//! Answers are capped, so a large file or a broad search cannot flood the conversation.

use std::collections::BTreeMap;

/// A project file as the agent first saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseFile {
    pub path: String,
    pub revision: i64,
    pub content: String,
}

/// A file the agent changed or created, as proposed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ProposedFile {
    pub path: String,
    /// None for a file the agent created.
    pub base_revision: Option<i64>,
    pub content: String,
    /// Unified diff from the base (or from nothing) to `content`.
    pub diff: String,
}

/// Caps on what the tools read, find and write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorkbenchLimits {
    /// Longest answer a tool gives, in bytes.
    pub max_answer_bytes: usize,
    /// Largest file the agent may write, in bytes.
    pub max_file_bytes: usize,
    /// Most matches one search lists.
    pub max_matches: usize,
    /// Most bytes all files may hold together (the operator's project cap).
    pub max_total_bytes: usize,
}

impl Default for WorkbenchLimits {
    fn default() -> Self {
        Self {
            max_answer_bytes: 32 * 1024,
            max_file_bytes: 1024 * 1024,
            max_matches: 100,
            max_total_bytes: 20 * 1024 * 1024,
        }
    }
}

/// What a tool answers: text for the model, and whether it is an error.
pub(crate) type Answer = Result<String, String>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Workbench {
    base: BTreeMap<String, BaseFile>,
    /// Every file's current text: the base, edited.
    files: BTreeMap<String, String>,
    /// The bytes of `files` together.
    total_bytes: usize,
    limits: WorkbenchLimits,
}

impl Workbench {
    pub(crate) fn new(base: Vec<BaseFile>, limits: WorkbenchLimits) -> Self {
        let files = base
            .iter()
            .map(|f| (f.path.clone(), f.content.clone()))
            .collect();
        let base = base.into_iter().map(|f| (f.path.clone(), f)).collect();
        let mut bench = Self {
            base,
            files,
            total_bytes: 0,
            limits,
        };
        bench.total_bytes = bench.files.values().map(String::len).sum();
        bench
    }

    /// The files, one per line with their size, under `folder` when given.
    pub(crate) fn list_files(&self, folder: Option<&str>) -> Answer {
        let prefix = match folder.map(|f| f.trim().trim_matches('/')) {
            None | Some("") | Some(".") => String::new(),
            Some(folder) => format!("{}/", normalize(folder)?),
        };
        let lines: Vec<String> = self
            .files
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .map(|(path, text)| {
                let mark = match self.base.get(path) {
                    None => " (new)",
                    Some(base) if base.content != *text => " (edited)",
                    Some(_) => "",
                };
                format!("{path}  {} lines{mark}", text.lines().count())
            })
            .collect();
        if lines.is_empty() {
            return Ok(if prefix.is_empty() {
                "The project has no files.".to_owned()
            } else {
                format!("No files under {prefix}.")
            });
        }
        Ok(self.cap(lines.join("\n")))
    }

    /// Lines `start..=end` (1-based) of a file, numbered; the whole file without a range.
    pub(crate) fn read_file(&self, path: &str, start: Option<usize>, end: Option<usize>) -> Answer {
        let path = normalize(path)?;
        let text = self.files.get(&path).ok_or_else(|| no_such_file(&path))?;
        let lines: Vec<&str> = text.lines().collect();
        let total = lines.len();
        let first = start.unwrap_or(1).max(1);
        let last = end.unwrap_or(total).min(total);
        if total == 0 {
            return Ok(format!("{path} is empty."));
        }
        if first > total || first > last {
            return Err(format!(
                "{path} has {total} lines; ask for a range within 1 to {total}."
            ));
        }
        let mut out = format!("{path}, lines {first} to {last} of {total}:\n");
        for (i, line) in lines[first - 1..last].iter().enumerate() {
            out.push_str(&format!("{:>5} | {line}\n", first + i));
        }
        Ok(self.cap(out))
    }

    /// Lines matching the regular expression, as `path:line: text`, in files whose path
    /// matches `glob` when given.
    pub(crate) fn search(&self, pattern: &str, glob: Option<&str>) -> Answer {
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| format!("The pattern is not a valid regular expression: {e}"))?;
        let filter = crate::workspace::PathFilter::new(
            &glob.map(|g| vec![g.to_owned()]).unwrap_or_default(),
        )?;
        let mut found = Vec::new();
        let mut more = 0usize;
        for (path, text) in self.files.iter().filter(|(p, _)| filter.matches(p)) {
            for (i, line) in text.lines().enumerate() {
                if regex.is_match(line) {
                    if found.len() < self.limits.max_matches {
                        found.push(format!("{path}:{}: {}", i + 1, line.trim_end()));
                    } else {
                        more += 1;
                    }
                }
            }
        }
        if found.is_empty() {
            return Ok(format!("No line matches `{pattern}`."));
        }
        let mut out = found.join("\n");
        if more > 0 {
            out.push_str(&format!(
                "\n… and {more} more matches; narrow the pattern or the paths."
            ));
        }
        Ok(self.cap(out))
    }

    /// Replaces `search` with `replace` in a file; `search` must occur exactly once.
    pub(crate) fn edit_file(&mut self, path: &str, search: &str, replace: &str) -> Answer {
        let path = normalize(path)?;
        let text = self.files.get(&path).ok_or_else(|| no_such_file(&path))?;
        if search.is_empty() {
            return Err("The search text is empty; give the exact lines to replace.".to_owned());
        }
        let count = text.matches(search).count();
        let updated = match count {
            1 => text.replacen(search, replace, 1),
            0 => {
                let hint = closest_line(text, search)
                    .map(|(n, line)| format!(" The closest line is {n}: `{line}`."))
                    .unwrap_or_default();
                return Err(format!(
                    "The search text was not found in {path}; it must match the file exactly, \
                     whitespace included (read the file again).{hint}"
                ));
            }
            n => {
                return Err(format!(
                    "The search text occurs {n} times in {path}; include more of the lines \
                     around it so it occurs once."
                ));
            }
        };
        self.check_size(&path, &updated)?;
        let line = text[..text.find(search).unwrap_or(0)]
            .lines()
            .count()
            .max(1);
        self.put(path.clone(), updated);
        Ok(format!("Edited {path} at line {line}."))
    }

    /// Creates a file, or replaces one's whole content.
    pub(crate) fn write_file(&mut self, path: &str, content: &str) -> Answer {
        let path = normalize(path)?;
        if self
            .files
            .keys()
            .any(|p| p.starts_with(&format!("{path}/")))
        {
            return Err(format!("{path} is a folder."));
        }
        if let Some(parent) = ancestors(&path).find(|a| self.files.contains_key(*a)) {
            return Err(format!("{parent} is a file, so it cannot hold {path}."));
        }
        self.check_size(&path, content)?;
        let existed = self.put(path.clone(), content.to_owned());
        Ok(format!(
            "{} {path} ({} lines).",
            if existed { "Replaced" } else { "Created" },
            content.lines().count()
        ))
    }

    /// The current text of a file (for analysing it).
    pub(crate) fn text(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// Every file the agent changed or created, with its diff.
    pub(crate) fn changes(&self) -> Vec<ProposedFile> {
        self.files
            .iter()
            .filter_map(|(path, text)| {
                let base = self.base.get(path);
                if base.is_some_and(|b| b.content == *text) {
                    return None;
                }
                let before = base.map_or("", |b| b.content.as_str());
                Some(ProposedFile {
                    path: path.clone(),
                    base_revision: base.map(|b| b.revision),
                    content: text.clone(),
                    diff: unified_diff(path, before, text, base.is_none()),
                })
            })
            .collect()
    }

    fn check_size(&self, path: &str, content: &str) -> Result<(), String> {
        if content.len() > self.limits.max_file_bytes {
            return Err(format!(
                "{path} would be {} bytes, more than the {} a file may have.",
                content.len(),
                self.limits.max_file_bytes
            ));
        }
        let now = self.files.get(path).map_or(0, String::len);
        let total = self.total_bytes - now + content.len();
        if total > self.limits.max_total_bytes {
            return Err(format!(
                "The project would hold {total} bytes, more than the {} it may have.",
                self.limits.max_total_bytes
            ));
        }
        Ok(())
    }

    /// Sets a file's text (checked with `check_size` first); whether it existed.
    fn put(&mut self, path: String, text: String) -> bool {
        self.total_bytes += text.len();
        match self.files.insert(path, text) {
            Some(old) => {
                self.total_bytes -= old.len();
                true
            }
            None => false,
        }
    }

    /// Cuts an answer at the cap, on a line boundary, saying so.
    pub(crate) fn cap(&self, text: String) -> String {
        let max = self.limits.max_answer_bytes;
        if text.len() <= max {
            return text;
        }
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let end = text[..end].rfind('\n').unwrap_or(end);
        format!(
            "{}\n… (cut at {max} bytes; ask for less: a line range, a narrower pattern)",
            &text[..end]
        )
    }
}

fn normalize(path: &str) -> Result<String, String> {
    aura_projects::paths::normalize(path)
}

fn no_such_file(path: &str) -> String {
    format!("There is no file {path}; list_files shows what there is.")
}

/// The folders above `path`, outermost first.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The line of `text` most like the first line of `search` (for a failed edit's hint).
fn closest_line<'a>(text: &'a str, search: &str) -> Option<(usize, &'a str)> {
    let wanted = search.lines().find(|l| !l.trim().is_empty())?.trim();
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let score = similar::TextDiff::from_chars(line.trim(), wanted).ratio();
            (i + 1, line, score)
        })
        .filter(|(_, _, score)| *score >= 0.6)
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(n, line, _)| (n, line.trim()))
}

/// `--- a/path` / `+++ b/path` with three lines of context.
pub(crate) fn unified_diff(path: &str, before: &str, after: &str, created: bool) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let old = if created {
        "/dev/null".to_owned()
    } else {
        format!("a/{path}")
    };
    diff.unified_diff()
        .context_radius(3)
        .header(&old, &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench() -> Workbench {
        Workbench::new(
            vec![
                BaseFile {
                    path: "app.py".into(),
                    revision: 3,
                    content: "import os\n\ndef run(code):\n    return eval(code)\n".into(),
                },
                BaseFile {
                    path: "lib/util.py".into(),
                    revision: 1,
                    content: "x = 1\nx = 1\n".into(),
                },
            ],
            WorkbenchLimits::default(),
        )
    }

    #[test]
    fn reading_lists_numbered_lines_and_refuses_bad_ranges() {
        let b = bench();
        assert_eq!(
            b.read_file("app.py", Some(3), Some(4)).unwrap(),
            "app.py, lines 3 to 4 of 4:\n    3 | def run(code):\n    4 |     return eval(code)\n"
        );
        assert!(
            b.read_file("app.py", Some(9), None)
                .unwrap_err()
                .contains("has 4 lines")
        );
        assert!(
            b.read_file("nope.py", None, None)
                .unwrap_err()
                .contains("no file nope.py")
        );
        assert!(
            b.read_file("../etc/passwd", None, None)
                .unwrap_err()
                .contains("..")
        );
        assert_eq!(b.list_files(Some("lib")).unwrap(), "lib/util.py  2 lines");
    }

    #[test]
    fn edits_need_the_search_text_exactly_once_and_say_why_not() {
        let mut b = bench();
        let missing = b
            .edit_file("app.py", "return  eval(code)", "return 1")
            .unwrap_err();
        assert!(
            missing.contains("was not found in app.py")
                && missing.contains("closest line is 4: `return eval(code)`"),
            "{missing}"
        );
        let twice = b.edit_file("lib/util.py", "x = 1", "x = 2").unwrap_err();
        assert!(twice.contains("occurs 2 times"), "{twice}");
        assert_eq!(
            b.edit_file("app.py", "eval(code)", "int(code)").unwrap(),
            "Edited app.py at line 4."
        );
        assert_eq!(
            b.write_file("lib/safe.py", "SAFE = True\n").unwrap(),
            "Created lib/safe.py (1 lines)."
        );
        assert!(
            b.write_file("lib", "x")
                .unwrap_err()
                .contains("is a folder")
        );
        assert!(
            b.write_file("app.py/x.py", "x")
                .unwrap_err()
                .contains("app.py is a file")
        );
        assert!(
            b.list_files(None)
                .unwrap()
                .contains("app.py  4 lines (edited)")
        );
        let changes = b.changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, "app.py");
        assert_eq!(changes[0].base_revision, Some(3));
        assert!(
            changes[0].diff.contains("--- a/app.py\n+++ b/app.py\n")
                && changes[0]
                    .diff
                    .contains("-    return eval(code)\n+    return int(code)\n"),
            "{}",
            changes[0].diff
        );
        assert_eq!(changes[1].base_revision, None);
        assert!(
            changes[1]
                .diff
                .starts_with("--- /dev/null\n+++ b/lib/safe.py\n")
        );
    }

    #[test]
    fn searches_are_regular_expressions_capped_and_checked() {
        let b = Workbench::new(
            vec![BaseFile {
                path: "many.py".into(),
                revision: 1,
                content: "hit\n".repeat(150),
            }],
            WorkbenchLimits::default(),
        );
        let found = b.search("^hit$", Some("*.py")).unwrap();
        assert!(found.starts_with("many.py:1: hit\n"), "{found}");
        assert!(found.ends_with("… and 50 more matches; narrow the pattern or the paths."));
        assert!(
            b.search("(", None)
                .unwrap_err()
                .contains("not a valid regular expression")
        );
        assert_eq!(
            b.search("nothing", None).unwrap(),
            "No line matches `nothing`."
        );
        assert!(b.search("x", Some("/abs")).is_err());
    }

    #[test]
    fn answers_and_files_are_capped() {
        let limits = WorkbenchLimits {
            max_answer_bytes: 64,
            max_file_bytes: 10,
            max_matches: 100,
            max_total_bytes: 320,
        };
        let mut b = Workbench::new(
            vec![BaseFile {
                path: "long.txt".into(),
                revision: 1,
                content: "a line of text\n".repeat(20),
            }],
            limits,
        );
        let read = b.read_file("long.txt", None, None).unwrap();
        assert!(read.contains("(cut at 64 bytes"), "{read}");
        assert!(
            b.write_file("big.txt", "0123456789x")
                .unwrap_err()
                .contains("more than the 10 a file may have")
        );
        // The project's cap holds for all files together: long.txt has 300 bytes.
        assert!(b.write_file("a.txt", "0123456789").is_ok());
        assert!(b.write_file("b.txt", "0123456789").is_ok());
        let over = b.write_file("c.txt", "0123456789").unwrap_err();
        assert!(
            over.contains("would hold 330 bytes, more than the 320"),
            "{over}"
        );
        // Replacing a file counts its new size, not both.
        assert!(b.write_file("b.txt", "01234").is_ok());
        assert!(b.write_file("c.txt", "01234").is_ok());
    }
}
