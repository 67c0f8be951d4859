//! Where a decrypted attachment goes when it is saved: straight to a file the person chose (the
//! File System Access API, Chromium's), or through the portal's download worker as a browser
//! download (a same-origin service worker answering `/dl/<id>` with a stream, in Firefox and
//! Safari), either way window by window, so memory holds a window or two whatever the size; or,
//! for small files and browsers with neither, into a `Blob` below [`MEMORY_CAP`].
//!
//! Each sink takes a window's plaintext and answers with a promise that settles when it wants the
//! next one, so decryption never runs ahead of the disk. A save that stops (a revocation, the
//! key wiped, a failed window) is aborted: the file's unfinished write is discarded and the file
//! removed where the browser allows it, and the browser download fails and is removed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::reading::Plain;

/// Attachments up to this size are decrypted into memory and saved from a `Blob`, whatever the
/// browser: quick, and no file picker for a small file.
pub const IN_MEMORY_MAX: u64 = 16 * 1024 * 1024;

/// The largest attachment saved through memory where the browser can stream to disk neither way.
pub const MEMORY_CAP: u64 = 512 * 1024 * 1024;

/// The scope and script of the download worker.
const WORKER_SCRIPT: &str = "/download-worker.js";
const WORKER_SCOPE: &str = "/dl/";

fn get(obj: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(obj, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Call `obj.name(...args)`.
fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = get(obj, name)
        .ok_or_else(|| JsValue::from_str(name))?
        .dyn_into()?;
    f.apply(obj, &args.iter().collect::<js_sys::Array>())
}

/// Call `obj.name(...args)` and await the promise it returns.
async fn call_async(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let promise: js_sys::Promise = call(obj, name, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// A promise settled after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// How this browser can save a large file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `showSaveFilePicker`: straight into the file the person picks.
    FilePicker,
    /// The download worker: a browser download fed window by window.
    Worker,
    /// Neither: a `Blob`, up to [`MEMORY_CAP`].
    Memory,
}

impl Way {
    /// The best way this page has for a file of `size` bytes.
    pub fn for_size(size: u64) -> Way {
        let Some(window) = web_sys::window() else {
            return Way::Memory;
        };
        if size <= IN_MEMORY_MAX {
            Way::Memory
        } else if get(&window, "showSaveFilePicker").is_some() {
            Way::FilePicker
        } else if get(&window.navigator(), "serviceWorker").is_some() {
            Way::Worker
        } else {
            Way::Memory
        }
    }
}

/// Why a save did not begin or did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveFailure {
    /// The person closed the file picker, or cancelled the download: nothing to say.
    Cancelled,
    /// The browser would not write: the message says what.
    Failed(String),
}

fn failed(what: &str, e: &JsValue) -> SaveFailure {
    let why = get(e, "message")
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_default();
    SaveFailure::Failed(format!("{what}: {why}"))
}

/// A file being written window by window.
pub enum Sink {
    /// A file from `showSaveFilePicker`.
    File { handle: JsValue, writable: JsValue },
    /// A download fed through the worker.
    Worker(WorkerFeed),
}

/// The page's end of a download through the worker: each `pull` from the worker is a credit for
/// one window; a `cancel` means the person cancelled it in the browser.
pub struct WorkerFeed {
    port: web_sys::MessagePort,
    credits: Rc<Cell<u32>>,
    cancelled: Rc<Cell<bool>>,
    waiting: Rc<RefCell<Option<js_sys::Function>>>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    /// The `keepalive` sent to the worker every 10 s while the download runs.
    keepalive: i32,
    _ping: Closure<dyn FnMut()>,
}

impl Drop for WorkerFeed {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_interval_with_handle(self.keepalive);
        }
    }
}

impl WorkerFeed {
    /// A promise settled when the worker wants the next window (at once if it already asked),
    /// rejected if the download was cancelled.
    fn next_pull(&self) -> js_sys::Promise {
        if self.cancelled.get() {
            return js_sys::Promise::reject(&JsValue::from_str("cancelled"));
        }
        if self.credits.get() > 0 {
            self.credits.set(self.credits.get() - 1);
            return js_sys::Promise::resolve(&JsValue::UNDEFINED);
        }
        let waiting = self.waiting.clone();
        let credits = self.credits.clone();
        js_sys::Promise::new(&mut |resolve, _| {
            // Taken by the next `pull`, which then spends its credit here.
            credits.set(0);
            *waiting.borrow_mut() = Some(resolve);
        })
    }
}

