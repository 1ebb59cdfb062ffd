//! The editor language of a file, from its extension (Monaco's language ids). Shared by
//! the server (REST, server-rendered pages) and the browser (the editor).

/// Monaco's id for the language of `path`; `plaintext` when unknown.
pub fn language_of(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.eq_ignore_ascii_case("dockerfile") {
        return "dockerfile";
    }
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "plaintext";
    };
    match ext.to_ascii_lowercase().as_str() {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "mts" | "cts" | "tsx" => "typescript",
        "go" => "go",
        "json" => "json",
        "md" | "markdown" => "markdown",
        "toml" => "ini",
        "yaml" | "yml" => "yaml",
        "html" | "htm" => "html",
        "css" => "css",
        "sql" => "sql",
        "sh" | "bash" => "shell",
        "java" => "java",
        "c" | "h" => "c",
        "cpp" | "cc" | "hpp" => "cpp",
        "rb" => "ruby",
        "xml" | "svg" => "xml",
        _ => "plaintext",
    }
}

#[cfg(test)]
mod tests {
    use super::language_of;

    #[test]
    fn languages_come_from_extensions() {
        assert_eq!(language_of("src/main.rs"), "rust");
        assert_eq!(language_of("app/View.TSX"), "typescript");
        assert_eq!(language_of("Dockerfile"), "dockerfile");
        assert_eq!(language_of("README"), "plaintext");
        assert_eq!(language_of("a.b/c"), "plaintext");
    }
}
