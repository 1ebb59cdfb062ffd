//! Project paths: normalised to `a/b/c.rs` form and checked before anything is stored.

/// Longest path accepted, in characters.
pub const MAX_PATH_CHARS: usize = 512;
/// Longest single path component, in characters.
const MAX_COMPONENT_CHARS: usize = 255;

/// Normalises a user-supplied path: backslashes become slashes, repeated slashes and
/// `.` components go, a trailing slash is dropped. Refuses (with a sentence for the user)
/// empty paths, absolute paths, drive letters, `..`, control characters and over-long
/// paths or names.
pub fn normalize(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("Give a path, such as src/main.rs.".into());
    }
    let unified = trimmed.replace('\\', "/");
    if unified.starts_with('/') {
        return Err("Use a path relative to the project root, without a leading /.".into());
    }
    if unified.len() >= 2 && unified.as_bytes()[1] == b':' {
        return Err("Use a path relative to the project root, without a drive letter.".into());
    }
    let mut parts = Vec::new();
    for part in unified.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("Paths cannot contain `..`.".into()),
            _ => {}
        }
        if part.chars().any(char::is_control) {
            return Err("Paths cannot contain control characters.".into());
        }
        if part.chars().count() > MAX_COMPONENT_CHARS {
            return Err(format!(
                "Each name in a path can have at most {MAX_COMPONENT_CHARS} characters."
            ));
        }
        if part.trim() != part {
            return Err("Names in a path cannot start or end with a space.".into());
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Err("Give a path, such as src/main.rs.".into());
    }
    let path = parts.join("/");
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(format!("Use at most {MAX_PATH_CHARS} characters."));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize(" src//lib.rs ").unwrap(), "src/lib.rs");
        assert_eq!(normalize("./src/./a/").unwrap(), "src/a");
        assert_eq!(normalize("src\\win\\file.py").unwrap(), "src/win/file.py");
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "  ",
            "/etc/passwd",
            "\\\\server\\share",
            "C:/Windows",
            "../up.rs",
            "a/../../b",
            "a/\u{7}/b",
            "./",
            "a/ b",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(normalize(&"a".repeat(256)).is_err());
        assert!(normalize(&"abcd/".repeat(120)).is_err());
        assert!(normalize(&"abcd/".repeat(100)).is_ok());
    }
}