impl Sink {
    /// Begin a save of `name` (`size` bytes) the way `way` says. The file picker must be asked
    /// first thing after the click, while the click still counts as the person's.
    pub async fn begin(way: Way, name: &str, size: u64) -> Result<Sink, SaveFailure> {
        let window = web_sys::window().ok_or(SaveFailure::Cancelled)?;
        match way {
            Way::FilePicker => {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"suggestedName".into(), &name.into());
                let handle =
                    match call_async(&window, "showSaveFilePicker", &[options.into()]).await {
                        Ok(h) => h,
                        Err(e)
                            if get(&e, "name").and_then(|n| n.as_string()).as_deref()
                                == Some("AbortError") =>
                        {
                            return Err(SaveFailure::Cancelled);
                        }
                        Err(e) => return Err(failed("the file could not be chosen", &e)),
                    };
                let writable = call_async(&handle, "createWritable", &[])
                    .await
                    .map_err(|e| failed("the file could not be opened for writing", &e))?;
                Ok(Sink::File { handle, writable })
            }
            Way::Worker => Ok(Sink::Worker(worker_feed(&window, name, size).await?)),
            Way::Memory => Err(SaveFailure::Failed("not a streaming save".into())),
        }
    }

    /// Hand on one window; the promise settles when the next one is wanted.
    pub fn write(&self, plain: &Plain<'_>) -> js_sys::Promise {
        match self {
            Sink::File { writable, .. } => {
                // One buffer for the window: a `Blob` would sit in the browser's blob storage
                // until the page's garbage collector lets it go.
                let window = match plain {
                    Plain::Wasm(bytes) => js_sys::Uint8Array::from(*bytes),
                    Plain::Js(buffers) => {
                        let views: Vec<js_sys::Uint8Array> = buffers
                            .iter()
                            .map(|b| js_sys::Uint8Array::new(&b))
                            .collect();
                        let len: u32 = views.iter().map(js_sys::Uint8Array::length).sum();
                        let window = js_sys::Uint8Array::new_with_length(len);
                        let mut at = 0;
                        for v in &views {
                            window.set(v, at);
                            at += v.length();
                        }
                        window
                    }
                };
                match call(writable, "write", &[window.into()]).and_then(|p| p.dyn_into()) {
                    Ok(p) => p,
                    Err(e) => js_sys::Promise::reject(&e),
                }
            }
            Sink::Worker(feed) => {
                let chunks = js_sys::Array::new();
                match plain {
                    Plain::Wasm(bytes) => {
                        chunks.push(&js_sys::Uint8Array::from(*bytes).buffer());
                    }
                    Plain::Js(buffers) => {
                        for b in buffers.iter() {
                            chunks.push(&b);
                        }
                    }
                }
                let message = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&message, &"chunks".into(), &chunks);
                // The buffers move to the worker: nothing of the window stays here.
                if let Err(e) = feed.port.post_message_with_transferable(&message, &chunks) {
                    return js_sys::Promise::reject(&e);
                }
                feed.next_pull()
            }
        }
    }

    /// Wait until the sink wants its first window.
    pub async fn ready(&self) -> Result<(), SaveFailure> {
        if let Sink::Worker(feed) = self {
            JsFuture::from(feed.next_pull())
                .await
                .map_err(|_| SaveFailure::Cancelled)?;
        }
        Ok(())
    }

    /// Every window was written: finish the file.
    pub async fn finish(self) -> Result<(), SaveFailure> {
        match self {
            Sink::File { writable, .. } => call_async(&writable, "close", &[])
                .await
                .map(|_| ())
                .map_err(|e| failed("the file could not be finished", &e)),
            Sink::Worker(feed) => {
                let message = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&message, &"done".into(), &JsValue::TRUE);
                feed.port
                    .post_message(&message)
                    .map_err(|e| failed("the download could not be finished", &e))
            }
        }
    }

    /// Stop: discard what was written where the browser allows it.
    pub async fn abort(self) {
        match self {
            Sink::File { handle, writable } => {
                let _ = call_async(&writable, "abort", &[]).await;
                // Chromium removes the chosen file too; elsewhere it stays empty.
                let _ = call_async(&handle, "remove", &[]).await;
            }
            Sink::Worker(feed) => {
                let message = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&message, &"error".into(), &"stopped".into());
                let _ = feed.port.post_message(&message);
            }
        }
    }
}

