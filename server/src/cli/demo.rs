//! The demo behind the README's first command: a tenant, Contoso (demo), with a branded default
//! template, and one protected message with an attachment sent to `you@example.net` through the
//! development mailbox. Seeded once per data directory; each run issues a fresh admin token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::admin::{BrandingTemplateView, LocalizedText, SendOptions};
use sealpost_api::mail_flow::{MailFlowRule, RuleAction, RuleCondition, RuleTest};
use zeroize::Zeroizing;

use crate::domain::address::EmailAddress;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::composed::{ComposedAttachment, ComposedMessage};
use crate::services::sending;
use crate::services::tenants::{create_tenant, new_token};
use crate::state::AppState;
use crate::store::StoreError;

/// The demo tenant's domain.
pub const DEMO_DOMAIN: &str = "contoso.example";
/// Who the demo message is for.
pub const DEMO_RECIPIENT: &str = "you@example.net";

/// What the demo set up.
#[derive(Debug)]
pub struct Seeded {
    pub tenant_name: String,
    pub domain: &'static str,
    /// A fresh admin token.
    pub admin_token: Zeroizing<String>,
    /// The demo message's "Read the message" link, read back from its notice in the development
    /// mailbox (the server keeps only a hash of the token).
    pub link: Option<String>,
}

/// Seed the demo if this data directory has none, and issue a token for this run.
pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let now = state.clock.now();
    let tenant = match state.store.tenant_by_domain(DEMO_DOMAIN).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            let (tenant, _) = create_tenant(
                state.store.as_ref(),
                state.keys.as_ref(),
                "Contoso (demo)",
                &[DEMO_DOMAIN.to_owned()],
                now,
            )
            .await?;
            brand(state, &tenant.id, now).await?;
            mail_flow(state, &tenant.id, now).await?;
            let message = welcome_message()?;
            sending::send(state, &tenant, "demo", message, SendOptions::default())
                .await
                .map_err(|e| anyhow::anyhow!("the demo message could not be sent: {e}"))?;
            tenant
        }
        Err(e) => return Err(e.into()),
    };
    let (token, secret, hash) = new_token(&tenant.id, "demo", now)?;
    state.store.create_token(&token, &hash).await?;
    Ok(Seeded {
        tenant_name: tenant.name,
        domain: DEMO_DOMAIN,
        admin_token: secret,
        link: demo_link(state).await?,
    })
}

/// The link in the newest notice to [`DEMO_RECIPIENT`] in the development mailbox.
async fn demo_link(state: &AppState) -> anyhow::Result<Option<String>> {
    let mails = state.store.dev_mailbox_list(200).await?;
    Ok(mails
        .iter()
        .filter(|m| m.to.split(',').any(|t| t.trim() == DEMO_RECIPIENT))
        .find_map(|m| {
            let parsed = mail_parser::MessageParser::default().parse(&m.raw)?;
            let text = parsed.body_text(0)?;
            read_link(&text).map(str::to_owned)
        }))
}

/// The demo's mail flow: the machine itself may send through the SMTP listener, and mail to
/// anyone outside the tenant is sealed.
async fn mail_flow(state: &AppState, tenant_id: &str, now: i64) -> anyhow::Result<()> {
    state
        .store
        .put_connector_networks(tenant_id, &["127.0.0.1/32".to_owned()], now)
        .await?;
    let rule = MailFlowRule {
        name: "Encrypt mail to outside recipients".to_owned(),
        priority: None,
        enabled: true,
        stop_processing: false,
        conditions: vec![RuleCondition {
            test: RuleTest::RecipientInOrganisation,
            negate: true,
        }],
        action: RuleAction::Seal {
            rights_template: None,
            branding_template: None,
            remove_subject_tag: false,
        },
    };
    state
        .store
        .create_mail_flow_rule(tenant_id, &rule, now)
        .await?;
    Ok(())
}

/// The first portal link (`…/m/{id}#t=…`) in a notice's text.
fn read_link(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|w| w.starts_with("http") && w.contains("/m/") && w.contains("#t="))
}

async fn brand(state: &AppState, tenant_id: &str, now: i64) -> anyhow::Result<()> {
    let view = BrandingTemplateView {
        identity: DEFAULT_TEMPLATE.to_owned(),
        introduction_text: Some(LocalizedText::Translated {
            text: "Contoso has sent you a protected message.".to_owned(),
            translations: [("sv".to_owned(), "Contoso har skickat ett skyddat meddelande till dig.".to_owned())]
                .into_iter()
                .collect(),
        }),
        email_text: Some(LocalizedText::Plain(
            "To read it, open the link and ask for a one-time passcode. It is sent to this address.".to_owned(),
        )),
        portal_text: Some(LocalizedText::Plain("Contoso protects mail sent outside the company.".to_owned())),
        background_color: Some("#0a4a8c".to_owned()),
        image_base64: Some(BASE64.encode(include_bytes!("../../../public/demo-logo.png"))),
        disclaimer_text: Some(LocalizedText::Plain(
            "This is a demonstration tenant; nothing here is real.".to_owned(),
        )),
        ..BrandingTemplateView::default()
    };
    let template = crate::domain::branding::BrandingTemplate::validate(view)?;
    state
        .store
        .replace_branding_template(tenant_id, template.view(), now)
        .await?;
    Ok(())
}

fn welcome_message() -> anyhow::Result<ComposedMessage> {
    Ok(ComposedMessage {
        from: EmailAddress::parse("from", "alex@contoso.example")?,
        to: vec![EmailAddress::parse("to", DEMO_RECIPIENT)?],
        cc: vec![],
        display_only: Default::default(),
        subject: "Välkommen – your first protected message".to_owned(),
        text: Some(
            "Hello!\n\nThis message was sealed by Sealpost under its own key. Only you can open it, \
             and only until Contoso removes access.\n\nHälsningar,\nAlex"
                .to_owned(),
        ),
        html: Some(
            "<p>Hello!</p><p>This message was sealed by Sealpost under its own key. Only you can open it, \
             and only until Contoso removes access.</p><p>Hälsningar,<br>Alex</p>"
                .to_owned(),
        ),
        attachments: vec![ComposedAttachment {
            name: "räkning-november.txt".to_owned(),
            content_type: "text/plain".to_owned(),
            content_id: None,
            bytes: "Faktura 2026-11: 1 234,50 kr\n".as_bytes().to_vec(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_read_from_the_notice_text() {
        let text = "Contoso has sent you a protected message.\n\nRead the message:\nhttp://127.0.0.1:8080/m/0123456789abcdef0123456789abcdef#t=spl_abc\n\nSent securely…";
        assert_eq!(
            read_link(text),
            Some("http://127.0.0.1:8080/m/0123456789abcdef0123456789abcdef#t=spl_abc")
        );
        assert_eq!(read_link("see https://example.com/m/ for more"), None);
    }
}
