//! mail-parser on bytes from outside, with its panics contained. Fuzzing (`server/fuzz`,
//! `mime_input`) found crafted multipart input that trips a debug assertion in mail-parser 0.11
//! ("Invalid part ID, could not find multipart"; a release build goes on past it). Any panic in
//! the parser is treated as a message that does not parse, so a sender can never end the SMTP
//! session's task or the queue worker with one.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Message, MessageParser};

/// The whole message, or `None` if it does not parse.
pub fn message(raw: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::default().parse(raw)))
        .ok()
        .flatten()
}

/// The header only, or `None` if it does not parse.
pub fn headers(raw: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default().parse_headers(raw)
    }))
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    /// The input the fuzzer found (`server/fuzz/artifacts`, kept as a regression case): refused,
    /// not a panic.
    #[test]
    fn a_message_that_made_mail_parser_panic_does_not_parse() {
        let raw = include_bytes!("../../tests/api/mail/fuzz-mime-panic.eml");
        assert!(super::message(raw).is_none());
        let _ = super::headers(raw);
    }
}
