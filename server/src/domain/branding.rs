//! Branding templates (OME configuration): the texts, colour and logo of the notice and portal.
//!
//! Field names and limits follow `Set-OMEConfiguration`. Beyond OME, each text may carry
//! translations keyed by language tag; the portal picks one by the reader's language and falls back
//! to the default text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::admin::{BrandingTemplateView, LocalizedText};
use sealpost_api::rules;

use super::ValidationError;
use super::validation::{check_name, check_text};

/// The name of the template that always exists.
pub const DEFAULT_TEMPLATE: &str = "default";
/// Longest `identity`.
pub const MAX_IDENTITY_LEN: usize = rules::BRANDING_NAME_MAX;
/// Longest introduction, button, email and disclaimer text.
pub const MAX_TEXT_LEN: usize = rules::NOTICE_TEXT_MAX;
/// Longest portal text.
pub const MAX_PORTAL_TEXT_LEN: usize = rules::PORTAL_TEXT_MAX;
/// Largest logo, decoded (OME recommends 40 KB; we hold to it so notices stay small).
pub const MAX_IMAGE_BYTES: usize = rules::IMAGE_MAX_BYTES;
/// Longest privacy statement URL.
pub const MAX_URL_LEN: usize = rules::WEB_URL_MAX;
/// Latest expiry, in days.
pub const MAX_EXPIRY_DAYS: u32 = rules::EXPIRY_MAX_DAYS;
/// Most translations per text.
pub const MAX_TRANSLATIONS: usize = rules::TRANSLATIONS_MAX;

