//! The corpus: real-looking files per language under `tests/corpus/`, each line that
//! should produce a finding annotated with `expect: <rule>[, <rule>]` in a comment. The
//! findings of every file must be exactly the annotated (line, rule) pairs: nothing
//! missed, nothing extra.

use aura_analysis::{Language, analyze};
use std::collections::BTreeSet;
use std::path::Path;

fn expected(source: &str) -> BTreeSet<(usize, String)> {
    let mut set = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        if let Some((_, rules)) = line.split_once("expect: ") {
            for rule in rules.split(',') {
                set.insert((i + 1, rule.trim().to_owned()));
            }
        }
    }
    set
}

#[test]
fn every_corpus_file_yields_exactly_its_annotated_findings() {
    // Read at run time: the build cache is shared between clones (CI uses a fresh one), so a
    // path compiled in could name another clone's directory, or one since deleted.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let root = Path::new(&manifest_dir).join("tests/corpus");
    let mut files = 0;
    let mut languages = BTreeSet::new();
    let mut failures = Vec::new();
    for dir in std::fs::read_dir(&root).expect("corpus directory") {
        for file in std::fs::read_dir(dir.expect("entry").path()).expect("language directory") {
            let path = file.expect("entry").path();
            let name = path.to_string_lossy().into_owned();
            let language = Language::from_path(&name).expect("a corpus file has a known extension");
            let source = std::fs::read_to_string(&path).expect("readable");
            let found: BTreeSet<(usize, String)> = analyze(language, &source)
                .findings
                .iter()
                .map(|f| (f.line, f.rule.to_owned()))
                .collect();
            let want = expected(&source);
            if found != want {
                failures.push(format!(
                    "{name}\n  missing: {:?}\n  unexpected: {:?}",
                    want.difference(&found).collect::<Vec<_>>(),
                    found.difference(&want).collect::<Vec<_>>()
                ));
            }
            files += 1;
            languages.insert(format!("{language:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        languages.len(),
        5,
        "every language has a corpus: {languages:?}"
    );
    assert!(files >= 10);
}