/// Register the download worker (once; the browser keeps it), announce the download, and start
/// it with a hidden frame on `/dl/<id>`, which the worker answers.
async fn worker_feed(
    window: &web_sys::Window,
    name: &str,
    size: u64,
) -> Result<WorkerFeed, SaveFailure> {
    let container = get(&window.navigator(), "serviceWorker").ok_or(SaveFailure::Cancelled)?;
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"scope".into(), &WORKER_SCOPE.into());
    let registration = call_async(
        &container,
        "register",
        &[WORKER_SCRIPT.into(), options.into()],
    )
    .await
    .map_err(|e| failed("the download worker could not start", &e))?;
    // Wait for it to be active (the first time, it installs).
    let mut active = None;
    for _ in 0..100 {
        if let Some(worker) = get(&registration, "active") {
            active = Some(worker);
            break;
        }
        sleep(50).await;
    }
    let worker =
        active.ok_or_else(|| SaveFailure::Failed("the download worker did not start".into()))?;
    let channel = web_sys::MessageChannel::new().map_err(|e| failed("no message channel", &e))?;
    let credits = Rc::new(Cell::new(0));
    let cancelled = Rc::new(Cell::new(false));
    let waiting: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
    let ready: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
    let on_message = {
        let (credits, cancelled, waiting, ready) = (
            credits.clone(),
            cancelled.clone(),
            waiting.clone(),
            ready.clone(),
        );
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let data = e.data();
            if get(&data, "ready").is_some() {
                if let Some(f) = ready.borrow_mut().take() {
                    let _ = f.call0(&JsValue::UNDEFINED);
                }
            } else if get(&data, "pull").is_some() {
                match waiting.borrow_mut().take() {
                    Some(resolve) => {
                        let _ = resolve.call0(&JsValue::UNDEFINED);
                    }
                    None => credits.set(credits.get() + 1),
                }
            } else if get(&data, "cancel").is_some() {
                cancelled.set(true);
                // A waiting window learns of it from the next promise; wake it now.
                if let Some(resolve) = waiting.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
        })
    };
    let port = channel.port1();
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let id = random_id();
    let announced = js_sys::Promise::new(&mut |resolve, _| {
        *ready.borrow_mut() = Some(resolve);
    });
    let message = js_sys::Object::new();
    for (k, v) in [
        ("type", JsValue::from_str("download")),
        ("id", JsValue::from_str(&id)),
        ("name", JsValue::from_str(name)),
        ("size", JsValue::from_f64(size as f64)),
    ] {
        let _ = js_sys::Reflect::set(&message, &k.into(), &v);
    }
    let transfer = js_sys::Array::of1(&channel.port2());
    call(&worker, "postMessage", &[message.into(), transfer.into()])
        .map_err(|e| failed("the download worker could not be reached", &e))?;
    JsFuture::from(announced)
        .await
        .map_err(|e| failed("the download worker did not answer", &e))?;
    let document = window.document().ok_or(SaveFailure::Cancelled)?;
    let frame: web_sys::HtmlIFrameElement = document
        .create_element("iframe")
        .map_err(|e| failed("no frame", &e))?
        .unchecked_into();
    frame.set_hidden(true);
    frame.set_src(&format!("{WORKER_SCOPE}{id}"));
    if let Some(body) = document.body() {
        let _ = body.append_child(&frame);
    }
    let ping = Closure::<dyn FnMut()>::new(move || {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &"keepalive".into());
        let _ = call(&worker, "postMessage", &[message.into()]);
    });
    let keepalive = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            ping.as_ref().unchecked_ref(),
            10_000,
        )
        .unwrap_or(0);
    Ok(WorkerFeed {
        port,
        credits,
        cancelled,
        waiting,
        _on_message: on_message,
        keepalive,
        _ping: ping,
    })
}

/// 128 random bits, hex: the download's name in the worker.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| get(&w, "crypto")) {
        let view = js_sys::Uint8Array::new_with_length(16);
        if call(&crypto, "getRandomValues", &[view.clone().into()]).is_ok() {
            view.copy_to(&mut bytes);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