/// The CSS named colours (CSS Color Module Level 4), which OME also accepts, with their sRGB values
/// (for the contrast check).
const CSS_COLORS: &[(&str, [u8; 3])] = &[
    ("aliceblue", [0xF0, 0xF8, 0xFF]),
    ("antiquewhite", [0xFA, 0xEB, 0xD7]),
    ("aqua", [0x00, 0xFF, 0xFF]),
    ("aquamarine", [0x7F, 0xFF, 0xD4]),
    ("azure", [0xF0, 0xFF, 0xFF]),
    ("beige", [0xF5, 0xF5, 0xDC]),
    ("bisque", [0xFF, 0xE4, 0xC4]),
    ("black", [0x00, 0x00, 0x00]),
    ("blanchedalmond", [0xFF, 0xEB, 0xCD]),
    ("blue", [0x00, 0x00, 0xFF]),
    ("blueviolet", [0x8A, 0x2B, 0xE2]),
    ("brown", [0xA5, 0x2A, 0x2A]),
    ("burlywood", [0xDE, 0xB8, 0x87]),
    ("cadetblue", [0x5F, 0x9E, 0xA0]),
    ("chartreuse", [0x7F, 0xFF, 0x00]),
    ("chocolate", [0xD2, 0x69, 0x1E]),
    ("coral", [0xFF, 0x7F, 0x50]),
    ("cornflowerblue", [0x64, 0x95, 0xED]),
    ("cornsilk", [0xFF, 0xF8, 0xDC]),
    ("crimson", [0xDC, 0x14, 0x3C]),
    ("cyan", [0x00, 0xFF, 0xFF]),
    ("darkblue", [0x00, 0x00, 0x8B]),
    ("darkcyan", [0x00, 0x8B, 0x8B]),
    ("darkgoldenrod", [0xB8, 0x86, 0x0B]),
    ("darkgray", [0xA9, 0xA9, 0xA9]),
    ("darkgreen", [0x00, 0x64, 0x00]),
    ("darkgrey", [0xA9, 0xA9, 0xA9]),
    ("darkkhaki", [0xBD, 0xB7, 0x6B]),
    ("darkmagenta", [0x8B, 0x00, 0x8B]),
    ("darkolivegreen", [0x55, 0x6B, 0x2F]),
    ("darkorange", [0xFF, 0x8C, 0x00]),
    ("darkorchid", [0x99, 0x32, 0xCC]),
    ("darkred", [0x8B, 0x00, 0x00]),
    ("darksalmon", [0xE9, 0x96, 0x7A]),
    ("darkseagreen", [0x8F, 0xBC, 0x8F]),
    ("darkslateblue", [0x48, 0x3D, 0x8B]),
    ("darkslategray", [0x2F, 0x4F, 0x4F]),
    ("darkslategrey", [0x2F, 0x4F, 0x4F]),
    ("darkturquoise", [0x00, 0xCE, 0xD1]),
    ("darkviolet", [0x94, 0x00, 0xD3]),
    ("deeppink", [0xFF, 0x14, 0x93]),
    ("deepskyblue", [0x00, 0xBF, 0xFF]),
    ("dimgray", [0x69, 0x69, 0x69]),
    ("dimgrey", [0x69, 0x69, 0x69]),
    ("dodgerblue", [0x1E, 0x90, 0xFF]),
    ("firebrick", [0xB2, 0x22, 0x22]),
    ("floralwhite", [0xFF, 0xFA, 0xF0]),
    ("forestgreen", [0x22, 0x8B, 0x22]),
    ("fuchsia", [0xFF, 0x00, 0xFF]),
    ("gainsboro", [0xDC, 0xDC, 0xDC]),
    ("ghostwhite", [0xF8, 0xF8, 0xFF]),
    ("gold", [0xFF, 0xD7, 0x00]),
    ("goldenrod", [0xDA, 0xA5, 0x20]),
    ("gray", [0x80, 0x80, 0x80]),
    ("green", [0x00, 0x80, 0x00]),
    ("greenyellow", [0xAD, 0xFF, 0x2F]),
    ("grey", [0x80, 0x80, 0x80]),
    ("honeydew", [0xF0, 0xFF, 0xF0]),
    ("hotpink", [0xFF, 0x69, 0xB4]),
    ("indianred", [0xCD, 0x5C, 0x5C]),
    ("indigo", [0x4B, 0x00, 0x82]),
    ("ivory", [0xFF, 0xFF, 0xF0]),
    ("khaki", [0xF0, 0xE6, 0x8C]),
    ("lavender", [0xE6, 0xE6, 0xFA]),
    ("lavenderblush", [0xFF, 0xF0, 0xF5]),
    ("lawngreen", [0x7C, 0xFC, 0x00]),
    ("lemonchiffon", [0xFF, 0xFA, 0xCD]),
    ("lightblue", [0xAD, 0xD8, 0xE6]),
    ("lightcoral", [0xF0, 0x80, 0x80]),
    ("lightcyan", [0xE0, 0xFF, 0xFF]),
    ("lightgoldenrodyellow", [0xFA, 0xFA, 0xD2]),
    ("lightgray", [0xD3, 0xD3, 0xD3]),
    ("lightgreen", [0x90, 0xEE, 0x90]),
    ("lightgrey", [0xD3, 0xD3, 0xD3]),
    ("lightpink", [0xFF, 0xB6, 0xC1]),
    ("lightsalmon", [0xFF, 0xA0, 0x7A]),
    ("lightseagreen", [0x20, 0xB2, 0xAA]),
    ("lightskyblue", [0x87, 0xCE, 0xFA]),
    ("lightslategray", [0x77, 0x88, 0x99]),
    ("lightslategrey", [0x77, 0x88, 0x99]),
    ("lightsteelblue", [0xB0, 0xC4, 0xDE]),
    ("lightyellow", [0xFF, 0xFF, 0xE0]),
    ("lime", [0x00, 0xFF, 0x00]),
    ("limegreen", [0x32, 0xCD, 0x32]),
    ("linen", [0xFA, 0xF0, 0xE6]),
    ("magenta", [0xFF, 0x00, 0xFF]),
    ("maroon", [0x80, 0x00, 0x00]),
    ("mediumaquamarine", [0x66, 0xCD, 0xAA]),
    ("mediumblue", [0x00, 0x00, 0xCD]),
    ("mediumorchid", [0xBA, 0x55, 0xD3]),
    ("mediumpurple", [0x93, 0x70, 0xDB]),
    ("mediumseagreen", [0x3C, 0xB3, 0x71]),
    ("mediumslateblue", [0x7B, 0x68, 0xEE]),
    ("mediumspringgreen", [0x00, 0xFA, 0x9A]),
    ("mediumturquoise", [0x48, 0xD1, 0xCC]),
    ("mediumvioletred", [0xC7, 0x15, 0x85]),
    ("midnightblue", [0x19, 0x19, 0x70]),
    ("mintcream", [0xF5, 0xFF, 0xFA]),
    ("mistyrose", [0xFF, 0xE4, 0xE1]),
    ("moccasin", [0xFF, 0xE4, 0xB5]),
    ("navajowhite", [0xFF, 0xDE, 0xAD]),
    ("navy", [0x00, 0x00, 0x80]),
    ("oldlace", [0xFD, 0xF5, 0xE6]),
    ("olive", [0x80, 0x80, 0x00]),
    ("olivedrab", [0x6B, 0x8E, 0x23]),
    ("orange", [0xFF, 0xA5, 0x00]),
    ("orangered", [0xFF, 0x45, 0x00]),
    ("orchid", [0xDA, 0x70, 0xD6]),
    ("palegoldenrod", [0xEE, 0xE8, 0xAA]),
    ("palegreen", [0x98, 0xFB, 0x98]),
    ("paleturquoise", [0xAF, 0xEE, 0xEE]),
    ("palevioletred", [0xDB, 0x70, 0x93]),
    ("papayawhip", [0xFF, 0xEF, 0xD5]),
    ("peachpuff", [0xFF, 0xDA, 0xB9]),
    ("peru", [0xCD, 0x85, 0x3F]),
    ("pink", [0xFF, 0xC0, 0xCB]),
    ("plum", [0xDD, 0xA0, 0xDD]),
    ("powderblue", [0xB0, 0xE0, 0xE6]),
    ("purple", [0x80, 0x00, 0x80]),
    ("rebeccapurple", [0x66, 0x33, 0x99]),
    ("red", [0xFF, 0x00, 0x00]),
    ("rosybrown", [0xBC, 0x8F, 0x8F]),
    ("royalblue", [0x41, 0x69, 0xE1]),
    ("saddlebrown", [0x8B, 0x45, 0x13]),
    ("salmon", [0xFA, 0x80, 0x72]),
    ("sandybrown", [0xF4, 0xA4, 0x60]),
    ("seagreen", [0x2E, 0x8B, 0x57]),
    ("seashell", [0xFF, 0xF5, 0xEE]),
    ("sienna", [0xA0, 0x52, 0x2D]),
    ("silver", [0xC0, 0xC0, 0xC0]),
    ("skyblue", [0x87, 0xCE, 0xEB]),
    ("slateblue", [0x6A, 0x5A, 0xCD]),
    ("slategray", [0x70, 0x80, 0x90]),
    ("slategrey", [0x70, 0x80, 0x90]),
    ("snow", [0xFF, 0xFA, 0xFA]),
    ("springgreen", [0x00, 0xFF, 0x7F]),
    ("steelblue", [0x46, 0x82, 0xB4]),
    ("tan", [0xD2, 0xB4, 0x8C]),
    ("teal", [0x00, 0x80, 0x80]),
    ("thistle", [0xD8, 0xBF, 0xD8]),
    ("tomato", [0xFF, 0x63, 0x47]),
    ("turquoise", [0x40, 0xE0, 0xD0]),
    ("violet", [0xEE, 0x82, 0xEE]),
    ("wheat", [0xF5, 0xDE, 0xB3]),
    ("white", [0xFF, 0xFF, 0xFF]),
    ("whitesmoke", [0xF5, 0xF5, 0xF5]),
    ("yellow", [0xFF, 0xFF, 0x00]),
    ("yellowgreen", [0x9A, 0xCD, 0x32]),
];

