//! Where the page is: `/m/{message}` with the link token in the fragment (`#t=spl_…`), which never
//! reaches the server's logs or a `Referer`.

/// What the address bar names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The message id, if the path is `/m/{id}` with a well-formed id.
    pub message_id: Option<String>,
    /// The link token from the fragment, if present.
    pub token: Option<String>,
}

/// Read `/m/{id}` from `path` and `t=…` from `hash` (with or without the leading `#`).
pub fn parse(path: &str, hash: &str) -> Location {
    let message_id = path
        .strip_prefix("/m/")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|id| id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .map(str::to_owned);
    let token = hash
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("t="))
        .filter(|t| {
            !t.is_empty()
                && t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .map(str::to_owned);
    Location { message_id, token }
}

/// The refusal code a sign-in with an identity provider came back with (`?sign_in_error=…`), if
/// the query has a well-formed one.
pub fn sign_in_error(search: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("sign_in_error="))
        .filter(|c| {
            !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .map(str::to_owned)
}

/// Whether `path` is the sender's page, `/sent`.
pub fn is_sender_page(path: &str) -> bool {
    path.trim_end_matches('/') == "/sent"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_page_is_sent_with_or_without_a_slash() {
        assert!(is_sender_page("/sent"));
        assert!(is_sender_page("/sent/"));
        assert!(!is_sender_page("/sent/x"));
        assert!(!is_sender_page("/m/sent"));
        assert!(!is_sender_page("/"));
    }

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sign_in_error_is_read_from_the_query_only_when_well_formed() {
        assert_eq!(
            sign_in_error("?sign_in_error=identity_mismatch").as_deref(),
            Some("identity_mismatch")
        );
        assert_eq!(
            sign_in_error("?a=1&sign_in_error=sign_in_expired").as_deref(),
            Some("sign_in_expired")
        );
        assert_eq!(sign_in_error("?sign_in_error=<script>"), None);
        assert_eq!(sign_in_error(""), None);
    }

    #[test]
    fn a_notice_link_names_the_message_and_the_token() {
        let l = parse(&format!("/m/{ID}"), "#t=spl_AbC-9_x");
        assert_eq!(l.message_id.as_deref(), Some(ID));
        assert_eq!(l.token.as_deref(), Some("spl_AbC-9_x"));
        assert_eq!(
            parse(&format!("/m/{ID}/"), "t=a&x=1").token.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn anything_else_names_nothing() {
        for (path, hash) in [
            ("/", ""),
            ("/m/", "#t="),
            ("/m/0123", "#t=x"),
            (&format!("/m/{}", ID.to_uppercase()), ""),
            (&format!("/x/{ID}"), ""),
        ] {
            let l = parse(path, hash);
            assert_eq!(l.message_id, None, "{path}");
        }
        assert_eq!(parse("/", "#t=<script>").token, None);
        assert_eq!(parse("/", "#token=abc").token, None);
    }
}
