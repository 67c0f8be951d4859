//! Branding templates (OME configuration): the texts, colour and logo of the notice and portal.
//!
//! Field names and limits follow `Set-OMEConfiguration`. Beyond OME, each text may carry
//! translations keyed by language tag; the portal picks one by the reader's language and falls back
//! to the default text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::admin::{BrandingTemplateView, LocalizedText};

use super::ValidationError;
use super::validation::{check_name, check_text};

/// The name of the template that always exists.
pub const DEFAULT_TEMPLATE: &str = "default";
/// Longest `identity`.
pub const MAX_IDENTITY_LEN: usize = 64;
/// Longest introduction, button, email and disclaimer text.
pub const MAX_TEXT_LEN: usize = 1024;
/// Longest portal text.
pub const MAX_PORTAL_TEXT_LEN: usize = 128;
/// Largest logo, decoded (OME recommends 40 KB; we hold to it so notices stay small).
pub const MAX_IMAGE_BYTES: usize = 40 * 1024;
/// Longest privacy statement URL.
pub const MAX_URL_LEN: usize = 2048;
/// Latest expiry, in days.
pub const MAX_EXPIRY_DAYS: u32 = 730;
/// Most translations per text.
pub const MAX_TRANSLATIONS: usize = 50;

/// The CSS named colours (CSS Color Module Level 4), which OME also accepts.
const CSS_COLOR_NAMES: &[&str] = &[
    "aliceblue",
    "antiquewhite",
    "aqua",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanchedalmond",
    "blue",
    "blueviolet",
    "brown",
    "burlywood",
    "cadetblue",
    "chartreuse",
    "chocolate",
    "coral",
    "cornflowerblue",
    "cornsilk",
    "crimson",
    "cyan",
    "darkblue",
    "darkcyan",
    "darkgoldenrod",
    "darkgray",
    "darkgreen",
    "darkgrey",
    "darkkhaki",
    "darkmagenta",
    "darkolivegreen",
    "darkorange",
    "darkorchid",
    "darkred",
    "darksalmon",
    "darkseagreen",
    "darkslateblue",
    "darkslategray",
    "darkslategrey",
    "darkturquoise",
    "darkviolet",
    "deeppink",
    "deepskyblue",
    "dimgray",
    "dimgrey",
    "dodgerblue",
    "firebrick",
    "floralwhite",
    "forestgreen",
    "fuchsia",
    "gainsboro",
    "ghostwhite",
    "gold",
    "goldenrod",
    "gray",
    "green",
    "greenyellow",
    "grey",
    "honeydew",
    "hotpink",
    "indianred",
    "indigo",
    "ivory",
    "khaki",
    "lavender",
    "lavenderblush",
    "lawngreen",
    "lemonchiffon",
    "lightblue",
    "lightcoral",
    "lightcyan",
    "lightgoldenrodyellow",
    "lightgray",
    "lightgreen",
    "lightgrey",
    "lightpink",
    "lightsalmon",
    "lightseagreen",
    "lightskyblue",
    "lightslategray",
    "lightslategrey",
    "lightsteelblue",
    "lightyellow",
    "lime",
    "limegreen",
    "linen",
    "magenta",
    "maroon",
    "mediumaquamarine",
    "mediumblue",
    "mediumorchid",
    "mediumpurple",
    "mediumseagreen",
    "mediumslateblue",
    "mediumspringgreen",
    "mediumturquoise",
    "mediumvioletred",
    "midnightblue",
    "mintcream",
    "mistyrose",
    "moccasin",
    "navajowhite",
    "navy",
    "oldlace",
    "olive",
    "olivedrab",
    "orange",
    "orangered",
    "orchid",
    "palegoldenrod",
    "palegreen",
    "paleturquoise",
    "palevioletred",
    "papayawhip",
    "peachpuff",
    "peru",
    "pink",
    "plum",
    "powderblue",
    "purple",
    "rebeccapurple",
    "red",
    "rosybrown",
    "royalblue",
    "saddlebrown",
    "salmon",
    "sandybrown",
    "seagreen",
    "seashell",
    "sienna",
    "silver",
    "skyblue",
    "slateblue",
    "slategray",
    "slategrey",
    "snow",
    "springgreen",
    "steelblue",
    "tan",
    "teal",
    "thistle",
    "tomato",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "whitesmoke",
    "yellow",
    "yellowgreen",
];

