//! What of a message's HTML body is kept. The browser parses the HTML (inertly, with
//! `DOMParser`); this policy decides per element and attribute; the result is shown in a sandboxed
//! frame where no script runs. Remote content is never fetched: the page would reveal to the sender
//! (or anyone) when and where the message was read.

/// What to do with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementAction {
    /// Keep it (its attributes are filtered).
    Keep,
    /// Drop it and everything in it.
    Drop,
    /// Drop the element but keep its children (unknown or layout-only wrappers).
    Unwrap,
}

const KEEP: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

const DROP: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "link",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "select",
    "option",
    "textarea",
    "noscript",
    "template",
    "svg",
    "math",
    "audio",
    "video",
    "source",
    "track",
    "canvas",
    "title",
    "head",
    "portal",
    "dialog",
    "slot",
    "picture",
    "map",
    "area",
    "param",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
];

/// The action for an element by its (lower-case) local name.
pub fn element(tag: &str) -> ElementAction {
    let tag = tag.to_ascii_lowercase();
    if KEEP.contains(&tag.as_str()) {
        ElementAction::Keep
    } else if DROP.contains(&tag.as_str()) {
        ElementAction::Drop
    } else {
        ElementAction::Unwrap
    }
}

/// Presentational attributes kept as they are.
const PLAIN_ATTRIBUTES: &[&str] = &[
    "align",
    "alt",
    "bgcolor",
    "border",
    "cellpadding",
    "cellspacing",
    "color",
    "cols",
    "colspan",
    "dir",
    "face",
    "headers",
    "height",
    "hspace",
    "lang",
    "nowrap",
    "rowspan",
    "scope",
    "size",
    "span",
    "start",
    "summary",
    "title",
    "type",
    "valign",
    "vspace",
    "width",
    "datetime",
    "open",
];

/// What to do with an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeAction {
    /// Keep it as it is.
    Keep,
    /// Remove it.
    Drop,
    /// A remote reference (`http:`/`https:` image and the like): removed, and counted so the page
    /// can say that something was blocked.
    Blocked,
    /// An inline image by `Content-ID` (`cid:…`): replace with the decrypted attachment.
    Cid(String),
    /// A link: keep the value, and open it outside the message (new tab, no referrer).
    Link,
}

fn scheme(value: &str) -> Option<String> {
    let cleaned: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let colon = cleaned.find(':')?;
    let candidate = &cleaned[..colon];
    let valid = !candidate.is_empty()
        && candidate.starts_with(|c: char| c.is_ascii_alphabetic())
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| candidate.to_ascii_lowercase())
}

/// Inline images that stay: raster `data:` URLs only.
fn is_inline_image(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    ["png", "jpeg", "jpg", "gif", "webp"]
        .iter()
        .any(|t| v.starts_with(&format!("data:image/{t};base64,")))
}

/// A `style` attribute is kept only if it cannot fetch anything or run anything.
pub fn style_ok(value: &str) -> bool {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    !(v.contains("url(")
        || v.contains("image(")
        || v.contains("image-set(")
        || v.contains("@import")
        || v.contains("expression(")
        || v.contains('\\')
        || v.contains("behavior:")
        || v.contains("-moz-binding")
        || v.contains("position:fixed"))
}

