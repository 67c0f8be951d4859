//! The `[[root_keys]]` tables of the configuration, checked: where each configured root key is
//! (a key file, or a key in a PKCS#11 token with the source of its PIN). Opening them is `keys`'s
//! job; this is only what the configuration says.

use std::path::PathBuf;

use super::{AvailabilityKeyConfig, RootKeyConfig, RootKeyKind};

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

/// Where availability keys are made and kept: one key per data encryption policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvailabilitySpec {
    /// A 32-byte key file per policy in this directory.
    Directory(PathBuf),
    /// A non-extractable AES-256 key per policy in this token (the key's label is its name).
    Pkcs11 {
        /// The PKCS#11 module.
        module: PathBuf,
        /// The token's label.
        token: String,
        /// Where the user PIN is read from.
        pin: PinSource,
    },
}

impl AvailabilitySpec {
    /// From the `[availability_key]` table, or a sentence saying what is wrong. A directory
    /// inside the data directory is refused: its backups go with the database's, and whoever has
    /// both could open every policy's messages.
    pub fn from_config(
        c: &AvailabilityKeyConfig,
        data_dir: &std::path::Path,
    ) -> Result<AvailabilitySpec, String> {
        match c.provider {
            RootKeyKind::File => {
                if c.module.is_some()
                    || c.token.is_some()
                    || c.pin_file.is_some()
                    || c.pin_env.is_some()
                {
                    return Err(
                        "the availability key store is a directory: only `directory` goes with it"
                            .into(),
                    );
                }
                let dir = c
                    .directory
                    .clone()
                    .ok_or("the availability key store needs `directory`")?;
                // Compared as absolute paths without `.` and `..`, through symbolic links where
                // the path exists yet.
                let full = |p: &std::path::Path| {
                    p.canonicalize().unwrap_or_else(|_| {
                        let mut out = PathBuf::new();
                        for c in std::path::absolute(p)
                            .unwrap_or_else(|_| p.to_owned())
                            .components()
                        {
                            match c {
                                std::path::Component::ParentDir => {
                                    out.pop();
                                }
                                std::path::Component::CurDir => {}
                                other => out.push(other),
                            }
                        }
                        out
                    })
                };
                let inside =
                    |a: &std::path::Path, b: &std::path::Path| full(a).starts_with(full(b));
                if inside(&dir, data_dir) {
                    return Err("the availability key directory must be outside the data directory, whose backups go with the database's".into());
                }
                Ok(AvailabilitySpec::Directory(dir))
            }
            RootKeyKind::Pkcs11 => {
                if c.directory.is_some() {
                    return Err(
                        "the availability key store is a token: `directory` does not go with it"
                            .into(),
                    );
                }
                let module = c
                    .module
                    .clone()
                    .ok_or("the availability key store needs `module`")?;
                let token = c
                    .token
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or("the availability key store needs `token`")?;
                let pin = match (&c.pin_file, &c.pin_env) {
                    (Some(f), None) => PinSource::File(f.clone()),
                    (None, Some(v)) => PinSource::Env(v.clone()),
                    _ => {
                        return Err("the availability key store needs exactly one of `pin_file` and `pin_env` (never the PIN itself)".into());
                    }
                };
                Ok(AvailabilitySpec::Pkcs11 { module, token, pin })
            }
        }
    }

    /// Where the availability key called `name` is.
    pub fn key(&self, name: &str) -> RootKeySpec {
        match self {
            AvailabilitySpec::Directory(dir) => RootKeySpec::File(dir.join(format!("{name}.key"))),
            AvailabilitySpec::Pkcs11 { module, token, pin } => {
                RootKeySpec::Pkcs11(Pkcs11Location {
                    module: module.clone(),
                    token: token.clone(),
                    key: name.to_owned(),
                    pin: pin.clone(),
                })
            }
        }
    }

    /// Where, for operators.
    pub fn describe(&self) -> String {
        match self {
            AvailabilitySpec::Directory(dir) => format!("key files in {}", dir.display()),
            AvailabilitySpec::Pkcs11 { token, .. } => format!("PKCS#11 token {token:?}"),
        }
    }
}
