//! What the page offers, by the message's rights. The server refuses anything the rights do not
//! allow anyway; the page simply does not show it.

use sealpost_api::Right;

/// The actions the rights allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    pub reply: bool,
    pub reply_all: bool,
    pub forward: bool,
    pub print: bool,
    pub copy: bool,
    pub download: bool,
}

impl Allowed {
    /// From the rights the server sent (see [`Right`]); unknown names are ignored.
    pub fn from_rights<S: AsRef<str>>(rights: &[S]) -> Self {
        let has = |right: Right| {
            rights
                .iter()
                .any(|r| Right::parse(r.as_ref()) == Some(right))
        };
        Allowed {
            reply: has(Right::Reply),
            reply_all: has(Right::ReplyAll),
            forward: has(Right::Forward),
            print: has(Right::Print),
            copy: has(Right::Copy),
            download: has(Right::Download),
        }
    }

    /// Whether the sender restricted the message (Do Not Forward and the like): the page says so.
    pub fn restricted(&self) -> bool {
        !(self.forward && self.print && self.copy && self.download)
    }
}

/// How an attachment can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preview {
    /// In an `<img>`.
    Image,
    /// As text in a `<pre>`.
    Text,
    /// In a frame, by the browser's PDF viewer (which offers saving and printing, so only when the
    /// rights allow download).
    Pdf,
    /// Not in the page.
    None,
}

/// The MIME type without parameters, lower case.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Preview {
    /// The type to give the decrypted bytes for this preview: a known essence, never the sender's
    /// raw string.
    pub fn blob_type(self, content_type: &str) -> &'static str {
        match self {
            Preview::Image => IMAGES
                .iter()
                .find(|t| **t == essence(content_type))
                .copied()
                .unwrap_or("application/octet-stream"),
            Preview::Text => "text/plain;charset=utf-8",
            Preview::Pdf => "application/pdf",
            Preview::None => "application/octet-stream",
        }
    }
}

/// Image types every browser shows; SVG is left out (it can carry script and remote references).
const IMAGES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
];

/// How an attachment of `content_type` may be shown, given the rights.
pub fn preview(content_type: &str, allowed: &Allowed) -> Preview {
    let essence = essence(content_type);
    if IMAGES.contains(&essence.as_str()) {
        Preview::Image
    } else if matches!(
        essence.as_str(),
        "text/plain" | "text/csv" | "text/markdown" | "application/json"
    ) {
        Preview::Text
    } else if essence == "application/pdf" && allowed.download && allowed.print {
        Preview::Pdf
    } else {
        Preview::None
    }
}

/// The largest attachment shown as text (a bigger one is download-only).
pub const MAX_TEXT_PREVIEW: u64 = 2 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const ENCRYPT: &[&str] = &[
        "view",
        "reply",
        "reply_all",
        "forward",
        "print",
        "copy",
        "download",
    ];
    const DO_NOT_FORWARD: &[&str] = &["view", "reply", "reply_all"];

    #[test]
    fn encrypt_allows_everything_and_do_not_forward_only_answers() {
        let all = Allowed::from_rights(ENCRYPT);
        assert!(all.reply && all.reply_all && all.forward && all.print && all.copy && all.download);
        assert!(!all.restricted());
        let dnf = Allowed::from_rights(DO_NOT_FORWARD);
        assert!(dnf.reply && dnf.reply_all);
        assert!(!(dnf.forward || dnf.print || dnf.copy || dnf.download));
        assert!(dnf.restricted());
        assert_eq!(Allowed::from_rights(&["view", "bogus"]), Allowed::default());
    }

    #[test]
    fn previews_follow_type_and_rights() {
        let all = Allowed::from_rights(ENCRYPT);
        let dnf = Allowed::from_rights(DO_NOT_FORWARD);
        assert_eq!(preview("image/PNG", &dnf), Preview::Image);
        assert_eq!(preview("text/plain; charset=utf-8", &dnf), Preview::Text);
        assert_eq!(preview("application/pdf", &all), Preview::Pdf);
        assert_eq!(
            preview("application/pdf", &dnf),
            Preview::None,
            "the PDF viewer can save"
        );
        assert_eq!(preview("image/svg+xml", &all), Preview::None);
        assert_eq!(preview("text/html", &all), Preview::None);
        assert_eq!(preview("application/zip", &all), Preview::None);
        assert_eq!(Preview::Image.blob_type("IMAGE/png; x=é"), "image/png");
        assert_eq!(
            Preview::Pdf.blob_type("application/pdf; x=é"),
            "application/pdf"
        );
        assert_eq!(
            Preview::None.blob_type("text/html"),
            "application/octet-stream"
        );
    }
}
