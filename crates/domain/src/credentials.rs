//! SEC-3: rules for usernames and passwords.

/// A username normalised to lower case: 3–64 ASCII letters, digits or `. _ -`,
/// starting with a letter or digit. None when it breaks the rule.
pub fn normalise_username(raw: &str) -> Option<String> {
    let u = raw.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && u.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    ok.then_some(u)
}

/// At least `min_length` characters and three of: lower case, upper case, digits, symbols
/// (GB/T 22239 level 3 asks for complex passwords).
pub fn password_is_strong(password: &str, min_length: usize) -> bool {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    password.chars().count() >= min_length && classes.iter().filter(|b| **b).count() >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_3_usernames_are_normalised_or_refused() {
        assert_eq!(normalise_username("  Psb.Admin "), Some("psb.admin".into()));
        assert_eq!(normalise_username("ab"), None);
        assert_eq!(normalise_username(".admin"), None);
        assert_eq!(normalise_username("管理员"), None);
        assert_eq!(normalise_username(&"a".repeat(65)), None);
    }

    #[test]
    fn sec_3_passwords_need_length_and_three_classes() {
        assert!(password_is_strong("Abcdefgh12", 10));
        assert!(password_is_strong("abcdefgh1!", 10));
        assert!(!password_is_strong("abcdefgh12", 10), "two classes");
        assert!(!password_is_strong("Abc12!", 10), "too short");
    }
}
