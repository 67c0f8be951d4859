//! Mail flow: rules (`*-TransportRule`), the inbound connector (`*-InboundConnector`), the queue,
//! and the simulation that says what the SMTP listener would do with a message.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_api::mail_flow::{
    InboundConnectorRequest, InboundConnectorView, MailFlowRule, MailFlowRulesView, MailQueueView,
    QueuedMailView, RuleAction, SimulatedRecipient, SimulationQuery, SimulationView,
    SmtpPasswordResponse,
};

use super::Admin;
use crate::clock::rfc3339;
use crate::domain::ValidationError;
use crate::domain::address::EmailAddress;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::mail_rules::{self, MAX_RULES, Outcome};
use crate::domain::networks::Network;
use crate::domain::rights::ENCRYPT;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, from_json_value, query_from_uri};
use crate::secrets::new_secret;
use crate::services::mail_flow;
use crate::state::AppState;
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail-flow/rules", get(list).post(create))
        .route(
            "/mail-flow/rules/{name}",
            get(show).put(replace).delete(remove),
        )
        .route("/mail-flow/simulate", post(simulate))
        .route("/mail-flow/connector", get(connector).put(set_connector))
        .route(
            "/mail-flow/connector/password",
            post(new_password).delete(remove_password),
        )
        .route("/mail-flow/queue", get(queue))
}

/// A rule from its JSON. Serde would take a number for a `kind` (the variant's index); a kind is
/// one of the names, so anything else is refused first.
fn rule_from(body: serde_json::Value) -> Result<MailFlowRule, ApiError> {
    let conditions = body["conditions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let kinds = conditions
        .iter()
        .map(|c| &c["kind"])
        .chain([&body["action"]["kind"]]);
    for kind in kinds {
        if !(kind.is_string() || kind.is_null()) {
            return Err(ApiError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!(
                    "The request body is not valid: a kind is a name, like \"seal\", not {kind}."
                ),
            ));
        }
    }
    from_json_value(body)
}

/// Validate a rule and check its templates exist.
async fn check(state: &AppState, admin: &Admin, rule: &MailFlowRule) -> Result<(), ApiError> {
    mail_rules::validate(rule)?;
    if let RuleAction::Seal {
        rights_template,
        branding_template,
        ..
    } = &rule.action
    {
        let rights = rights_template.as_deref().unwrap_or(ENCRYPT);
        let branding = branding_template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
        if let Some(missing) =
            mail_flow::missing_template(state, &admin.tenant.id, rights, branding).await?
        {
            // A template the rule names is not there: a conflict with the tenant's templates.
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                missing.code,
                missing.message,
            ));
        }
    }
    Ok(())
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<MailFlowRulesView>, ApiError> {
    let rules = state.store.mail_flow_rules(&admin.tenant.id).await?;
    Ok(Json(MailFlowRulesView { rules }))
}

async fn find(state: &AppState, admin: &Admin, name: &str) -> Result<MailFlowRule, ApiError> {
    state
        .store
        .mail_flow_rules(&admin.tenant.id)
        .await?
        .into_iter()
        .find(|r| r.name.trim().eq_ignore_ascii_case(name.trim()))
        .ok_or(ApiError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<MailFlowRule>, ApiError> {
    Ok(Json(find(&state, &admin, &name).await?))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<MailFlowRule>), ApiError> {
    let mut rule = rule_from(body)?;
    check(&state, &admin, &rule).await?;
    rule.name = rule.name.trim().to_owned();
    if state.store.mail_flow_rules(&admin.tenant.id).await?.len() >= MAX_RULES {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "too_many_rules",
            format!("A tenant may have at most {MAX_RULES} mail flow rules."),
        ));
    }
    match state
        .store
        .create_mail_flow_rule(&admin.tenant.id, &rule, state.clock.now())
        .await
    {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "rule_exists",
                format!("There is already a rule called {:?}.", rule.name),
            ));
        }
        other => other?,
    }
    admin
        .audit(&state, "mail_flow.rule_created", &rule.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(find(&state, &admin, &rule.name).await?),
    ))
}

