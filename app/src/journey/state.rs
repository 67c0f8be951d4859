//! The portal's shared state: one set of signals, given to every component by context.

use std::sync::Arc;

use leptos::prelude::*;
use sealpost_api::recipient::{LinkView, PortalBranding, SessionView};
use sealpost_envelope::Manifest;

use crate::i18n::{Lang, Texts};
use crate::logic::actions::Allowed;
use crate::logic::stop::Stop;

/// The body as decrypted.
#[derive(Debug, Clone)]
pub enum Body {
    /// `text/plain`.
    Text(String),
    /// `text/html`, not yet sanitised (the frame sanitises it with the browser's parser), with the
    /// inline images it refers to by `cid:` as `data:` URLs.
    Html {
        html: String,
        inline_images: Vec<(String, String)>,
    },
}

/// A message open on the page.
#[derive(Debug)]
pub struct Letter {
    pub session: SessionView,
    pub manifest: Manifest,
    pub body: Body,
    pub allowed: Allowed,
    /// How long the page may keep the key before asking again.
    pub lease_seconds: u32,
    /// Attachments shown inside the HTML body (by `cid:`), so not listed again.
    pub inlined: Vec<usize>,
}

/// A passcode the page asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSent {
    pub reference: String,
    pub sent_at_ms: f64,
}

/// What the page shows.
#[derive(Debug, Clone)]
pub enum Screen {
    /// The portal's front page, reached without a message link.
    Home,
    Loading,
    Intro,
    Code(CodeSent),
    Opening,
    Reading(Arc<Letter>),
    Stopped(Stop),
}

/// Every signal the components share.
#[derive(Debug, Clone, Copy)]
pub struct Portal {
    pub lang: RwSignal<Lang>,
    pub link: RwSignal<Option<LinkView>>,
    pub screen: RwSignal<Screen>,
    pub message_id: StoredValue<String>,
    pub token: StoredValue<Option<String>>,
    /// A refusal code to explain on the sign-in page (a sign-in that came back refused, or a
    /// passkey that did not sign in).
    pub sign_in_problem: RwSignal<Option<String>>,
}

impl Portal {
    /// The portal from context. `App` provides it before any component runs, so its absence is a
    /// bug in the page, not a state to carry on from.
    pub fn get() -> Portal {
        expect_context::<Portal>()
    }

    /// Fresh state for `message_id`.
    pub fn new(lang: Lang, message_id: String, token: Option<String>) -> Portal {
        Portal {
            lang: RwSignal::new(lang),
            link: RwSignal::new(None),
            screen: RwSignal::new(Screen::Loading),
            message_id: StoredValue::new(message_id),
            token: StoredValue::new(token),
            sign_in_problem: RwSignal::new(None),
        }
    }

    /// The words in the current language (reactive).
    pub fn t(&self) -> &'static Texts {
        self.lang.get().texts()
    }

    /// The branding, once known (reactive).
    pub fn branding(&self) -> Option<PortalBranding> {
        self.link.with(|l| l.as_ref().map(|l| l.branding.clone()))
    }

    /// When access to the message ends (RFC 3339), if known; not reactive.
    pub fn expires_at(&self) -> Option<String> {
        self.link
            .with_untracked(|l| l.as_ref().and_then(|l| l.expires_at.clone()))
    }

    /// The message id.
    pub fn id(&self) -> String {
        self.message_id.get_value()
    }
}
