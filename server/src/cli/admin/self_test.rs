//! `sealpost self-test --sender --recipient` (`Test-IRMConfiguration`): the server seals, stores,
//! reads back and releases a test message; this side plays the recipient's browser — it made the
//! key pair, opens the release, and opens the manifest and body with the same envelope code the
//! portal runs. Prints each step and `OVERALL RESULT: PASS` or `FAIL` with the reason.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sealpost_api::admin::{SelfTestRequest, SelfTestResponse, SelfTestStepView};
use sealpost_envelope::{
    MessageId, Part, RecipientKeyPair, ReleaseBinding, open_manifest, open_part,
};
use serde::Serialize;

use super::client::{Body, Client, Failure};
use crate::secrets::new_id;

/// What the self-test found, as printed with `--json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Every step, the server's and this side's.
    pub steps: Vec<SelfTestStepView>,
    /// `PASS` or `FAIL`.
    pub overall: &'static str,
    /// Why it failed (the first failed step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Report {
    /// The report as people read it.
    pub fn human(&self) -> String {
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for s in &self.steps {
            out.push_str(&format!(
                "{:width$} : {}  {}\n",
                s.name,
                if s.ok { "PASS" } else { "FAIL" },
                s.detail
            ));
        }
        out.push_str(&format!("OVERALL RESULT: {}", self.overall));
        if let Some(reason) = &self.reason {
            out.push_str(&format!(" ({reason})"));
        }
        out.push('\n');
        out
    }
}

fn step(name: &str, outcome: Result<String, String>) -> SelfTestStepView {
    let (ok, detail) = match outcome {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    SelfTestStepView {
        name: name.to_owned(),
        ok,
        detail,
    }
}

/// Run the whole self-test against the server `client` talks to.
pub fn run(client: &Client, sender: &str, recipient: &str) -> Result<Report, Failure> {
    let mut steps = Vec::new();
    let health = client.health();
    let reachable = health.is_ok();
    steps.push(step(
        "Server",
        health
            .map(|h| format!("Sealpost {} is up", h.version))
            .map_err(|e| e.to_string()),
    ));
    if !reachable {
        return Ok(judge(steps));
    }
    let pair = RecipientKeyPair::generate();
    let nonce = new_id();
    let request = SelfTestRequest {
        sender: sender.to_owned(),
        recipient: recipient.to_owned(),
        public_key: BASE64URL.encode(pair.public_key()),
        nonce: nonce.clone(),
    };
    let answer: SelfTestResponse = client
        .call(
            ureq::http::Method::POST,
            "/self-test",
            Body::json(&request)?,
        )?
        .parse()?;
    steps.extend(answer.steps.iter().cloned());
    if let (Some(release), Some(manifest), Some(body)) =
        (&answer.release, &answer.manifest, &answer.body)
    {
        steps.push(step(
            "Open",
            open(&pair, &answer, recipient, release, manifest, body, &nonce),
        ));
    } else if steps.iter().all(|s| s.ok) {
        steps.push(step(
            "Open",
            Err("the server sent no key release to open".to_owned()),
        ));
    }
    Ok(judge(steps))
}

fn open(
    pair: &RecipientKeyPair,
    answer: &SelfTestResponse,
    recipient: &str,
    release: &str,
    manifest: &str,
    body: &str,
    nonce: &str,
) -> Result<String, String> {
    let decode = |what: &str, s: &str| {
        BASE64URL
            .decode(s)
            .map_err(|_| format!("the server's {what} is not base64url"))
    };
    let id = MessageId::parse(&answer.message_id)
        .map_err(|_| "the server's message id is not valid".to_owned())?;
    let key = pair
        .open_release(
            &decode("key release", release)?,
            &ReleaseBinding {
                message_id: &id,
                recipient,
                session: answer.binding.as_bytes(),
            },
        )
        .map_err(|e| format!("the key release does not open with this side's key: {e}"))?;
    let manifest = open_manifest(&key, &id, &decode("manifest", manifest)?)
        .map_err(|e| format!("the manifest does not open: {e}"))?;
    if manifest.to != [recipient] {
        return Err(format!(
            "the manifest names {:?} as recipients, not {recipient}",
            manifest.to
        ));
    }
    let text = open_part(&key, &id, Part::Body(0), &decode("body", body)?)
        .map_err(|e| format!("the body does not open: {e}"))?;
    if !String::from_utf8_lossy(&text).contains(nonce) {
        return Err("the body opened but is not the message this test sent".to_owned());
    }
    Ok(format!(
        "the release, manifest (\"{}\") and body opened here, as a recipient's browser opens them",
        manifest.subject
    ))
}

fn judge(steps: Vec<SelfTestStepView>) -> Report {
    let reason = steps
        .iter()
        .find(|s| !s.ok)
        .map(|s| format!("{}: {}", s.name, s.detail));
    Report {
        overall: if reason.is_none() { "PASS" } else { "FAIL" },
        reason,
        steps,
    }
}