/// The action for attribute `name` (lower case) with `value` on element `tag`.
pub fn attribute(tag: &str, name: &str, value: &str) -> AttributeAction {
    let name = name.to_ascii_lowercase();
    match (tag, name.as_str()) {
        (_, n) if n.starts_with("on") => AttributeAction::Drop,
        ("a", "href") => match scheme(value).as_deref() {
            Some("http" | "https" | "mailto") => AttributeAction::Link,
            None if value.trim_start().starts_with('#') => AttributeAction::Keep,
            _ => AttributeAction::Drop,
        },
        ("img", "src") => match scheme(value).as_deref() {
            Some("cid") => {
                let id = value
                    .split_once(':')
                    .map_or("", |(_, id)| id)
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned();
                if id.is_empty() {
                    AttributeAction::Drop
                } else {
                    AttributeAction::Cid(id)
                }
            }
            Some("data") if is_inline_image(value) => AttributeAction::Keep,
            Some("http" | "https") | None if !value.trim().is_empty() => AttributeAction::Blocked,
            _ => AttributeAction::Drop,
        },
        (_, "background" | "srcset" | "poster" | "lowsrc" | "dynsrc" | "longdesc") => {
            if scheme(value).is_some_and(|s| s == "http" || s == "https") {
                AttributeAction::Blocked
            } else {
                AttributeAction::Drop
            }
        }
        (_, "style") if style_ok(value) => AttributeAction::Keep,
        (_, "style") => AttributeAction::Blocked,
        (_, n) if PLAIN_ATTRIBUTES.contains(&n) => AttributeAction::Keep,
        _ => AttributeAction::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_active_content_go_with_their_children_and_unknown_wrappers_unwrap() {
        for tag in [
            "script", "SCRIPT", "style", "iframe", "object", "embed", "form", "svg", "math",
            "base", "meta", "link", "template",
        ] {
            assert_eq!(element(tag), ElementAction::Drop, "{tag}");
        }
        for tag in ["p", "TABLE", "img", "a", "blockquote", "font", "center"] {
            assert_eq!(element(tag), ElementAction::Keep, "{tag}");
        }
        for tag in ["o:p", "x-custom", "html", "body", "marquee"] {
            assert_eq!(element(tag), ElementAction::Unwrap, "{tag}");
        }
    }

    #[test]
    fn event_handlers_and_script_urls_are_dropped() {
        assert_eq!(
            attribute("img", "onerror", "alert(1)"),
            AttributeAction::Drop
        );
        assert_eq!(attribute("body", "ONLOAD", "x"), AttributeAction::Drop);
        for href in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "java\tscript:x",
            "data:text/html,<script>",
            "vbscript:x",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                attribute("a", "href", href),
                AttributeAction::Drop,
                "{href}"
            );
        }
        assert_eq!(
            attribute("a", "href", "https://contoso.example/x"),
            AttributeAction::Link
        );
        assert_eq!(
            attribute("a", "href", "mailto:a@b.example"),
            AttributeAction::Link
        );
        assert_eq!(attribute("a", "href", "#section"), AttributeAction::Keep);
        assert_eq!(attribute("div", "id", "x"), AttributeAction::Drop);
        assert_eq!(attribute("div", "class", "x"), AttributeAction::Drop);
    }

    #[test]
    fn remote_content_is_blocked_and_inline_images_stay() {
        assert_eq!(
            attribute("img", "src", "https://tracker.example/p.gif"),
            AttributeAction::Blocked
        );
        assert_eq!(
            attribute("img", "src", "//tracker.example/p.gif"),
            AttributeAction::Blocked
        );
        assert_eq!(
            attribute("img", "src", "cid:logo@contoso"),
            AttributeAction::Cid("logo@contoso".into())
        );
        assert_eq!(
            attribute("img", "src", "cid:<logo>"),
            AttributeAction::Cid("logo".into())
        );
        assert_eq!(
            attribute("img", "src", "data:image/png;base64,iVBOR"),
            AttributeAction::Keep
        );
        assert_eq!(
            attribute("img", "src", "data:image/svg+xml;base64,PHN2Zz4="),
            AttributeAction::Drop
        );
        assert_eq!(
            attribute("td", "background", "https://x.example/bg.png"),
            AttributeAction::Blocked
        );
        assert_eq!(
            attribute("img", "srcset", "https://x.example/a.png 2x"),
            AttributeAction::Blocked
        );
        assert_eq!(
            attribute("p", "style", "color:red;font-weight:bold"),
            AttributeAction::Keep
        );
        for style in [
            "background:url(https://x.example/a)",
            "background: URL ( x )",
            "x:expression(alert(1))",
            "@import 'x'",
            "content:'\\75rl(x)'",
            "position: fixed; top:0",
        ] {
            assert_eq!(
                attribute("p", "style", style),
                AttributeAction::Blocked,
                "{style}"
            );
        }
    }
}
