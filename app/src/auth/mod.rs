//! Accounts in the UI: the server functions for sign-up, sign-in, sign-out and profile
//! changes, and the pages that call them. The rules themselves live in `aura-auth`.

mod api;
mod pages;

pub use api::*;
pub use pages::{LoginPage, ProfilePage, SignupPage};

/// The page to land on after sign-in: `next` when it is a path on this site, else `/`.
/// Anything that could leave the site (`//evil.com`, `/\evil.com`, `https://…`) is refused.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\')
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(
            safe_next(Some("/runs?status=failed")),
            "/runs?status=failed"
        );
        assert_eq!(safe_next(Some("/")), "/");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "runs",
            "",
            "/a\nb",
            "/a\\b",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
