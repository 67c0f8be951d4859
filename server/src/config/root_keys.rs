//! The `[[root_keys]]` tables of the configuration, checked: where each configured root key is
//! (a key file, or a key in a PKCS#11 token with the source of its PIN). Opening them is `keys`'s
//! job; this is only what the configuration says.

use std::path::PathBuf;

use super::{RootKeyConfig, RootKeyKind};

/// The name of the built-in root key (`root.key` in the data directory).
pub const LOCAL: &str = "local";

/// Whether `name` can name a configured root key.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name != LOCAL
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where a configured root key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKeySpec {
    /// A 32-byte key file.
    File(PathBuf),
    /// A key in a PKCS#11 token.
    Pkcs11(Pkcs11Location),
}

impl RootKeySpec {
    /// From one `[[root_keys]]` table, or a sentence saying what is missing.
    pub fn from_config(c: &RootKeyConfig) -> Result<RootKeySpec, String> {
        let name = &c.name;
        let need = |v: &Option<String>, field: &str| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| format!("root key {name:?} needs `{field}`"))
        };
        match c.provider {
            RootKeyKind::File => {
                let path = c
                    .path
                    .clone()
                    .ok_or_else(|| format!("root key {name:?} needs `path`"))?;
                if c.module.is_some()
                    || c.token.is_some()
                    || c.key_label.is_some()
                    || c.pin_file.is_some()
                    || c.pin_env.is_some()
                {
                    return Err(format!(
                        "root key {name:?} is a file: only `path` goes with it"
                    ));
                }
                Ok(RootKeySpec::File(path))
            }
            RootKeyKind::Pkcs11 => {
                if c.path.is_some() {
                    return Err(format!(
                        "root key {name:?} is in a token: `path` does not go with it"
                    ));
                }
                let module = c
                    .module
                    .clone()
                    .ok_or_else(|| format!("root key {name:?} needs `module`"))?;
                let pin = match (&c.pin_file, &c.pin_env) {
                    (Some(f), None) => PinSource::File(f.clone()),
                    (None, Some(v)) => PinSource::Env(v.clone()),
                    _ => {
                        return Err(format!(
                            "root key {name:?} needs exactly one of `pin_file` and `pin_env` (never the PIN itself)"
                        ));
                    }
                };
                Ok(RootKeySpec::Pkcs11(Pkcs11Location {
                    module,
                    token: need(&c.token, "token")?,
                    key: need(&c.key_label, "key_label")?,
                    pin,
                }))
            }
        }
    }
}

/// Where a root key is: the module, the token and the key's label, and where the PIN comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Location {
    /// The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The root key's label (`CKA_LABEL`) inside the token.
    pub key: String,
    /// Where the user PIN is read from.
    pub pin: PinSource,
}

/// Where a token's user PIN comes from: never the command line, where other users could see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// A file holding the PIN (trailing newline ignored); it should be readable by Sealpost only.
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
}