/// A logo's format, read from its first bytes (never from what the uploader claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

impl ImageFormat {
    /// Recognise PNG or JPEG by signature.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// A validated branding template. The wire form is kept as given (it is what is stored and shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandingTemplate {
    view: BrandingTemplateView,
    image: Option<(ImageFormat, Vec<u8>)>,
}

fn check_language_tag(field: &str, tag: &str) -> Result<(), ValidationError> {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok && tag.len() <= 35 {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "invalid_language_tag",
            format!("{tag:?} is not a language tag like sv or pt-BR."),
        ))
    }
}

fn check_localized(field: &str, text: &LocalizedText, max: usize) -> Result<(), ValidationError> {
    check_text(field, text.text(), max)?;
    if let LocalizedText::Translated { translations, .. } = text {
        if translations.len() > MAX_TRANSLATIONS {
            return Err(ValidationError::new(
                field,
                "too_many_translations",
                format!("{field} has more than {MAX_TRANSLATIONS} translations."),
            ));
        }
        for (tag, value) in translations {
            let f = format!("{field}.translations.{tag}");
            check_language_tag(&f, tag)?;
            check_text(&f, value, max)?;
        }
    }
    Ok(())
}

fn check_color(value: &str) -> Result<(), ValidationError> {
    let hex_ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    let name_ok = CSS_COLOR_NAMES.contains(&value.to_ascii_lowercase().as_str());
    if hex_ok || name_ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "background_color",
            "invalid_color",
            format!(
                "{value:?} is not a colour; use #RRGGBB (like #0a5fb4) or a CSS colour name (like navy)."
            ),
        ))
    }
}

fn check_url(value: &str) -> Result<(), ValidationError> {
    let bad = |why: &str| {
        ValidationError::new(
            "privacy_statement_url",
            "invalid_url",
            format!("The privacy statement URL {why}."),
        )
    };
    if value.len() > MAX_URL_LEN {
        return Err(bad("is too long"));
    }
    let parsed = url::Url::parse(value).map_err(|_| bad("is not a valid URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(bad("must start with https:// and name a host"));
    }
    Ok(())
}

fn decode_image(b64: &str) -> Result<(ImageFormat, Vec<u8>), ValidationError> {
    // A quick bound before decoding, so a huge string is refused without allocating for it.
    if b64.len() > MAX_IMAGE_BYTES / 3 * 4 + 8 {
        return Err(image_too_large());
    }
    let bytes = BASE64.decode(b64.trim()).map_err(|_| {
        ValidationError::new(
            "image_base64",
            "invalid_base64",
            "The image is not valid base64.",
        )
    })?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(image_too_large());
    }
    let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
        ValidationError::new(
            "image_base64",
            "invalid_image",
            "The image must be a PNG or JPEG file.",
        )
    })?;
    Ok((format, bytes))
}

fn image_too_large() -> ValidationError {
    ValidationError::new(
        "image_base64",
        "image_too_large",
        format!(
            "The image is larger than {} KB; use a smaller logo.",
            MAX_IMAGE_BYTES / 1024
        ),
    )
}

impl BrandingTemplate {
    /// The default template as it exists before anyone changes it.
    pub fn initial_default() -> BrandingTemplate {
        BrandingTemplate {
            view: BrandingTemplateView {
                identity: DEFAULT_TEMPLATE.to_owned(),
                ..BrandingTemplateView::default()
            },
            image: None,
        }
    }

