//! Where this tab keeps the released key: one [`Vault`] in WebAssembly memory, never in a signal,
//! the DOM or storage. Replacing or wiping it drops the old one, which zeroizes the key.

use std::cell::RefCell;

use crate::opening::Vault;
use crate::reading::Keys;

thread_local! {
    static WIPES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static VAULT: RefCell<Option<Vault>> = const { RefCell::new(None) };
    static OBJECT_URLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// How many times the tab has wiped so far; read before asking for a key, give to [`install`].
pub fn generation() -> u64 {
    WIPES.with(std::cell::Cell::get)
}

/// Keep `vault` (the previous key, if any, is zeroized) — unless the tab wiped since `generation`
/// was read (a sign-out or revocation while the key was on its way): then it is dropped at once.
pub fn install(vault: Vault, generation: u64) -> bool {
    if WIPES.with(std::cell::Cell::get) != generation {
        return false;
    }
    VAULT.with(|v| *v.borrow_mut() = Some(vault));
    true
}

/// Use the key, if this tab still holds one.
pub fn with<R>(f: impl FnOnce(&Vault) -> R) -> Option<R> {
    VAULT.with(|v| v.borrow().as_ref().map(f))
}

/// The tab's keyring, for [`crate::reading`].
#[derive(Debug, Clone, Copy)]
pub struct Tab;

impl Keys for Tab {
    fn with<R>(&self, f: impl FnOnce(&Vault) -> R) -> Option<R> {
        with(f)
    }
}

/// Remember a `blob:` URL of decrypted content, so [`wipe`] can revoke it.
pub fn remember_url(url: String) {
    OBJECT_URLS.with(|u| u.borrow_mut().push(url));
}

/// Zeroize the key and revoke every `blob:` URL of decrypted content.
pub fn wipe() {
    WIPES.with(|w| w.set(w.get() + 1));
    VAULT.with(|v| v.borrow_mut().take());
    let urls = OBJECT_URLS.with(|u| std::mem::take(&mut *u.borrow_mut()));
    for url in urls {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}