async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<MailFlowRule>, ApiError> {
    let mut rule = rule_from(body)?;
    let existing = find(&state, &admin, &name).await?;
    if !rule.name.trim().eq_ignore_ascii_case(name.trim()) {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "name_immutable",
            "A rule's name cannot be changed; create a new rule instead.",
        ));
    }
    check(&state, &admin, &rule).await?;
    rule.name = existing.name;
    state
        .store
        .replace_mail_flow_rule(&admin.tenant.id, &rule, state.clock.now())
        .await?;
    admin
        .audit(&state, "mail_flow.rule_changed", &rule.name)
        .await?;
    Ok(Json(find(&state, &admin, &rule.name).await?))
}

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = find(&state, &admin, &name).await?;
    state
        .store
        .delete_mail_flow_rule(&admin.tenant.id, &existing.name)
        .await?;
    admin
        .audit(&state, "mail_flow.rule_removed", &existing.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn header_envelope(raw: &[u8]) -> (Option<String>, Vec<String>) {
    let Some(m) = crate::mail::parse::headers(raw) else {
        return (None, Vec::new());
    };
    let list = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    let from = list(m.from()).into_iter().next();
    let mut to = list(m.to());
    to.extend(list(m.cc()));
    to.extend(list(m.bcc()));
    (from, to)
}

async fn simulate(
    State(state): State<AppState>,
    admin: Admin,
    req: Request,
) -> Result<Json<SimulationView>, ApiError> {
    let envelope: SimulationQuery = query_from_uri(req.uri())?;
    let limit = state.config.smtp_listen_max_size;
    let raw: Bytes = axum::body::to_bytes(
        req.into_body(),
        usize::try_from(limit).unwrap_or(usize::MAX),
    )
    .await
    .map_err(|_| {
        ApiError::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_large",
            format!("The SMTP listener accepts at most {limit} bytes."),
        )
    })?;
    if raw.is_empty() {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "empty_body",
            "Send the message to simulate as the body (message/rfc822).",
        ));
    }
    let (header_from, header_to) = header_envelope(&raw);
    let from = envelope.mail_from.or(header_from);
    let mail_from = match from.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(EmailAddress::parse("mail_from", f)?),
        None => None,
    };
    let rcpts: Vec<String> = match envelope.rcpt {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => header_to,
    };
    let mut recipients = Vec::new();
    for (i, r) in rcpts.iter().enumerate() {
        let a = EmailAddress::parse(&format!("rcpt[{i}]"), r)?;
        if !recipients.contains(&a) {
            recipients.push(a);
        }
    }
    if recipients.is_empty() {
        return Err(ValidationError::new(
            "rcpt",
            "no_recipients",
            "Give recipients with ?rcpt=a@example.com,b@example.com, or To/Cc/Bcc headers.",
        )
        .into());
    }
    let assessment =
        mail_flow::assess(&state, &admin.tenant, mail_from.as_ref(), &recipients, &raw).await;
    let accepted = assessment.reply.is_positive();
    let reply = if accepted {
        "250 2.0.0 Queued".to_owned()
    } else {
        assessment.reply.to_string()
    };
    let recipients = if assessment.routings.is_empty() {
        recipients
            .iter()
            .map(|a| SimulatedRecipient {
                address: a.to_string(),
                inside_organisation: a.is_in(&admin.tenant.domains),
                rule: None,
                matched_rules: Vec::new(),
                action: "reject".to_owned(),
                rights_template: None,
                branding_template: None,
                delivered_as: "nothing".to_owned(),
            })
            .collect()
    } else {
        assessment
            .routings
            .iter()
            .map(|r| {
                let (rights, branding) = match &r.outcome {
                    Outcome::Seal {
                        rights_template,
                        branding_template,
                        ..
                    } => (
                        Some(
                            rights_template
                                .clone()
                                .unwrap_or_else(|| ENCRYPT.to_owned()),
                        ),
                        Some(
                            branding_template
                                .clone()
                                .unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned()),
                        ),
                    ),
                    _ => (None, None),
                };
                let delivered_as = match (&r.outcome, accepted, r.inside) {
                    (_, false, _) => "nothing",
                    (Outcome::Seal { .. }, true, false) => "notice",
                    _ => "original",
                };
                SimulatedRecipient {
                    address: r.address.to_string(),
                    inside_organisation: r.inside,
                    rule: r.rule.clone(),
                    matched_rules: r.matched.clone(),
                    action: r.outcome.name().to_owned(),
                    rights_template: rights,
                    branding_template: branding,
                    delivered_as: delivered_as.to_owned(),
                }
            })
            .collect()
    };
    Ok(Json(SimulationView {
        verdict: if accepted { "accepted" } else { "rejected" }.to_owned(),
        smtp_reply: reply,
        recipients,
    }))
}