    /// Validate every field. `identity` is checked by the caller's route (it is the key).
    pub fn validate(view: BrandingTemplateView) -> Result<BrandingTemplate, ValidationError> {
        check_name("identity", &view.identity, MAX_IDENTITY_LEN)?;
        for (field, text, max) in [
            ("introduction_text", &view.introduction_text, MAX_TEXT_LEN),
            ("read_button_text", &view.read_button_text, MAX_TEXT_LEN),
            ("email_text", &view.email_text, MAX_TEXT_LEN),
            ("disclaimer_text", &view.disclaimer_text, MAX_TEXT_LEN),
            ("portal_text", &view.portal_text, MAX_PORTAL_TEXT_LEN),
        ] {
            if let Some(text) = text {
                check_localized(field, text, max)?;
            }
        }
        if let Some(color) = &view.background_color {
            check_color(color)?;
        }
        if let Some(url) = &view.privacy_statement_url {
            check_url(url)?;
        }
        if let Some(days) = view.external_mail_expiry_in_days {
            if days > MAX_EXPIRY_DAYS {
                return Err(ValidationError::new(
                    "external_mail_expiry_in_days",
                    "expiry_out_of_range",
                    format!("The expiry must be between 0 and {MAX_EXPIRY_DAYS} days (0 = never)."),
                ));
            }
            if days != 0 && view.identity.eq_ignore_ascii_case(DEFAULT_TEMPLATE) {
                return Err(ValidationError::new(
                    "external_mail_expiry_in_days",
                    "expiry_on_default_template",
                    "The default template cannot set an expiry; create a template for mail that should expire.",
                ));
            }
        }
        let image = view.image_base64.as_deref().map(decode_image).transpose()?;
        Ok(BrandingTemplate { view, image })
    }

    /// The wire form, as given.
    pub fn view(&self) -> &BrandingTemplateView {
        &self.view
    }

    /// The name.
    pub fn identity(&self) -> &str {
        &self.view.identity
    }

    /// The logo, if there is one.
    pub fn image(&self) -> Option<(ImageFormat, &[u8])> {
        self.image.as_ref().map(|(f, b)| (*f, b.as_slice()))
    }

    /// Days until expiry; `None` for never.
    pub fn expiry_days(&self) -> Option<u32> {
        self.view.external_mail_expiry_in_days.filter(|d| *d > 0)
    }

    /// The background colour, or Sealpost's own.
    pub fn background_color(&self) -> &str {
        self.view.background_color.as_deref().unwrap_or("#0a4a8c")
    }
}

