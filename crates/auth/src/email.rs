//! Email address validation and normalisation.
//!
//! Deliberately pragmatic rather than RFC 5322 complete: it accepts the addresses people
//! actually type and rejects what is certainly wrong. The whole address is lower-cased so
//! that `Ada@Example.com` and `ada@example.com` are one account.

/// Returns the normalised address, or a message saying what is wrong with it.
pub fn normalise_email(input: &str) -> Result<String, &'static str> {
    let email = input.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter your email address.");
    }
    if email.len() > 254 {
        return Err("Email addresses are at most 254 characters.");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("Enter an email address like name@example.com.");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err("Enter an email address like name@example.com.")
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_email;

    #[test]
    fn accepts_and_lowercases_ordinary_addresses() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(
            normalise_email("a.b+tag@mail.example.org").unwrap(),
            "a.b+tag@mail.example.org"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@example.com",
            "ada@exa mple.com",
            "a..b@example.com",
            ".a@example.com",
            "ada@-x.com",
            "ada@example..com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(normalise_email(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