async fn connector_view(state: &AppState, admin: &Admin) -> Result<InboundConnectorView, ApiError> {
    let c = state.store.connector(&admin.tenant.id).await?;
    Ok(InboundConnectorView {
        remote_addresses: c.remote_addresses,
        smtp_auth_username: c.auth_username,
    })
}

async fn connector(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<InboundConnectorView>, ApiError> {
    Ok(Json(connector_view(&state, &admin).await?))
}

async fn set_connector(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<InboundConnectorRequest>,
) -> Result<Json<InboundConnectorView>, ApiError> {
    if req.remote_addresses.len() > 100 {
        return Err(ValidationError::new(
            "remote_addresses",
            "too_many_values",
            "List at most 100 addresses or networks.",
        )
        .into());
    }
    let networks = req
        .remote_addresses
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let field = format!("remote_addresses[{i}]");
            let network = Network::parse(&field, n)?;
            if network.is_broad() && !state.config.connector_allow_broad_networks {
                return Err(ValidationError::new(
                    field,
                    "network_too_broad",
                    format!(
                        "{network} is wider than /16 (IPv4) or /48 (IPv6): list your mail servers' own addresses or networks. The operator can allow wider networks."
                    ),
                ));
            }
            Ok(network.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    state
        .store
        .put_connector_networks(&admin.tenant.id, &networks, state.clock.now())
        .await?;
    admin
        .audit(&state, "mail_flow.connector_changed", &networks.join(" "))
        .await?;
    Ok(Json(connector_view(&state, &admin).await?))
}

/// Prefix of SMTP AUTH passwords.
const PASSWORD_PREFIX: &str = "spm_";

async fn new_password(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<(StatusCode, Json<SmtpPasswordResponse>), ApiError> {
    // The user name is the tenant's first domain (it says whose mail server signs in), kept as
    // it was when the password was made.
    let username = admin
        .tenant
        .domains
        .first()
        .map(ToString::to_string)
        .ok_or_else(|| ApiError::Internal("a tenant without domains".to_owned()))?;
    let (secret, hash) = new_secret(PASSWORD_PREFIX);
    state
        .store
        .put_connector_password(&admin.tenant.id, Some((&username, hash)), state.clock.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::refused(
                StatusCode::CONFLICT,
                "username_taken",
                format!("Another tenant's connector already signs in as {username}."),
            ),
            other => other.into(),
        })?;
    admin
        .audit(&state, "mail_flow.smtp_password_set", &username)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SmtpPasswordResponse {
            username,
            password: secret.as_str().to_owned(),
        }),
    ))
}

async fn remove_password(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .put_connector_password(&admin.tenant.id, None, state.clock.now())
        .await?;
    admin
        .audit(&state, "mail_flow.smtp_password_removed", "")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn queue(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<MailQueueView>, ApiError> {
    let entries = state.store.queued_mail(&admin.tenant.id).await?;
    Ok(Json(MailQueueView {
        messages: entries
            .into_iter()
            .map(|e| QueuedMailView {
                id: e.id,
                received_at: rfc3339(e.received_at),
                mail_from: e.mail_from,
                recipients: e.recipients,
                state: e.state,
                attempts: e.attempts,
                next_attempt_at: rfc3339(e.next_attempt_at),
                last_error: e.last_error,
            })
            .collect(),
    }))
}