/// Apply a JSON merge patch (RFC 7396) to `target`: objects merge, `null` removes, anything else
/// replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(
                    map.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn named(identity: &str) -> BrandingTemplateView {
        BrandingTemplateView {
            identity: identity.into(),
            ..BrandingTemplateView::default()
        }
    }

    fn code(view: BrandingTemplateView) -> (&'static str, String) {
        let e = BrandingTemplate::validate(view).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn a_full_template_is_accepted() {
        let mut translations = BTreeMap::new();
        translations.insert("sv".to_owned(), "Läs meddelandet".to_owned());
        let t = BrandingTemplate::validate(BrandingTemplateView {
            introduction_text: Some(LocalizedText::Plain("Contoso sent you mail".into())),
            read_button_text: Some(LocalizedText::Translated {
                text: "Read the message".into(),
                translations,
            }),
            portal_text: Some(LocalizedText::Plain("p".repeat(128))),
            background_color: Some("#0A5fB4".into()),
            image_base64: Some(BASE64.encode(PNG)),
            privacy_statement_url: Some("https://contoso.example/privacy".into()),
            external_mail_expiry_in_days: Some(730),
            ..named("Finance")
        })
        .unwrap();
        assert_eq!(t.image().unwrap().0, ImageFormat::Png);
        assert_eq!(t.expiry_days(), Some(730));
        assert!(
            BrandingTemplate::validate(BrandingTemplateView {
                background_color: Some("RebeccaPurple".into()),
                ..named("x")
            })
            .is_ok()
        );
    }

    #[test]
    fn every_limit_has_its_own_error() {
        let long = |n: usize| Some(LocalizedText::Plain("a".repeat(n)));
        assert_eq!(
            code(named(&"i".repeat(65))),
            ("too_long", "identity".into())
        );
        assert_eq!(code(named(" ")), ("required", "identity".into()));
        for field in [
            "introduction_text",
            "read_button_text",
            "email_text",
            "disclaimer_text",
        ] {
            let mut v = serde_json::to_value(named("x")).unwrap();
            v[field] = serde_json::json!("a".repeat(1025));
            let v: BrandingTemplateView = serde_json::from_value(v).unwrap();
            assert_eq!(code(v), ("too_long", field.into()));
        }
        assert_eq!(
            code(BrandingTemplateView {
                portal_text: long(129),
                ..named("x")
            }),
            ("too_long", "portal_text".into())
        );
        let mut translations = BTreeMap::new();
        translations.insert("sv".to_owned(), "å".repeat(129));
        assert_eq!(
            code(BrandingTemplateView {
                portal_text: Some(LocalizedText::Translated {
                    text: "ok".into(),
                    translations
                }),
                ..named("x")
            }),
            ("too_long", "portal_text.translations.sv".into())
        );
        let mut bad_tag = BTreeMap::new();
        bad_tag.insert("not a tag".to_owned(), "x".to_owned());
        assert_eq!(
            code(BrandingTemplateView {
                email_text: Some(LocalizedText::Translated {
                    text: "ok".into(),
                    translations: bad_tag
                }),
                ..named("x")
            })
            .0,
            "invalid_language_tag"
        );
        for bad in ["#12345", "#GGGGGG", "blurple", "rgb(1,2,3)", "#1234567"] {
            assert_eq!(
                code(BrandingTemplateView {
                    background_color: Some(bad.into()),
                    ..named("x")
                }),
                ("invalid_color", "background_color".into()),
                "{bad}"
            );
        }
        let gif = BASE64.encode(b"GIF89a....");
        assert_eq!(
            code(BrandingTemplateView {
                image_base64: Some(gif),
                ..named("x")
            })
            .0,
            "invalid_image"
        );
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(
            code(BrandingTemplateView {
                image_base64: Some(BASE64.encode(&big)),
                ..named("x")
            })
            .0,
            "image_too_large"
        );
        assert_eq!(
            code(BrandingTemplateView {
                image_base64: Some("@@@".into()),
                ..named("x")
            })
            .0,
            "invalid_base64"
        );
        for bad in ["javascript:alert(1)", "not a url", "ftp://x.example/"] {
            assert_eq!(
                code(BrandingTemplateView {
                    privacy_statement_url: Some(bad.into()),
                    ..named("x")
                })
                .0,
                "invalid_url"
            );
        }
        assert_eq!(
            code(BrandingTemplateView {
                external_mail_expiry_in_days: Some(731),
                ..named("x")
            })
            .0,
            "expiry_out_of_range"
        );
        assert_eq!(
            code(BrandingTemplateView {
                external_mail_expiry_in_days: Some(7),
                ..named(DEFAULT_TEMPLATE)
            })
            .0,
            "expiry_on_default_template"
        );
        assert!(
            BrandingTemplate::validate(BrandingTemplateView {
                external_mail_expiry_in_days: Some(0),
                ..named(DEFAULT_TEMPLATE)
            })
            .is_ok()
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = serde_json::json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &serde_json::json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, serde_json::json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut doc, &serde_json::json!({"a": null, "n": [1]}));
        assert_eq!(doc, serde_json::json!({"c": {"d": "e"}, "n": [1]}));
    }
}