/// A logo's format, read from its first bytes (never from what the uploader claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
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

pub(crate) fn check_language_tag(field: &str, tag: &str) -> Result<(), ValidationError> {
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

/// The sRGB value of `#RRGGBB` or a CSS colour name (case-insensitive).
pub fn parse_color(value: &str) -> Option<[u8; 3]> {
    if let Some(hex) = value.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return Some([byte(0)?, byte(2)?, byte(4)?]);
    }
    CSS_COLORS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map(|(_, rgb)| *rgb)
}

/// Relative luminance (WCAG 2.2).
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// The WCAG contrast ratio of two colours, from 1 to 21.
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The contrast WCAG 2.2 AA asks of normal text.
pub const MIN_CONTRAST: f64 = 4.5;
/// White, the text colour on a brand colour when it reads well.
pub const LIGHT_TEXT: [u8; 3] = [0xff, 0xff, 0xff];
/// Near-black, the text colour on a light brand colour.
pub const DARK_TEXT: [u8; 3] = [0x11, 0x18, 0x27];

/// The text colour to use on `background`: white when it meets [`MIN_CONTRAST`], otherwise
/// whichever of white and near-black contrasts more.
pub fn text_color_on(background: [u8; 3]) -> [u8; 3] {
    if contrast_ratio(LIGHT_TEXT, background) >= MIN_CONTRAST
        || contrast_ratio(LIGHT_TEXT, background) >= contrast_ratio(DARK_TEXT, background)
    {
        LIGHT_TEXT
    } else {
        DARK_TEXT
    }
}

