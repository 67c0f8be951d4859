//! The browser's WebAuthn, for passkeys: the server's options go in as WebAuthn's JSON forms
//! (`PublicKeyCredential.parseCreationOptionsFromJSON` / `…parseRequestOptionsFromJSON`) and the
//! credential comes back as its `toJSON()`. Pages without those (older browsers) are not offered
//! passkeys at all.

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn function(target: &JsValue, name: &str) -> Option<Function> {
    get(target, name).and_then(|f| f.dyn_into::<Function>().ok())
}

fn class() -> Option<JsValue> {
    get(&js_sys::global(), "PublicKeyCredential")
}

/// Whether this browser can make and use passkeys the way the portal asks.
pub fn supported() -> bool {
    class().is_some_and(|c| {
        function(&c, "parseCreationOptionsFromJSON").is_some()
            && function(&c, "parseRequestOptionsFromJSON").is_some()
    }) && web_sys::window()
        .and_then(|w| get(&w.navigator(), "credentials"))
        .is_some()
}

/// Why a ceremony did not give a credential (the person cancelled, or the browser refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDone(pub String);

fn not_done(e: JsValue) -> NotDone {
    NotDone(
        get(&e, "name")
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "Error".to_owned()),
    )
}

async fn ceremony(
    options: &serde_json::Value,
    parse: &str,
    call: &str,
) -> Result<serde_json::Value, NotDone> {
    let missing = || NotDone("NotSupportedError".to_owned());
    let class = class().ok_or_else(missing)?;
    let parse = function(&class, parse).ok_or_else(missing)?;
    let text = serde_json::to_string(options).map_err(|_| missing())?;
    let parsed_json = JSON::parse(&text).map_err(not_done)?;
    let public_key = get(&parsed_json, "publicKey").ok_or_else(missing)?;
    let public_key = parse.call1(&class, &public_key).map_err(not_done)?;
    let request = Object::new();
    Reflect::set(&request, &JsValue::from_str("publicKey"), &public_key).map_err(not_done)?;
    let credentials = web_sys::window()
        .and_then(|w| get(&w.navigator(), "credentials"))
        .ok_or_else(missing)?;
    let call = function(&credentials, call).ok_or_else(missing)?;
    let promise: Promise = call
        .call1(&credentials, &request)
        .map_err(not_done)?
        .dyn_into()
        .map_err(not_done)?;
    let credential = JsFuture::from(promise).await.map_err(not_done)?;
    let to_json = function(&credential, "toJSON").ok_or_else(missing)?;
    let json = to_json.call0(&credential).map_err(not_done)?;
    let text = JSON::stringify(&json)
        .map_err(not_done)?
        .as_string()
        .ok_or_else(missing)?;
    serde_json::from_str(&text).map_err(|_| missing())
}

/// Make a passkey with the server's creation options.
pub async fn create(options: &serde_json::Value) -> Result<serde_json::Value, NotDone> {
    ceremony(options, "parseCreationOptionsFromJSON", "create").await
}

/// Sign with a passkey for the server's request options.
pub async fn sign(options: &serde_json::Value) -> Result<serde_json::Value, NotDone> {
    ceremony(options, "parseRequestOptionsFromJSON", "get").await
}
