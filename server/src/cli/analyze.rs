//! `aura analyze`: the server's code analysis (the same `aura-analysis` rules) on local
//! files, offline. Text, JSON or SARIF 2.1.0 out; exit code 1 when a finding reaches
//! `--fail-on`, so CI can gate on it and upload the SARIF to a code-scanning tool.

use super::CliError;
use super::output::{Style, print_json};
use super::projects::LEFT_OUT;
use aura_analysis::{Analysis, Language, Severity};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Files larger than this are left out (and said so): generated or vendored code.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  aura analyze src/                               findings as text
  aura analyze . --format sarif > aura.sarif      for GitHub code scanning and other SARIF viewers
  aura analyze app.py --fail-on warning           exit 1 on any warning or error

Languages: Rust, Python, JavaScript, TypeScript, Go (by extension). Directories are read
recursively, leaving out .git, target and node_modules.")]
pub struct Args {
    /// Files and directories to analyse.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with 1 when a finding has this severity or a higher one.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    /// Always exit 0 when the files could be read.
    Never,
}

impl FailOn {
    fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Info => true,
        }
    }
}

/// One analysed file.
#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    #[serde(flatten)]
    analysis: Analysis,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, CliError> {
    let format = if json { Format::Json } else { args.format };
    let mut files = Vec::new();
    for path in &args.paths {
        collect(path, true, &mut files)?;
    }
    if files.is_empty() {
        return Err(CliError::Usage(
            "no Rust, Python, JavaScript, TypeScript or Go files under the given paths".into(),
        ));
    }
    let mut reports = Vec::new();
    for (path, language) in files {
        let size = std::fs::metadata(&path)
            .map_err(CliError::io(format!("could not read {}", path.display())))?
            .len();
        if size > MAX_FILE_BYTES {
            eprintln!("note: {} left out: larger than 4 MiB", path.display());
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(CliError::io(format!("could not read {}", path.display())))?;
        let Ok(source) = String::from_utf8(bytes) else {
            eprintln!("note: {} left out: not UTF-8 text", path.display());
            continue;
        };
        reports.push(FileReport {
            path: display_path(&path),
            analysis: aura_analysis::analyze(language, &source),
        });
    }
    match format {
        Format::Text => print_text(&reports),
        Format::Json => print_json(&reports),
        Format::Sarif => print_json(&sarif(&reports)),
    }
    let failed = reports
        .iter()
        .flat_map(|r| &r.analysis.findings)
        .any(|f| args.fail_on.fails(f.severity));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Adds `path` (a file in a known language, or a directory read recursively).
/// A file named on the command line in an unknown language is an error; one found in a
/// directory is passed over.
fn collect(path: &Path, named: bool, out: &mut Vec<(PathBuf, Language)>) -> Result<(), CliError> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(CliError::io(format!("could not read {}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(CliError::io(format!("could not read {}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| LEFT_OUT.contains(&n.as_str())) {
                continue;
            }
            collect(&entry, false, out)?;
        }
        return Ok(());
    }
    let language = Language::from_path(&path.to_string_lossy());
    match language {
        Some(language) if meta.is_file() || named => out.push((path.to_path_buf(), language)),
        None if named => {
            return Err(CliError::Usage(format!(
                "{}: not a language aura analyzes (Rust, Python, JavaScript, TypeScript, Go)",
                path.display()
            )));
        }
        _ => {}
    }
    Ok(())
}

fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_owned()
}

fn print_text(reports: &[FileReport]) {
    let style = Style::stdout();
    let mut counts = [0_usize; 3];
    for report in reports {
        for f in &report.analysis.findings {
            counts[f.severity as usize] += 1;
            let severity = match f.severity {
                Severity::Error => style.red("error"),
                Severity::Warning => style.yellow("warning"),
                Severity::Info => style.dim("info"),
            };
            println!(
                "{}:{}:{}: {severity} {}: {}",
                report.path,
                f.line,
                f.column,
                style.dim(f.rule),
                f.message
            );
            if !f.hint.is_empty() {
                println!("    {}", style.dim(&format!("hint: {}", f.hint)));
            }
        }
    }
    println!(
        "{} files analysed: {} errors, {} warnings, {} info.",
        reports.len(),
        counts[Severity::Error as usize],
        counts[Severity::Warning as usize],
        counts[Severity::Info as usize]
    );
}

/// The reports as a SARIF 2.1.0 log: one run, the rules that fired with their hints,
/// and one result per finding. Relative paths resolve against `%SRCROOT%`, the working
/// directory; columns count Unicode code points, as the analysis does.
fn sarif(reports: &[FileReport]) -> Value {
    let mut rules: Vec<(&str, Severity, &str)> = Vec::new();
    let mut results = Vec::new();
    for report in reports {
        for f in &report.analysis.findings {
            let index = match rules.iter().position(|(id, ..)| *id == f.rule) {
                Some(index) => index,
                None => {
                    rules.push((f.rule, f.severity, f.hint));
                    rules.len() - 1
                }
            };
            let location = if Path::new(&report.path).is_absolute() {
                json!({ "uri": format!("file://{}", uri_path(&report.path)) })
            } else {
                json!({ "uri": uri_path(&report.path), "uriBaseId": "%SRCROOT%" })
            };
            results.push(json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }]
            }));
        }
    }
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(id, severity, hint)| {
            json!({
                "id": id,
                "name": rule_name(id),
                "shortDescription": { "text": format!("{}.", sentence(id)) },
                "help": { "text": if hint.is_empty() { "See the finding's message." } else { hint } },
                "defaultConfiguration": { "level": sarif_level(severity) },
            })
        })
        .collect();
    let root = std::env::current_dir()
        .map(|dir| format!("file://{}/", uri_path(&dir.to_string_lossy())))
        .unwrap_or_else(|_| "file:///".into());
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "aura",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `security.hardcoded-secret` → `SecurityHardcodedSecret`, SARIF's rule name style.
fn rule_name(id: &str) -> String {
    id.split(['.', '-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `security.hardcoded-secret` → `Security: hardcoded secret`.
fn sentence(id: &str) -> String {
    match id.split_once('.') {
        Some((family, rule)) => format!("{}: {}", rule_name(family), rule.replace('-', " ")),
        None => id.replace('-', " "),
    }
}

/// A path as a URI path: `/`-separated, with everything but unreserved characters
/// percent-encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::new();
    for byte in path.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_and_uris() {
        assert_eq!(
            rule_name("security.hardcoded-secret"),
            "SecurityHardcodedSecret"
        );
        assert_eq!(sentence("style.long-function"), "Style: long function");
        assert_eq!(uri_path("src/my file.py"), "src/my%20file.py");
    }

    #[test]
    fn fail_on_is_a_threshold() {
        assert!(FailOn::Error.fails(Severity::Error));
        assert!(!FailOn::Error.fails(Severity::Warning));
        assert!(FailOn::Warning.fails(Severity::Error));
        assert!(!FailOn::Warning.fails(Severity::Info));
        assert!(FailOn::Info.fails(Severity::Info));
        assert!(!FailOn::Never.fails(Severity::Error));
    }
}
