//! The frame around every page: layout, navigation, toasts, forms and the 404 page.

mod bell;
pub mod form;
mod layout;
pub mod toast;

pub use layout::{AppLayout, NotFound, use_current_user};

/// Percent-encodes a string for use as one query-string value.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
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
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            super::encode_query_value("/runs?a=1&b=é"),
            "/runs%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}
