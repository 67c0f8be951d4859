//! The error every validated value returns: which field, a stable code, and a sentence.

/// A value that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The request field it is about, e.g. `background_color` or `to[2]`.
    pub field: String,
    /// A stable code, e.g. `too_long`, `invalid_color`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
}

impl ValidationError {
    /// A refusal of `field`.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Refuse text longer than `max` characters or holding control characters other than tab and
/// newline (which could forge mail headers or confuse a display).
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("{field} is {len} characters long; the limit is {max}."),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n' && c != '\r')
    {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            format!("{field} contains control characters."),
        ));
    }
    Ok(())
}

/// Refuse an empty or over-long name, or one with control characters.
pub fn check_name(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(
            field,
            "required",
            format!("{field} must not be empty."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            format!("{field} contains control characters."),
        ));
    }
    check_text(field, value, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text("f", &"å".repeat(10), 10).is_ok());
        assert_eq!(
            check_text("f", &"a".repeat(11), 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            check_text("f", "a\u{7}b", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert!(check_text("f", "line\nline", 10).is_ok());
    }

    #[test]
    fn names_must_not_be_blank_or_multiline() {
        assert_eq!(check_name("n", "  ", 10).unwrap_err().code, "required");
        assert_eq!(
            check_name("n", "a\nb", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert!(check_name("n", "Finance", 10).is_ok());
    }
}
