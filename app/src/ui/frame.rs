//! An HTML body, sanitised and shown in a sandboxed frame.
//!
//! The browser's own parser reads the HTML into an inert document (`DOMParser` runs no script and
//! loads nothing); [`crate::logic::sanitize`] decides what of it stays; the result is written into
//! a frame whose sandbox allows no script at all. Inline styles are applied through the CSSOM,
//! which the portal's Content-Security-Policy allows, instead of `style` attributes, which it
//! forbids. Remote images and backgrounds are removed and the page says so.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node};

use crate::journey::state::Portal;
use crate::logic::actions::Allowed;
use crate::logic::sanitize::{AttributeAction, ElementAction, attribute, element};

/// The attribute a kept `style` moves to until it is applied through the CSSOM.
const STYLE_MARK: &str = "data-sp-style";

fn clean(parent: &Node, inline: &[(String, String)], blocked: &mut u32) {
    let children = parent.child_nodes();
    let nodes: Vec<Node> = (0..children.length())
        .filter_map(|i| children.item(i))
        .collect();
    for node in nodes {
        match node.node_type() {
            Node::TEXT_NODE => {}
            Node::ELEMENT_NODE => {
                let Ok(el) = node.clone().dyn_into::<Element>() else {
                    let _ = parent.remove_child(&node);
                    continue;
                };
                match element(&el.local_name()) {
                    ElementAction::Drop => {
                        let _ = parent.remove_child(&node);
                    }
                    ElementAction::Unwrap => {
                        clean(&node, inline, blocked);
                        while let Some(child) = node.first_child() {
                            let _ = parent.insert_before(&child, Some(&node));
                        }
                        let _ = parent.remove_child(&node);
                    }
                    ElementAction::Keep => {
                        clean_attributes(&el, inline, blocked);
                        clean(&node, inline, blocked);
                    }
                }
            }
            // Comments, processing instructions, CDATA: nothing a reader needs.
            _ => {
                let _ = parent.remove_child(&node);
            }
        }
    }
}

fn clean_attributes(el: &Element, inline: &[(String, String)], blocked: &mut u32) {
    let tag = el.local_name();
    let names = el.get_attribute_names();
    // What this code writes is set after the loop, so a later attribute of the same name (say
    // `target="_self"` after `href`) cannot remove it again.
    let mut style = None;
    let mut link = false;
    for name in names.iter().filter_map(|n| n.as_string()) {
        let value = el.get_attribute(&name).unwrap_or_default();
        match attribute(&tag, &name, &value) {
            AttributeAction::Keep if name.eq_ignore_ascii_case("style") => {
                let _ = el.remove_attribute(&name);
                style = Some(value);
            }
            AttributeAction::Keep => {}
            AttributeAction::Drop => {
                let _ = el.remove_attribute(&name);
            }
            AttributeAction::Blocked => {
                *blocked += 1;
                let _ = el.remove_attribute(&name);
            }
            AttributeAction::Cid(id) => {
                match inline.iter().find(|(cid, _)| cid.eq_ignore_ascii_case(&id)) {
                    Some((_, data_url)) => {
                        let _ = el.set_attribute(&name, data_url);
                    }
                    None => {
                        let _ = el.remove_attribute(&name);
                    }
                }
            }
            AttributeAction::Link => link = true,
        }
    }
    if let Some(css) = style {
        let _ = el.set_attribute(STYLE_MARK, &css);
    }
    if link {
        let _ = el.set_attribute("target", "_blank");
        let _ = el.set_attribute("rel", "noopener noreferrer");
    }
}

/// Sanitise `html`; returns the body's inner HTML and how many remote references were removed.
fn sanitize(html: &str, inline: &[(String, String)]) -> Option<(String, u32)> {
    let parser = web_sys::DomParser::new().ok()?;
    let doc = parser
        .parse_from_string(html, web_sys::SupportedType::TextHtml)
        .ok()?;
    let body = doc.body()?;
    let mut blocked = 0;
    clean(&body, inline, &mut blocked);
    Some((body.inner_html(), blocked))
}

fn set_style(el: &Element, css: &str) {
    if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
        web_sys::HtmlElement::style(el).set_css_text(css);
    }
}

/// Write the sanitised body into the frame's document and size the frame to it.
fn fill(frame: &web_sys::HtmlIFrameElement, body_html: &str, allowed: Allowed) -> Option<()> {
    let doc: Document = frame.content_document()?;
    let body = doc.body()?;
    body.set_inner_html(body_html);
    let styled = doc.query_selector_all(&format!("[{STYLE_MARK}]")).ok()?;
    for i in 0..styled.length() {
        if let Some(el) = styled.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            let css = el.get_attribute(STYLE_MARK).unwrap_or_default();
            let _ = el.remove_attribute(STYLE_MARK);
            set_style(&el, &css);
        }
    }
    let mut base = String::from(
        "margin:0;padding:4px;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;\
         color:#1b1b1b;background:#fff;overflow-wrap:anywhere;",
    );
    if !allowed.copy {
        base.push_str("user-select:none;-webkit-user-select:none;");
    }
    set_style(&body, &base);
    deter(&doc, allowed);
    resize(frame);
    Some(())
}

/// Events inside the frame do not reach the page's handlers: turn off copying, the context menu
/// (save image, print frame) and dragging there too, as the rights say.
fn deter(doc: &Document, allowed: Allowed) {
    let mut blocked: Vec<&str> = Vec::new();
    if !allowed.copy {
        blocked.extend(["copy", "cut"]);
    }
    if !allowed.copy || !allowed.download || !allowed.print {
        blocked.extend(["contextmenu", "dragstart"]);
    }
    if blocked.is_empty() {
        return;
    }
    let handler =
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
            ev.prevent_default()
        });
    for event in blocked {
        let _ = doc.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    }
    // The frame's document lives as long as the page shows the message; the listener with it.
    handler.forget();
}

fn resize(frame: &web_sys::HtmlIFrameElement) {
    let height = frame
        .content_document()
        .and_then(|d| d.document_element())
        .map(|e| e.scroll_height())
        .unwrap_or(0);
    let _ = web_sys::HtmlElement::style(frame)
        .set_property("height", &format!("{}px", height.clamp(80, 20_000) + 8));
}

/// The sanitised HTML body.
#[component]
pub fn HtmlBody(
    html: String,
    inline_images: Vec<(String, String)>,
    allowed: Allowed,
) -> impl IntoView {
    let portal = Portal::get();
    let frame = NodeRef::<leptos::html::Iframe>::new();
    let blocked = RwSignal::new(0u32);
    let cleaned = sanitize(&html, &inline_images);
    let title = move || portal.t().title;
    Effect::new(move |_| {
        let Some(el) = frame.get() else { return };
        let el: web_sys::HtmlIFrameElement = el;
        if let Some((body, count)) = &cleaned {
            fill(&el, body, allowed);
            blocked.set(*count);
            // Images decode after layout; measure again once they have.
            let later = el.clone();
            set_timeout(
                move || resize(&later),
                std::time::Duration::from_millis(400),
            );
        }
    });
    view! {
        {move || (blocked.get() > 0).then(|| view! {
            <p class="notice" data-testid="remote-blocked">{move || portal.t().remote_blocked}</p>
        })}
        <iframe
            class="body-frame"
            data-testid="body-frame"
            title=title
            node_ref=frame
            sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
            referrerpolicy="no-referrer"
        ></iframe>
    }
}
