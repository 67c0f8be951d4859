//! The rules a value on the wire must follow, stated once: the server validates by these lengths,
//! ranges and patterns, and the OpenAPI document states the same ones (the wire types carry them
//! as schema attributes), so a client generated from the document sends what the server takes.
//!
//! Patterns are written in the subset of regular-expression syntax that ECMA-262 (JSON Schema's,
//! which Schemathesis and jsonschema-rs follow) and Rust's `regex` (the server's agreement tests)
//! read alike: classes, groups, bounded repeats, `^…$` around the whole and `\uXXXX` escapes; no
//! lookaround, no `\s`, no `\w`. (Python's `re` differs at `$`, which also matches before a final
//! line feed: a validator built on it would take `"name\n"`.) The server's tests check each
//! pattern against the validator it stands for.

/// Unicode control characters (`Cc`): what no name may hold.
macro_rules! controls {
    () => {
        r"\u0000-\u001f\u007f-\u009f"
    };
}
/// Controls other than tab, line feed and carriage return: what no text may hold.
macro_rules! controls_but_lines {
    () => {
        r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    };
}
/// Controls other than tab: what no one-line text may hold.
macro_rules! controls_but_tab {
    () => {
        r"\u0000-\u0008\u000a-\u001f\u007f-\u009f"
    };
}
/// Unicode `White_Space` that is not a control character (the controls are excluded anyway).
macro_rules! spaces {
    () => {
        r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
/// One DNS label: 1–63 letters, digits and hyphens, not at either end.
macro_rules! label {
    () => {
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    };
}
/// A domain of two labels or more.
macro_rules! domain {
    () => {
        concat!(r"(?:", label!(), r"\.)+", label!())
    };
}
/// The characters of an address's local part (RFC 5322 `atext`).
macro_rules! atext {
    () => {
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
    };
}
/// An address: a local part of 1–64 `atext` characters and dots (not first or last), `@`, a
/// domain. No two dots in a row either, which a repeat count cannot say together with the length:
/// every address schema adds [`NO_DOUBLE_DOT`] as `not`.
macro_rules! email {
    () => {
        concat!(
            atext!(),
            "(?:",
            atext_or_dot!(),
            "{0,62}",
            atext!(),
            ")?@",
            domain!()
        )
    };
}
/// `atext` or a dot.
macro_rules! atext_or_dot {
    () => {
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]"
    };
}
/// An IPv4 address in dotted decimal, no leading zeros.
macro_rules! ipv4 {
    () => {
        r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    };
}
/// An IPv6 address in hexadecimal groups, `::` for a run of zeros.
macro_rules! ipv6 {
    () => {
        concat!(
            r"(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,7}:",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}",
            r"|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}",
            r"|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}",
            r"|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:))"
        )
    };
}
/// Canonical padded base64 (RFC 4648 §4): whole quads, then at most one padded quad whose unused
/// bits are zero.
macro_rules! base64_tail {
    () => {
        r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?"
    };
}

