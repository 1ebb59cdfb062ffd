//! Checking a delivery: HMAC-SHA256 signatures (GitHub's `sha256=<hex>` or bare hex),
//! signed timestamps within a tolerance, and static header tokens. Comparisons take time
//! that does not depend on where the inputs differ.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The header GitHub signs with, and the default.
pub const GITHUB_HEADER: &str = "x-hub-signature-256";

/// The lowercase hex SHA-256 of `text`: how tokens are stored.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `signature` (`sha256=<hex>` or `<hex>`) is the HMAC-SHA256 of `signed` under
/// `secret`.
pub fn hmac_matches(secret: &str, signed: &[&[u8]], signature: &str) -> bool {
    let hex_part = signature.trim();
    let hex_part = hex_part.strip_prefix("sha256=").unwrap_or(hex_part);
    let Ok(given) = hex::decode(hex_part) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    for part in signed {
        mac.update(part);
    }
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
/// The signature of `signed` under `secret`, as GitHub writes it.
pub fn sign(secret: &str, signed: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for part in signed {
        mac.update(part);
    }
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Equal strings, compared in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_style_signatures_verify() {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload
        // "Hello, World!".
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(hmac_matches(
            "It's a Secret to Everybody",
            &[b"Hello, World!"],
            signature
        ));
        assert_eq!(
            sign("It's a Secret to Everybody", &[b"Hello, World!"]),
            signature
        );
        assert!(hmac_matches(
            "It's a Secret to Everybody",
            &[b"Hello, World!"],
            signature.trim_start_matches("sha256=")
        ));
        assert!(!hmac_matches(
            "another secret",
            &[b"Hello, World!"],
            signature
        ));
        assert!(!hmac_matches(
            "It's a Secret to Everybody",
            &[b"Hello, World?"],
            signature
        ));
        assert!(!hmac_matches("s", &[b"x"], "sha256=not-hex"));
    }

    #[test]
    fn strings_compare_exactly() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
