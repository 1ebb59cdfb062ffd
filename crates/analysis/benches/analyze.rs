//! Analysis time for a 10,000-line file per language (target: at most 50 ms), and for a
//! 1,000-line file (a typical large source file).
//!
//!   cargo bench -p aura-analysis --bench analyze
//!
//! Prints a Markdown table of medians over 21 runs for docs/benchmarks.md.

use aura_analysis::{Language, analyze};
use std::time::Instant;

/// A realistic-looking unit of code per language, repeated to 10,000 lines with unique
/// names: functions with branches, loops, strings and comments.
fn unit(language: Language, n: usize) -> String {
    match language {
        Language::Rust => format!(
            "/// Sums the even values below the limit.\nfn sum_{n}(values: &[i64], limit: i64) -> i64 {{\n    let mut total = 0;\n    for v in values {{\n        if *v % 2 == 0 && *v < limit {{\n            total += v;\n        }} else if *v > limit {{\n            break;\n        }}\n    }}\n    let label = format!(\"sum {{}}\", total);\n    println!(\"{{label}}\");\n    total\n}}\n\n"
        ),
        Language::Python => format!(
            "def sum_{n}(values, limit):\n    \"\"\"Sums the even values below the limit.\"\"\"\n    total = 0\n    for v in values:\n        if v % 2 == 0 and v < limit:\n            total += v\n        elif v > limit:\n            break\n    label = f\"sum {{total}}\"\n    print(label)\n    return total\n\n\n"
        ),
        Language::JavaScript | Language::TypeScript => format!(
            "// Sums the even values below the limit.\nfunction sum{n}(values, limit) {{\n  let total = 0;\n  for (const v of values) {{\n    if (v % 2 === 0 && v < limit) {{\n      total += v;\n    }} else if (v > limit) {{\n      break;\n    }}\n  }}\n  const label = `sum ${{total}}`;\n  console.log(label);\n  return total;\n}}\n\n"
        ),
        Language::Go => format!(
            "// Sum{n} sums the even values below the limit.\nfunc Sum{n}(values []int, limit int) int {{\n\ttotal := 0\n\tfor _, v := range values {{\n\t\tif v%2 == 0 && v < limit {{\n\t\t\ttotal += v\n\t\t}} else if v > limit {{\n\t\t\tbreak\n\t\t}}\n\t}}\n\tlabel := fmt.Sprintf(\"sum %d\", total)\n\tfmt.Println(label)\n\treturn total\n}}\n\n"
        ),
    }
}

fn file(language: Language, lines: usize) -> String {
    let mut text = if language == Language::Go {
        "package bench\n\nimport \"fmt\"\n\n".to_owned()
    } else {
        String::new()
    };
    let mut n = 0;
    while text.lines().count() < lines {
        text.push_str(&unit(language, n));
        n += 1;
    }
    text.lines().take(lines).collect::<Vec<_>>().join("\n")
}

fn main() {
    println!("| Language | lines | median | findings | functions |");
    println!("| --- | --- | --- | --- | --- |");
    for language in [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Go,
    ] {
        for lines in [1_000, 10_000] {
            let source = file(language, lines);
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..21 {
                let started = Instant::now();
                let result = analyze(language, &source);
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                last = Some(result);
            }
            times.sort_by(f64::total_cmp);
            let result = last.expect("ran");
            println!(
                "| {language:?} | {} | {:.1} ms | {} | {} |",
                source.lines().count(),
                times[times.len() / 2],
                result.findings.len(),
                result.functions.len()
            );
        }
    }
}