/// A name (of a template, rule, token, tenant…): at least one character that is not a space, and
/// no control character. Its length limit is the field's.
pub const NAME: &str = concat!(
    "^[^",
    controls!(),
    "]*[^",
    controls!(),
    spaces!(),
    "][^",
    controls!(),
    "]*$"
);
/// A text: any characters but controls other than tab and line breaks. May be empty.
pub const TEXT: &str = concat!("^[^", controls_but_lines!(), "]*$");
/// A one-line text (a subject): no control character but tab. May be empty.
pub const ONE_LINE: &str = concat!("^[^", controls_but_tab!(), "]*$");
/// A one-line name (an attachment's file name): a [`ONE_LINE`] text with a character that is not
/// a space or tab.
pub const ONE_LINE_NAME: &str = concat!(
    "^[^",
    controls_but_tab!(),
    "]*[^",
    controls!(),
    spaces!(),
    "][^",
    controls_but_tab!(),
    "]*$"
);
/// A name a domain can have: two labels or more, each 1–63 letters, digits and hyphens (not at
/// either end).
pub const DOMAIN: &str = concat!("^", domain!(), "$");
/// Longest domain.
pub const DOMAIN_MAX: usize = 253;
/// An email address `local@domain` (no quoted local parts, no address literals). The server
/// compares addresses in lower case.
pub const EMAIL: &str = concat!("^", email!(), "$");
/// What no address has: two dots in a row (an address schema's `not`).
pub const NO_DOUBLE_DOT: &str = r"\.\.";
/// An address, or nothing.
pub const EMAIL_OR_EMPTY: &str = concat!("^(?:", email!(), ")?$");
/// Longest address (RFC 5321).
pub const EMAIL_MAX: usize = 254;
/// A list entry of a recipient or sender condition: an address or a whole domain.
pub const EMAIL_OR_DOMAIN: &str = concat!("^(?:", email!(), "|", domain!(), ")$");
/// An address or network a tenant's mail servers send from: IPv4 with a prefix of /16 or longer,
/// or IPv6 with /48 or longer (a broader one needs `connector_allow_broad_networks`).
pub const NETWORK: &str = concat!(
    "^(?:",
    ipv4!(),
    "(?:/(?:1[6-9]|2[0-9]|3[0-2]))?|",
    ipv6!(),
    "(?:/(?:4[89]|[5-9][0-9]|1[01][0-9]|12[0-8]))?)$"
);
/// Most addresses and networks one connector lists.
pub const NETWORKS_MAX: usize = 100;
/// The CSS named colours (CSS Color Module Level 4), which OME also accepts.
pub const CSS_COLOUR_NAMES: [&str; 148] = [
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

/// A colour: `#RRGGBB`, or a CSS colour name (the server takes those in any case).
pub fn colour_pattern() -> String {
    format!("^(?:#[0-9A-Fa-f]{{6}}|{})$", CSS_COLOUR_NAMES.join("|"))
}
/// A language tag (BCP 47 shape): `sv`, `pt-BR`, `zh-Hant-TW`.
pub const LANGUAGE_TAG: &str = "^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$";
/// Longest language tag.
pub const LANGUAGE_TAG_MAX: usize = 35;
/// A web address `http(s)://host[:port]`, then a path, query or fragment of any characters but
/// controls and spaces. The host is a name: labels of letters and digits joined by single hyphens
/// (a doubled one, as in `xn--`, marks an encoded label), the last beginning with a letter. The
/// port is 1–65535, written without leading zeros.
pub const WEB_URL: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\\.)+",
    "[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*",
    "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    "(?:[/?#][^\\u0000-\\u0020\\u007f-\\u009f]*)?$"
);
/// Longest web address.
pub const WEB_URL_MAX: usize = 2048;
/// A text with at least one character that is not white space (Unicode `White_Space`; the pattern
/// is not anchored, so it asks for one such character anywhere).
pub const NOT_BLANK: &str = concat!(r"[^\u0009-\u000d\u0085", spaces!(), "]");
/// A DKIM selector: one DNS label.
pub const DKIM_SELECTOR: &str = concat!("^", label!(), "$");
/// A DKIM key's algorithm.
pub const DKIM_ALGORITHMS: [&str; 2] = ["ed25519", "rsa"];
/// A data encryption policy's name.
pub const POLICY_NAME: &str = "^[A-Za-z0-9._-]{1,64}$";
/// A root key's name as a policy lists it: a name, and never the server's own `local` key.
pub const ROOT_KEY_LOCAL: &str = "local";
/// A portal-log head as `verify` prints it: `SEQ:SHA-256 in hex`.
pub const PORTAL_LOG_HEAD: &str = "^[0-9]{1,19}:[0-9A-Fa-f]{64}$";
/// A mail header's name: printable ASCII but `:`.
pub const HEADER_NAME: &str = "^[!-9;-~]{1,76}$";
/// The reason a rejecting rule gives the sending server: printable ASCII, not blank.
pub const REJECT_REASON: &str = "^[ -~]*[!-~][ -~]*$";
/// A MIME type `type/subtype`.
pub const CONTENT_TYPE: &str = concat!("^[^/", controls!(), "]+/[^", controls!(), "]+$");
/// An attachment's Content-ID, `<…>` optional.
pub const CONTENT_ID: &str = concat!("^[^", controls!(), "]*$");
/// Longest MIME type or Content-ID.
pub const MIME_TOKEN_MAX: usize = 255;
/// Canonical padded base64.
pub const BASE64: &str = concat!("^", base64_tail!(), "$");
/// A logo: a PNG or JPEG, in canonical base64.
pub const IMAGE_BASE64: &str = concat!(
    "^(?:iVBORw0KGg[o-r][A-Za-z0-9+/]|/9j/)",
    base64_tail!(),
    "$"
);
/// Largest logo, decoded.
pub const IMAGE_MAX_BYTES: usize = 40 * 1024;
/// Longest logo in base64: whole quads enough for [`IMAGE_MAX_BYTES`].
pub const IMAGE_BASE64_MAX: usize = IMAGE_MAX_BYTES.div_ceil(3) * 4;

/// Largest attachment uploaded in windows (`uploads.max_attachment_size`, whose default this is).
pub const UPLOAD_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Longest tenant name and token label.
pub const TENANT_NAME_MAX: usize = 128;
/// Longest token label.
pub const TOKEN_LABEL_MAX: usize = 128;
/// Days the portal log may keep entries (0: for ever).
pub const PORTAL_LOG_RETENTION_MAX_DAYS: u32 = 3650;
/// Longest branding template name.
pub const BRANDING_NAME_MAX: usize = 64;
/// Longest notice text.
pub const NOTICE_TEXT_MAX: usize = 1024;
/// Longest portal sign-in text.
pub const PORTAL_TEXT_MAX: usize = 128;
/// Most translations of one text.
pub const TRANSLATIONS_MAX: usize = 50;
/// Most days until external access ends (0: never).
pub const EXPIRY_MAX_DAYS: u32 = 730;
/// Longest rights template name.
pub const RIGHTS_NAME_MAX: usize = 64;
/// Longest rights template description.
pub const RIGHTS_DESCRIPTION_MAX: usize = 1024;
/// The built-in rights templates, whose names no template of a tenant's may take.
pub const BUILT_IN_RIGHTS_TEMPLATES: [&str; 2] = ["Encrypt", "Do Not Forward"];
/// Bounds of a rights template's forward limits: per forward, per day, depth.
pub const FORWARD_RECIPIENTS_PER_FORWARD: (u32, u32) = (1, 500);
/// Most new recipients one recipient may forward one message to in a day.
pub const FORWARD_RECIPIENTS_PER_DAY: (u32, u32) = (1, 5000);
/// How deep a chain of forwards may go.
pub const FORWARD_DEPTH: (u32, u32) = (1, 10);
/// Most recipients (To and Cc together) of one message.
pub const RECIPIENTS_MAX: usize = 500;
/// Longest subject.
pub const SUBJECT_MAX: usize = 998;
/// Longest attachment name.
pub const ATTACHMENT_NAME_MAX: usize = 240;
/// Most attachments of one message.
pub const ATTACHMENTS_MAX: usize = 250;
/// Longest mail flow rule name.
pub const RULE_NAME_MAX: usize = 64;
/// Most conditions of one rule.
pub const RULE_CONDITIONS_MAX: usize = 20;
/// Most addresses, domains or words one condition lists.
pub const RULE_VALUES_MAX: usize = 200;
/// Longest subject tag.
pub const SUBJECT_TAG_MAX: usize = 64;
/// Longest header value a condition matches.
pub const HEADER_VALUE_MAX: usize = 998;
/// Longest rejection reason.
pub const REJECT_REASON_MAX: usize = 200;
/// Longest policy description.
pub const POLICY_DESCRIPTION_MAX: usize = 256;
/// Longest purge or recovery reason.
pub const PURGE_REASON_MAX: usize = 512;
/// Longest purge contact.
pub const PURGE_CONTACT_MAX: usize = 256;
/// Most entries one portal-log search answers (fewer asked: that many; more: this many).
pub const PORTAL_LOG_RESULTS_MAX: u32 = 1000;

/// Schema pieces the derive attributes cannot say alone (only for the OpenAPI document).
#[cfg(feature = "openapi")]
pub mod schema {
    use schemars::{Schema, SchemaGenerator, json_schema};

    /// A [`crate::admin::LocalizedText`] whose texts are at most `MAX` characters.
    pub fn localized_text<const MAX: usize>(_: &mut SchemaGenerator) -> Schema {
        let text = json_schema!({ "type": "string", "maxLength": MAX, "pattern": super::TEXT });
        json_schema!({
            "description": "A text, or the text with translations keyed by language tag.",
            "anyOf": [
                text,
                {
                    "type": "object",
                    "properties": {
                        "text": text,
                        "translations": {
                            "type": "object",
                            "maxProperties": super::TRANSLATIONS_MAX,
                            "propertyNames": { "pattern": super::LANGUAGE_TAG, "maxLength": super::LANGUAGE_TAG_MAX },
                            "additionalProperties": text
                        }
                    },
                    "required": ["text"]
                }
            ]
        })
    }

    /// An optional [`localized_text`].
    pub fn optional_localized_text<const MAX: usize>(g: &mut SchemaGenerator) -> Schema {
        let mut s = localized_text::<MAX>(g);
        if let Some(any) = s.get_mut("anyOf").and_then(|a| a.as_array_mut()) {
            any.push(serde_json::json!({ "type": "null" }));
        }
        s
    }

    /// A rights template's rights: each once, `view` among them.
    pub fn rights(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = crate::Right::ALL.iter().map(|r| r.as_str()).collect();
        json_schema!({
            "type": "array",
            "items": { "type": "string", "enum": names },
            "uniqueItems": true,
            "contains": { "const": crate::Right::View.as_str() }
        })
    }

    /// The two root keys of a policy: two different names, neither the server's own `local` key.
    pub fn root_keys(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "items": {
                "type": "string",
                "pattern": super::POLICY_NAME,
                "not": { "const": super::ROOT_KEY_LOCAL }
            },
            "minItems": 2,
            "maxItems": 2,
            "uniqueItems": true
        })
    }

    /// A text with a character that is not a space (the server trims it), at most `MAX`.
    pub fn reason<const MAX: usize>(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": MAX, "pattern": super::NOT_BLANK })
    }

    /// An optional [`reason`].
    pub fn optional_reason<const MAX: usize>(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "null"], "maxLength": MAX, "pattern": super::NOT_BLANK })
    }

    /// An address.
    pub fn email(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "maxLength": super::EMAIL_MAX,
            "pattern": super::EMAIL,
            "not": { "pattern": super::NO_DOUBLE_DOT }
        })
    }

    /// An address or nothing (an empty string).
    pub fn optional_email(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "null"],
            "maxLength": super::EMAIL_MAX,
            "pattern": super::EMAIL_OR_EMPTY,
            "not": { "pattern": super::NO_DOUBLE_DOT }
        })
    }

    /// Up to `MAX` addresses.
    pub fn emails<const MAX: usize>(g: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": email(g), "maxItems": MAX })
    }

    /// Addresses in one query parameter, separated by commas (OpenAPI's `form` style, not
    /// exploded).
    pub fn address_list(g: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": email(g), "minItems": 1 })
    }

    /// A condition's addresses and domains: 1 to [`super::RULE_VALUES_MAX`].
    pub fn emails_or_domains(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "items": {
                "type": "string",
                "maxLength": super::DOMAIN_MAX,
                "pattern": super::EMAIL_OR_DOMAIN,
                "not": { "pattern": super::NO_DOUBLE_DOT }
            },
            "minItems": 1,
            "maxItems": super::RULE_VALUES_MAX
        })
    }

    /// A DKIM key's algorithm.
    pub fn dkim_algorithm(schema: &mut Schema) {
        schema.insert("enum".into(), serde_json::json!(super::DKIM_ALGORITHMS));
    }

    /// A message has a recipient (To or Cc) and a body (text, HTML or an attachment).
    pub fn send_message(schema: &mut Schema) {
        schema.insert(
            "allOf".into(),
            serde_json::json!([
                { "anyOf": [
                    { "properties": { "to": { "minItems": 1 } } },
                    { "properties": { "cc": { "minItems": 1 } }, "required": ["cc"] }
                ] },
                { "anyOf": [
                    { "properties": { "text": { "type": "string" } }, "required": ["text"] },
                    { "properties": { "html": { "type": "string" } }, "required": ["html"] },
                    { "properties": { "attachments": { "minItems": 1 } }, "required": ["attachments"] }
                ] }
            ]),
        );
    }

    /// Removing the subject tag needs a condition on it that is not negated.
    pub fn mail_flow_rule(schema: &mut Schema) {
        schema.insert(
            "if".into(),
            serde_json::json!({
                "properties": { "action": {
                    "properties": {
                        "kind": { "const": "seal" },
                        "remove_subject_tag": { "const": true }
                    },
                    "required": ["kind", "remove_subject_tag"]
                } },
                "required": ["action"]
            }),
        );
        schema.insert(
            "then".into(),
            serde_json::json!({
                "properties": { "conditions": { "contains": {
                    "properties": {
                        "kind": { "const": "subject_tag" },
                        "negate": { "const": false }
                    },
                    "required": ["kind"]
                } } },
                "required": ["conditions"]
            }),
        );
    }

    /// One change of key or purge request per call; a purge reason and contact only with
    /// `permanent_data_purge_requested: true`, and both with it.
    pub fn set_policy(schema: &mut Schema) {
        let roll = serde_json::json!({ "properties": { "roll": { "const": true } }, "required": ["roll"] });
        let replace = serde_json::json!({ "properties": { "replace": { "type": "object" } }, "required": ["replace"] });
        let purge = serde_json::json!({ "properties": { "permanent_data_purge_requested": { "type": "boolean" } }, "required": ["permanent_data_purge_requested"] });
        let given = |field: &str| serde_json::json!({ "properties": { field: { "type": "string" } }, "required": [field] });
        schema.insert(
            "allOf".into(),
            serde_json::json!([
                { "not": { "anyOf": [
                    { "allOf": [roll, replace] },
                    { "allOf": [roll, purge] },
                    { "allOf": [replace, purge] }
                ] } },
                {
                    "if": { "anyOf": [given("permanent_data_purge_reason"), given("permanent_data_purge_contact")] },
                    "then": { "properties": { "permanent_data_purge_requested": { "const": true } }, "required": ["permanent_data_purge_requested"] }
                },
                {
                    "if": { "properties": { "permanent_data_purge_requested": { "const": true } }, "required": ["permanent_data_purge_requested"] },
                    "then": {
                        "properties": {
                            "permanent_data_purge_reason": { "type": "string" },
                            "permanent_data_purge_contact": { "type": "string" }
                        },
                        "required": ["permanent_data_purge_reason", "permanent_data_purge_contact"]
                    }
                }
            ]),
        );
    }

    /// A pattern matching `word` in any mix of cases (JSON Schema patterns have no flags).
    pub fn any_case(word: &str) -> String {
        word.chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                } else if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", u32::from(c))
                }
            })
            .collect()
    }

    /// The names of the built-in rights templates, in any case.
    pub fn built_in_rights_template() -> String {
        let words: Vec<String> = super::BUILT_IN_RIGHTS_TEMPLATES
            .iter()
            .map(|w| any_case(w))
            .collect();
        format!("^(?:{})$", words.join("|"))
    }
}