/// `#rrggbb`.
pub fn hex_color([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A sentence for the admin when white text on `color` (the notice's button, the portal's header)
/// is below [`MIN_CONTRAST`]; `None` when it reads well or the colour is unknown.
pub fn contrast_warning(color: &str) -> Option<String> {
    let rgb = parse_color(color)?;
    let white = contrast_ratio(LIGHT_TEXT, rgb);
    if white >= MIN_CONTRAST {
        return None;
    }
    let chosen = text_color_on(rgb);
    let fallback = if chosen == LIGHT_TEXT {
        format!(
            "no text colour reaches 4.5:1 on it (white is {:.1}:1); choose a darker or lighter colour",
            contrast_ratio(chosen, rgb)
        )
    } else {
        format!(
            "the portal and notice use dark text on it instead ({:.1}:1)",
            contrast_ratio(chosen, rgb)
        )
    };
    Some(format!(
        "White text on {color} has a contrast ratio of {white:.1}:1, below the 4.5:1 that WCAG 2.2 AA asks for; {fallback}."
    ))
}

fn check_color(value: &str) -> Result<(), ValidationError> {
    if parse_color(value).is_some() {
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

pub(crate) fn check_url(value: &str) -> Result<(), ValidationError> {
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
    // The form `rules::WEB_URL` states: scheme, a host name, a port, then anything but controls
    // and spaces.
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &value[8..]
    } else if lower.starts_with("http://") {
        &value[7..]
    } else {
        return Err(bad("must start with https:// and name a host"));
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
            && !l.contains("--")
    };
    let host_ok = labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
    if !host_ok {
        return Err(bad("must name a host like www.contoso.com"));
    }
    let port_ok = port.is_none_or(|p| {
        !p.starts_with('0')
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    if !port_ok {
        return Err(bad("has a port that is not one (1 to 65535)"));
    }
    if tail.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad(
            "has spaces or control characters (percent-encode them)",
        ));
    }
    // And a URL the standard parser reads the same way.
    let parsed = url::Url::parse(value).map_err(|_| bad("is not a valid URL"))?;
    if parsed.host_str().is_none() {
        return Err(bad("must start with https:// and name a host"));
    }
    Ok(())
}

pub(crate) fn decode_image(b64: &str) -> Result<(ImageFormat, Vec<u8>), ValidationError> {
    // Bounded by its base64 length, before decoding, so a huge string is refused without
    // allocating for it (and the rule is one a client can check: at most 54,616 characters).
    if b64.trim().len() > rules::IMAGE_BASE64_MAX {
        return Err(image_too_large());
    }
    let bytes = BASE64.decode(b64.trim()).map_err(|_| {
        ValidationError::new(
            "image_base64",
            "invalid_base64",
            "The image is not valid base64.",
        )
    })?;
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
        if let Some(url) = &view.privacy_statement_url {
            check_url(url)?;
        }
        BrandingTemplate::stored(view)
    }

    /// A template as stored: checked when it was saved, by the rules of its day. The privacy
    /// link's rule has since become one a document can state (`rules::WEB_URL`); a link saved
    /// before that still works (it was a URL the standard parser read), so it is not checked again.
    pub fn stored(view: BrandingTemplateView) -> Result<BrandingTemplate, ValidationError> {
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
        if let Some(tag) = &view.language {
            check_language_tag("language", tag)?;
        }
        if let Some(days) = view.external_mail_expiry_in_days
            && days > MAX_EXPIRY_DAYS
        {
            return Err(ValidationError::new(
                "external_mail_expiry_in_days",
                "expiry_out_of_range",
                format!("The expiry must be between 0 and {MAX_EXPIRY_DAYS} days (0 = never)."),
            ));
        }
        let image = view.image_base64.as_deref().map(decode_image).transpose()?;
        Ok(BrandingTemplate { view, image })
    }

    /// Whether this is the default template with an expiry, which it may not have: the default
    /// template is every message's that names none, and a tenant's mail should not expire unless
    /// it chose a template for that (a conflict with the template, not a field's rule).
    pub fn expiry_on_default(&self) -> bool {
        self.view.external_mail_expiry_in_days.unwrap_or(0) != 0
            && self.view.identity.eq_ignore_ascii_case(DEFAULT_TEMPLATE)
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

    /// The text colour that reads on [`BrandingTemplate::background_color`], as `#rrggbb`.
    pub fn text_color(&self) -> String {
        hex_color(parse_color(self.background_color()).map_or(LIGHT_TEXT, text_color_on))
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

    #[test]
    fn colours_parse_by_hex_and_by_name() {
        assert_eq!(parse_color("#0A4a8c"), Some([0x0a, 0x4a, 0x8c]));
        assert_eq!(parse_color("Navy"), Some([0, 0, 0x80]));
        assert_eq!(parse_color("rebeccapurple"), Some([0x66, 0x33, 0x99]));
        for bad in ["#0a4a8", "#0a4a8cc", "#gggggg", "navyblue", "", "#"] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let black = [0, 0, 0];
        assert!((contrast_ratio(LIGHT_TEXT, black) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(black, black) - 1.0).abs() < 1e-9);
        // #767676 is the classic lightest grey that passes 4.5:1 on white; #777777 fails.
        assert!(contrast_ratio(LIGHT_TEXT, [0x76; 3]) >= MIN_CONTRAST);
        assert!(contrast_ratio(LIGHT_TEXT, [0x77; 3]) < MIN_CONTRAST);
    }

    #[test]
    fn light_backgrounds_get_dark_text_and_a_warning() {
        assert_eq!(text_color_on([0x0a, 0x4a, 0x8c]), LIGHT_TEXT);
        assert_eq!(contrast_warning("#0a4a8c"), None);
        assert_eq!(text_color_on([0xff, 0xff, 0x00]), DARK_TEXT);
        let w = contrast_warning("yellow").unwrap();
        assert!(w.contains("1.1:1") && w.contains("dark text"), "{w}");
        assert_eq!(contrast_warning("not a colour"), None);
        assert_eq!(hex_color([0x0a, 0xff, 0]), "#0aff00");
    }

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
        for bad in ["", "s", "sv_SE", "sv-", "en-", "日本"] {
            assert_eq!(
                code(BrandingTemplateView {
                    language: Some(bad.into()),
                    ..named("x")
                }),
                ("invalid_language_tag", "language".into()),
                "{bad:?}"
            );
        }
        for good in ["sv", "de-CH", "zh-Hant-TW"] {
            assert!(
                BrandingTemplate::validate(BrandingTemplateView {
                    language: Some(good.into()),
                    ..named("x")
                })
                .is_ok(),
                "{good}"
            );
        }
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
        // The limit is the base64 length of whole quads for 40 KB: 40 KB and two bytes fit.
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 2, 0);
        assert!(
            BrandingTemplate::validate(BrandingTemplateView {
                image_base64: Some(BASE64.encode(&big)),
                ..named("x")
            })
            .is_ok()
        );
        big.push(0);
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
        // A link an earlier version saved (any URL the standard parser read) is refused when
        // given now, but a stored template with it still loads: sending and signing in use it.
        for old in ["https://192.0.2.7/privacy", "http://intranet/privacy"] {
            let view = BrandingTemplateView {
                privacy_statement_url: Some(old.into()),
                ..named("x")
            };
            assert_eq!(code(view.clone()).0, "invalid_url", "{old}");
            assert!(BrandingTemplate::stored(view).is_ok(), "{old}");
        }
        assert!(
            BrandingTemplate::validate(BrandingTemplateView {
                privacy_statement_url: Some(
                    "https://www.contoso.com:8443/villkor-för-kunder?a=1".into()
                ),
                ..named("x")
            })
            .is_ok()
        );
        assert_eq!(
            code(BrandingTemplateView {
                external_mail_expiry_in_days: Some(731),
                ..named("x")
            })
            .0,
            "expiry_out_of_range"
        );
        assert!(
            BrandingTemplate::validate(BrandingTemplateView {
                external_mail_expiry_in_days: Some(7),
                ..named(DEFAULT_TEMPLATE)
            })
            .unwrap()
            .expiry_on_default()
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
