//! The OpenAPI document of the admin API (`docs/openapi.json`, served at `/api/openapi.json`).
//!
//! The document is written from the table below, with every schema generated from the wire types
//! themselves (`sealpost-api` with its `openapi` feature), so a field cannot drift. Two tests keep
//! it true: the checked-in file must equal what the table and types give now (regenerate it with
//! `SEALPOST_WRITE_OPENAPI=1 cargo test -p sealpost --test api openapi`), and the routes the
//! server really answers must be exactly the operations the document lists.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use sealpost_api::admin::*;
use sealpost_api::key_policies::*;
use sealpost_api::mail_flow::*;
use sealpost_api::rules;
use sealpost_api::{ErrorBody, HealthResponse};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, body_text, manifest_dir};

/// One operation: method, path under `/api/admin`, the OME cmdlet it answers to, a summary, the
/// request body, the success status and body, and query parameters.
struct Op {
    method: &'static str,
    path: &'static str,
    cmdlet: Option<&'static str>,
    summary: &'static str,
    request: Option<fn(&mut SchemaGenerator) -> Value>,
    status: u16,
    response: Option<fn(&mut SchemaGenerator) -> Value>,
    /// The query string's type: each of its fields is a query parameter.
    query: Option<fn(&mut SchemaGenerator) -> Value>,
    /// Operations this one's answer leads to (OpenAPI links), so a client (or a stateful fuzzer)
    /// can go from what it made to reading, changing and removing it.
    links: &'static [Link],
}

/// An OpenAPI link: the operation (method and path) and how each of its path parameters is
/// taken from this operation's answer or request (a runtime expression).
struct Link {
    method: &'static str,
    path: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

/// The operationId of `method path` (path under `/api/admin`).
fn operation_id(method: &str, path: &str) -> String {
    format!(
        "{method}{}",
        path.replace(['/', '-', '{', '}'], "_")
            .trim_end_matches('_')
    )
}

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

/// A JSON merge patch of a branding template: its fields, none required.
fn merge_patch(g: &mut SchemaGenerator) -> Value {
    s::<BrandingTemplateView>(g);
    let mut v = g.definitions()["BrandingTemplateView"].clone();
    // In a merge patch null removes what it names, at any depth: a text's translations, or one.
    fn nullable_translations(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(t) = o
                    .get_mut("properties")
                    .and_then(|p| p.get_mut("translations"))
                {
                    let each = t["additionalProperties"].take();
                    t["additionalProperties"] = json!({ "anyOf": [each, { "type": "null" }] });
                    *t = json!({ "anyOf": [t.take(), { "type": "null" }] });
                }
                o.values_mut().for_each(nullable_translations);
            }
            Value::Array(a) => a.iter_mut().for_each(nullable_translations),
            _ => {}
        }
    }
    nullable_translations(&mut v);
    let o = v.as_object_mut().unwrap();
    o.remove("required");
    o.insert(
        "description".into(),
        json!("A JSON merge patch (RFC 7396) of the template's fields: a field given replaces, null clears, an absent field stays. `identity` cannot change (given, it must be the template's own)."),
    );
    v
}

const fn op(method: &'static str, path: &'static str, summary: &'static str) -> Op {
    Op {
        method,
        path,
        cmdlet: None,
        summary,
        request: None,
        status: 200,
        response: None,
        query: None,
        links: &[],
    }
}

fn operations() -> Vec<Op> {
    vec![
        Op {
            cmdlet: Some("Get-IRMConfiguration"),
            response: Some(s::<TenantView>),
            ..op(
                "get",
                "/tenant",
                "The tenant this token belongs to, and its settings.",
            )
        },
        Op {
            cmdlet: Some("Set-IRMConfiguration"),
            request: Some(s::<UpdateTenantRequest>),
            response: Some(s::<TenantView>),
            ..op(
                "patch",
                "/tenant",
                "Change the tenant's name, domains (new ones wait for a DNS proof), notice subject or portal tracking logs.",
            )
        },
        Op {
            response: Some(s::<TenantView>),
            ..op(
                "post",
                "/tenant/domains/{domain}/verify",
                "Prove a pending domain: its TXT record must be published; then it is the tenant's.",
            )
        },
        Op {
            response: Some(s::<Vec<DkimKeyView>>),
            query: Some(s::<DkimKeysQuery>),
            ..op(
                "get",
                "/tenant/dkim",
                "The tenant's DKIM keys, each with the exact TXT record to publish.",
            )
        },
        Op {
            request: Some(s::<NewDkimKeyRequest>),
            status: 201,
            response: Some(s::<DkimKeyView>),
            links: &[Link {
                method: "delete",
                path: "/tenant/dkim/{domain}/{selector}",
                parameters: &[
                    ("domain", "$response.body#/domain"),
                    ("selector", "$response.body#/selector"),
                ],
            }],
            ..op(
                "post",
                "/tenant/dkim",
                "Make a DKIM key (ed25519 or rsa) for a proven domain; mail from it is signed with every key it has.",
            )
        },
        Op {
            status: 204,
            ..op(
                "delete",
                "/tenant/dkim/{domain}/{selector}",
                "Remove a DKIM key: mail is no longer signed with it.",
            )
        },
        Op {
            response: Some(s::<Vec<RecipientPasskeyView>>),
            query: Some(s::<PasskeysQuery>),
            ..op(
                "get",
                "/tenant/passkeys",
                "Recipients' passkeys with the tenant (each bound to one address).",
            )
        },
        Op {
            status: 204,
            ..op(
                "delete",
                "/tenant/passkeys/{id}",
                "Remove a recipient's passkey: it no longer signs in.",
            )
        },
        Op {
            response: Some(s::<Vec<TokenView>>),
            ..op(
                "get",
                "/tokens",
                "The tenant's admin tokens (never their secrets).",
            )
        },
        Op {
            request: Some(s::<CreateTokenRequest>),
            status: 201,
            response: Some(s::<CreatedTokenResponse>),
            links: &[Link {
                method: "delete",
                path: "/tokens/{id}",
                parameters: &[("id", "$response.body#/token/id")],
            }],
            ..op(
                "post",
                "/tokens",
                "Issue an admin token; its secret is shown once.",
            )
        },
        Op {
            status: 204,
            ..op("delete", "/tokens/{id}", "Revoke an admin token at once.")
        },
        Op {
            response: Some(s::<Vec<AuditEventView>>),
            ..op("get", "/audit", "The admin audit log, newest first.")
        },
        Op {
            cmdlet: Some("Get-OMEConfiguration"),
            response: Some(s::<Vec<BrandingTemplateView>>),
            ..op("get", "/branding-templates", "The branding templates.")
        },
        Op {
            cmdlet: Some("New-OMEConfiguration"),
            request: Some(s::<BrandingTemplateView>),
            status: 201,
            response: Some(s::<BrandingTemplateView>),
            links: &[
                Link {
                    method: "get",
                    path: "/branding-templates/{name}",
                    parameters: &[("name", "$response.body#/identity")],
                },
                Link {
                    method: "patch",
                    path: "/branding-templates/{name}",
                    parameters: &[("name", "$response.body#/identity")],
                },
                Link {
                    method: "delete",
                    path: "/branding-templates/{name}",
                    parameters: &[("name", "$response.body#/identity")],
                },
            ],
            ..op(
                "post",
                "/branding-templates",
                "Create a branding template. A Sealpost-Warning header says when white text on its colour is below WCAG AA contrast.",
            )
        },
        Op {
            cmdlet: Some("Get-OMEConfiguration -Identity"),
            response: Some(s::<BrandingTemplateView>),
            ..op(
                "get",
                "/branding-templates/{name}",
                "One branding template.",
            )
        },
        Op {
            cmdlet: Some("Set-OMEConfiguration"),
            request: Some(merge_patch),
            response: Some(s::<BrandingTemplateView>),
            ..op(
                "patch",
                "/branding-templates/{name}",
                "Change a branding template.",
            )
        },
        Op {
            cmdlet: Some("Remove-OMEConfiguration"),
            status: 204,
            ..op(
                "delete",
                "/branding-templates/{name}",
                "Remove a branding template (not `default`).",
            )
        },
        Op {
            cmdlet: Some("Get-RMSTemplate"),
            response: Some(s::<Vec<RightsTemplateView>>),
            ..op(
                "get",
                "/rights-templates",
                "The rights templates: built-in and the tenant's own.",
            )
        },
        Op {
            request: Some(s::<RightsTemplateView>),
            status: 201,
            response: Some(s::<RightsTemplateView>),
            links: &[
                Link {
                    method: "get",
                    path: "/rights-templates/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "put",
                    path: "/rights-templates/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "delete",
                    path: "/rights-templates/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
            ],
            ..op(
                "post",
                "/rights-templates",
                "Create a rights template (its rights must include `view`).",
            )
        },
        Op {
            cmdlet: Some("Get-RMSTemplate -Identity"),
            response: Some(s::<RightsTemplateView>),
            ..op("get", "/rights-templates/{name}", "One rights template.")
        },
        Op {
            request: Some(s::<RightsTemplateView>),
            response: Some(s::<RightsTemplateView>),
            ..op(
                "put",
                "/rights-templates/{name}",
                "Replace one of the tenant's own rights templates.",
            )
        },
        Op {
            status: 204,
            ..op(
                "delete",
                "/rights-templates/{name}",
                "Remove one of the tenant's own rights templates.",
            )
        },
        Op {
            request: Some(s::<SendMessageRequest>),
            status: 201,
            response: Some(s::<MessageStatusView>),
            query: Some(s::<SendOptions>),
            links: &[
                Link {
                    method: "get",
                    path: "/messages/{id}",
                    parameters: &[("id", "$response.body#/MessageId")],
                },
                Link {
                    method: "post",
                    path: "/messages/{id}/revoke",
                    parameters: &[("id", "$response.body#/MessageId")],
                },
                Link {
                    method: "post",
                    path: "/messages/{id}/recipients/{address}/revoke",
                    parameters: &[
                        ("id", "$response.body#/MessageId"),
                        ("address", "$response.body#/Recipients/0/address"),
                    ],
                },
            ],
            ..op(
                "post",
                "/messages",
                "Seal, store and send a protected message: JSON fields, or a whole message as message/rfc822.",
            )
        },
        Op {
            response: Some(s::<MessageListView>),
            ..op(
                "get",
                "/messages",
                "The tenant's messages, newest first (at most 100).",
            )
        },
        Op {
            cmdlet: Some("Get-OMEMessageStatus"),
            response: Some(s::<MessageStatusView>),
            ..op(
                "get",
                "/messages/{id}",
                "A message's status, with each recipient's notice, first open and revocation.",
            )
        },
        Op {
            cmdlet: Some("Set-OMEMessageRevocation -Revoke $true"),
            response: Some(s::<MessageStatusView>),
            ..op(
                "post",
                "/messages/{id}/revoke",
                "Remove external access for everyone, and to every forward made from it.",
            )
        },
        Op {
            response: Some(s::<MessageStatusView>),
            ..op(
                "post",
                "/messages/{id}/recipients/{address}/revoke",
                "Remove external access for one recipient, and to what they forwarded.",
            )
        },
        Op {
            request: Some(s::<CreateDraftRequest>),
            status: 201,
            response: Some(s::<DraftView>),
            links: &[
                Link {
                    method: "get",
                    path: "/drafts/{id}",
                    parameters: &[("id", "$response.body#/id")],
                },
                Link {
                    method: "delete",
                    path: "/drafts/{id}",
                    parameters: &[("id", "$response.body#/id")],
                },
                Link {
                    method: "post",
                    path: "/drafts/{id}/attachments",
                    parameters: &[("id", "$response.body#/id")],
                },
                Link {
                    method: "post",
                    path: "/drafts/{id}/send",
                    parameters: &[("id", "$response.body#/id")],
                },
            ],
            ..op(
                "post",
                "/drafts",
                "Begin a draft: a message whose attachments are sent window by window and sealed as they arrive, for attachments too large for one request. It goes unsent after 24 hours.",
            )
        },
        Op {
            response: Some(s::<DraftView>),
            ..op(
                "get",
                "/drafts/{id}",
                "A draft, with how many bytes of each attachment were received (where its next window starts).",
            )
        },
        Op {
            status: 204,
            ..op(
                "delete",
                "/drafts/{id}",
                "Remove a draft and everything uploaded for it.",
            )
        },
        Op {
            request: Some(s::<CreateDraftAttachmentRequest>),
            status: 201,
            response: Some(s::<DraftAttachmentView>),
            links: &[Link {
                method: "put",
                path: "/drafts/{id}/attachments/{index}",
                parameters: &[
                    ("id", "$request.path.id"),
                    ("index", "$response.body#/index"),
                ],
            }],
            ..op(
                "post",
                "/drafts/{id}/attachments",
                "Declare an attachment of a draft, with its size.",
            )
        },
        Op {
            response: Some(s::<DraftAttachmentView>),
            ..op(
                "put",
                "/drafts/{id}/attachments/{index}",
                "Send one window of an attachment (application/octet-stream): `window_size` bytes from a multiple of `window_size`, the last one the rest, in order, with Content-Range: bytes first-last/size and optionally Content-Digest: sha-256=:…:. It is sealed as it arrives and stored whole, or not at all.",
            )
        },
        Op {
            request: Some(s::<SendMessageRequest>),
            status: 201,
            response: Some(s::<MessageStatusView>),
            ..op(
                "post",
                "/drafts/{id}/send",
                "Send a draft whose attachments are complete, with the fields of a message (`from` must be the draft's). Its attachments come first; the request's own follow them.",
            )
        },
        Op {
            response: Some(s::<PortalLogView>),
            query: Some(s::<PortalLogQuery>),
            ..op(
                "get",
                "/portal-log",
                "Search the portal tracking log, newest first.",
            )
        },
        Op {
            response: Some(s::<PortalLogVerifyView>),
            query: Some(s::<PortalLogVerifyQuery>),
            ..op(
                "get",
                "/portal-log/verify",
                "Check that no portal log entry was changed, removed or reordered.",
            )
        },
        Op {
            cmdlet: Some("Test-IRMConfiguration -Sender -Recipient"),
            request: Some(s::<SelfTestRequest>),
            response: Some(s::<SelfTestResponse>),
            ..op(
                "post",
                "/self-test",
                "The server's half of the end-to-end self-test: seal, store, read back and release a test message, check the mail relay, remove the message.",
            )
        },
        Op {
            cmdlet: Some("Get-TransportRule"),
            response: Some(s::<MailFlowRulesView>),
            ..op(
                "get",
                "/mail-flow/rules",
                "The mail flow rules, in priority order.",
            )
        },
        Op {
            cmdlet: Some(
                "New-TransportRule -ApplyRightsProtectionTemplate -ApplyRightsProtectionCustomizationTemplate",
            ),
            request: Some(s::<MailFlowRule>),
            status: 201,
            response: Some(s::<MailFlowRule>),
            links: &[
                Link {
                    method: "get",
                    path: "/mail-flow/rules/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "put",
                    path: "/mail-flow/rules/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "delete",
                    path: "/mail-flow/rules/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
            ],
            ..op(
                "post",
                "/mail-flow/rules",
                "Create a mail flow rule (last unless a priority is given).",
            )
        },
        Op {
            cmdlet: Some("Get-TransportRule -Identity"),
            response: Some(s::<MailFlowRule>),
            ..op("get", "/mail-flow/rules/{name}", "One mail flow rule.")
        },
        Op {
            cmdlet: Some("Set-TransportRule, Enable-TransportRule, Disable-TransportRule"),
            request: Some(s::<MailFlowRule>),
            response: Some(s::<MailFlowRule>),
            ..op(
                "put",
                "/mail-flow/rules/{name}",
                "Replace a rule (its name stays); a priority moves it.",
            )
        },
        Op {
            cmdlet: Some("Remove-TransportRule"),
            status: 204,
            ..op(
                "delete",
                "/mail-flow/rules/{name}",
                "Remove a rule; the ones after it move up.",
            )
        },
        Op {
            response: Some(s::<SimulationView>),
            query: Some(s::<SimulationQuery>),
            ..op(
                "post",
                "/mail-flow/simulate",
                "What the SMTP listener would answer to this message (message/rfc822) and what would happen to each recipient. Nothing is changed or sent.",
            )
        },
        Op {
            cmdlet: Some("Get-InboundConnector"),
            response: Some(s::<InboundConnectorView>),
            ..op(
                "get",
                "/mail-flow/connector",
                "Which clients may send through the SMTP listener.",
            )
        },
        Op {
            cmdlet: Some("Set-InboundConnector -RemoteIPAddresses"),
            request: Some(s::<InboundConnectorRequest>),
            response: Some(s::<InboundConnectorView>),
            ..op(
                "put",
                "/mail-flow/connector",
                "Set the client addresses and networks allowed without signing in.",
            )
        },
        Op {
            status: 201,
            response: Some(s::<SmtpPasswordResponse>),
            ..op(
                "post",
                "/mail-flow/connector/password",
                "A new SMTP AUTH password, shown once (AUTH is offered only after STARTTLS).",
            )
        },
        Op {
            status: 204,
            ..op(
                "delete",
                "/mail-flow/connector/password",
                "Remove the SMTP AUTH password.",
            )
        },
        Op {
            cmdlet: Some("Get-QueueMessage"),
            response: Some(s::<MailQueueView>),
            ..op(
                "get",
                "/mail-flow/queue",
                "Messages accepted and not delivered yet, and those given up on.",
            )
        },
        Op {
            cmdlet: Some("Get-DataEncryptionPolicy"),
            response: Some(s::<DataEncryptionPoliciesView>),
            ..op(
                "get",
                "/data-encryption-policies",
                "The tenant's data encryption policies, and the root keys a policy can name.",
            )
        },
        Op {
            cmdlet: Some("New-DataEncryptionPolicy -AzureKeyIDs"),
            request: Some(s::<NewDataEncryptionPolicy>),
            status: 201,
            response: Some(s::<DataEncryptionPolicyView>),
            links: &[
                Link {
                    method: "get",
                    path: "/data-encryption-policies/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "patch",
                    path: "/data-encryption-policies/{name}",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "post",
                    path: "/data-encryption-policies/{name}/purge",
                    parameters: &[("name", "$response.body#/name")],
                },
                Link {
                    method: "post",
                    path: "/data-encryption-policies/{name}/recover",
                    parameters: &[("name", "$response.body#/name")],
                },
            ],
            ..op(
                "post",
                "/data-encryption-policies",
                "Create a policy over two root keys; its first data key is wrapped under both.",
            )
        },
        Op {
            cmdlet: Some("Get-DataEncryptionPolicy -Identity"),
            response: Some(s::<DataEncryptionPolicyView>),
            ..op(
                "get",
                "/data-encryption-policies/{name}",
                "One policy: its root keys, status (Registered, Rolling with a percentage, PurgeRequested, Purged) and purge request.",
            )
        },
        Op {
            cmdlet: Some(
                "Set-DataEncryptionPolicy -Refresh, -Replace, -PermanentDataPurgeRequested -PermanentDataPurgeReason -PermanentDataPurgeContact",
            ),
            request: Some(s::<SetDataEncryptionPolicy>),
            response: Some(s::<DataEncryptionPolicyView>),
            ..op(
                "patch",
                "/data-encryption-policies/{name}",
                "Change the description, roll the data key, replace a root key, or request (or withdraw) a permanent data purge.",
            )
        },
        Op {
            request: Some(s::<ConfirmPurge>),
            response: Some(s::<PurgeResult>),
            ..op(
                "post",
                "/data-encryption-policies/{name}/purge",
                "Carry out a requested purge: the policy's availability key is destroyed first (nothing starts if it cannot be), then its data keys and message keys, and its root keys where no other policy uses them. Cannot be undone.",
            )
        },
        Op {
            cmdlet: Some("(Microsoft: the availability key, used by Microsoft on request)"),
            request: Some(s::<RecoverDataEncryptionPolicy>),
            response: Some(s::<DataEncryptionPolicyView>),
            ..op(
                "post",
                "/data-encryption-policies/{name}/recover",
                "When neither of the policy's root keys answers, open its data key with the server's availability key and wrap it under two new root keys of the tenant's, which take the old ones' place. Refused while either answers; audited with the reason.",
            )
        },
        Op {
            cmdlet: Some("Get-M365DataAtRestEncryptionPolicyAssignment"),
            response: Some(s::<PolicyAssignment>),
            ..op(
                "get",
                "/data-encryption-policy-assignment",
                "The policy new messages are sealed under, if any.",
            )
        },
        Op {
            cmdlet: Some("Set-M365DataAtRestEncryptionPolicyAssignment -DataEncryptionPolicy"),
            request: Some(s::<PolicyAssignment>),
            response: Some(s::<PolicyAssignment>),
            ..op(
                "put",
                "/data-encryption-policy-assignment",
                "Seal new messages under a policy, or under the tenant's own data key (null).",
            )
        },
        Op {
            response: Some(s::<SenderPolicyView>),
            ..op(
                "get",
                "/data-encryption-policy-assignment/senders/{address}",
                "One sender's data encryption policy, and whether all its messages are under it (Get-MailboxStatistics | fl DataEncryptionPolicyID, IsEncrypted).",
            )
        },
        Op {
            request: Some(s::<PolicyAssignment>),
            response: Some(s::<SenderPolicyView>),
            ..op(
                "put",
                "/data-encryption-policy-assignment/senders/{address}",
                "Seal one sender's new messages under a policy, winning over the tenant's; null: back to the tenant's (Set-Mailbox -DataEncryptionPolicy).",
            )
        },
        Op {
            cmdlet: Some("Set-Mailbox -DataEncryptionPolicy $null"),
            status: 202,
            response: Some(s::<SenderPolicyView>),
            ..op(
                "post",
                "/data-encryption-policy-assignment/senders/{address}/roll-back",
                "Roll one sender back to service-managed keys: its new messages are sealed under the tenant's own data key whatever the tenant's policy, and its messages under a policy are re-wrapped there in the background.",
            )
        },
        Op {
            response: Some(s::<RollBackView>),
            ..op(
                "get",
                "/data-encryption-policy-assignment/roll-back",
                "How far the tenant's roll back to service-managed keys is.",
            )
        },
        Op {
            cmdlet: Some("(Microsoft: roll back from Customer Key, by support request)"),
            status: 202,
            response: Some(s::<RollBackView>),
            ..op(
                "post",
                "/data-encryption-policy-assignment/roll-back",
                "Roll the tenant back to service-managed keys: no policy for new messages or for any sender, and every message sealed under a policy until now re-wrapped under the tenant's own data key in the background (a policy being purged keeps its messages until the request is withdrawn).",
            )
        },
    ]
}

fn document() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut g = settings.into_generator();
    let error = s::<ErrorBody>(&mut g);
    let health = s::<HealthResponse>(&mut g);
    let mut paths = Map::new();
    for o in operations() {
        let full = format!("/api/admin{}", o.path);
        let mut operation = Map::new();
        operation.insert("summary".into(), json!(o.summary));
        if let Some(c) = o.cmdlet {
            operation.insert("x-ome-cmdlet".into(), json!(c));
        }
        operation.insert("operationId".into(), json!(operation_id(o.method, o.path)));
        let mut parameters: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": path_parameter(name)}))
            .collect();
        if let Some(query) = o.query {
            parameters.extend(query_parameters(query));
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(request) = o.request {
            let mut content = Map::new();
            content.insert(
                "application/json".into(),
                json!({ "schema": request(&mut g) }),
            );
            if o.path == "/messages" {
                content.insert("message/rfc822".into(), raw_message());
            }
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": content }),
            );
        }
        if o.path == "/drafts/{id}/attachments/{index}" {
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } }),
            );
            if let Some(Value::Array(p)) = operation.get_mut("parameters") {
                p.push(json!({"name": "Content-Range", "in": "header", "required": true, "description": "bytes first-last/size: one window, first ≤ last < size, first a multiple of the draft's window_size, last + 1 - first the window size (less for the last).", "schema": {"type": "string", "pattern": "^bytes [0-9]{1,19}-[0-9]{1,19}/[0-9]{1,19}$"}}));
                p.push(json!({"name": "Content-Digest", "in": "header", "required": false, "description": "sha-256=:<base64>: of the window (RFC 9530); a window that does not match is refused.", "schema": {"type": "string", "pattern": "^sha-256=:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=:$"}}));
            }
        }
        if o.path == "/mail-flow/simulate" {
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "message/rfc822": raw_message() } }),
            );
        }
        let mut responses = Map::new();
        let success = match o.response {
            Some(r) => json!({
                "description": "Done.",
                "content": { "application/json": { "schema": r(&mut g) } }
            }),
            None => json!({ "description": "Done." }),
        };
        let mut success = success;
        if !o.links.is_empty() {
            let links: Map<String, Value> = o
                .links
                .iter()
                .map(|l| {
                    let id = operation_id(l.method, l.path);
                    let parameters: Map<String, Value> = l
                        .parameters
                        .iter()
                        .map(|(name, expr)| ((*name).to_owned(), json!(expr)))
                        .collect();
                    (
                        id.clone(),
                        json!({ "operationId": id, "parameters": parameters }),
                    )
                })
                .collect();
            success["links"] = Value::Object(links);
        }
        responses.insert(o.status.to_string(), success);
        responses.insert(
            "default".into(),
            json!({ "$ref": "#/components/responses/Refused" }),
        );
        operation.insert("responses".into(), Value::Object(responses));
        let item = paths
            .entry(full)
            .or_insert_with(|| Value::Object(Map::new()));
        item.as_object_mut()
            .unwrap()
            .insert(o.method.into(), Value::Object(operation));
    }
    paths.insert(
        "/healthz".into(),
        json!({ "get": {
            "summary": "Whether the server is up, and its version. No token needed.",
            "operationId": "get_healthz",
            "security": [],
            "responses": { "200": { "description": "Up.", "content": { "application/json": { "schema": health } } } }
        }}),
    );
    let schemas = g.take_definitions(true);
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sealpost admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The tenant admin API of Sealpost. Every request carries `Authorization: Bearer <admin token>` and sees only that token's tenant. Times are RFC 3339 in UTC. `x-ome-cmdlet` names the Microsoft Purview Message Encryption cmdlet an operation answers to; `sealpost --help` lists the command-line equivalents.",
            "license": { "name": "AGPL-3.0-or-later" }
        },
        "servers": [{ "url": "/" }],
        "security": [{ "adminToken": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": { "type": "http", "scheme": "bearer", "description": "An admin token, `spa_…` (`sealpost tenant create` prints the first)." }
            },
            "responses": {
                "Refused": {
                    "description": "Refused. `code` is stable for programs, `message` is a sentence for a person, `field` names an invalid request field (422).",
                    "content": { "application/json": { "schema": error } }
                }
            },
            "schemas": schemas
        }
    });
    state_integer_bounds(&mut document);
    document
}

/// A path parameter's schema: the rule its handler checks it by, where it checks one (an id or a
/// name is looked up as it is: a wrong one is not found).
fn path_parameter(name: &str) -> Value {
    match name {
        "domain" => {
            json!({ "type": "string", "maxLength": rules::DOMAIN_MAX, "pattern": rules::DOMAIN })
        }
        "address" => {
            json!({ "type": "string", "maxLength": rules::EMAIL_MAX, "pattern": rules::EMAIL, "not": { "pattern": rules::NO_DOUBLE_DOT } })
        }
        "selector" => json!({ "type": "string", "pattern": rules::DKIM_SELECTOR }),
        "index" => json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX }),
        _ => json!({ "type": "string", "minLength": 1 }),
    }
}

/// The query parameters of a query string's type: one per field, with its schema and description.
fn query_parameters(query: fn(&mut SchemaGenerator) -> Value) -> Vec<Value> {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let schema = query(&mut g);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        panic!("a query string's type is a struct: {schema}");
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .unwrap_or_default();
            // A parameter is absent rather than null.
            if let Some(Value::Array(types)) = property.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    property["type"] = types[0].clone();
                }
            }
            if property.get("default") == Some(&Value::Null) {
                property.as_object_mut().unwrap().remove("default");
            }
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "description": description,
            });
            // A list is one parameter, its items separated by commas.
            if property["type"] == "array" {
                parameter["style"] = json!("form");
                parameter["explode"] = json!(false);
            }
            parameter["schema"] = property;
            parameter
        })
        .collect()
}

/// A raw message body: its bytes, as a string of the message's media type.
fn raw_message() -> Value {
    json!({ "schema": { "type": "string", "format": "binary", "contentMediaType": "message/rfc822" } })
}

/// schemars states an unsigned integer's format (`uint32`) and its minimum, not its maximum, which
/// a generic client or validator does not know from the format: state it.
fn state_integer_bounds(value: &mut Value) {
    match value {
        Value::Object(o) => {
            let max = match o.get("format").and_then(Value::as_str) {
                Some("uint8") => Some(json!(u8::MAX)),
                Some("uint16") => Some(json!(u16::MAX)),
                Some("uint32") => Some(json!(u32::MAX)),
                Some("uint64") => Some(json!(u64::MAX)),
                _ => None,
            };
            if let Some(max) = max {
                o.entry("maximum").or_insert(max);
            }
            o.values_mut().for_each(state_integer_bounds);
        }
        Value::Array(a) => a.iter_mut().for_each(state_integer_bounds),
        _ => {}
    }
}

fn checked_in() -> std::path::PathBuf {
    manifest_dir().join("../docs/openapi.json")
}

#[test]
fn the_checked_in_document_is_what_the_routes_table_and_types_give() {
    let generated = format!("{}\n", serde_json::to_string_pretty(&document()).unwrap());
    if std::env::var_os("SEALPOST_WRITE_OPENAPI").is_some() {
        std::fs::write(checked_in(), &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(checked_in()).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/openapi.json is out of date with the wire types or the operations table: run \
         SEALPOST_WRITE_OPENAPI=1 cargo test -p sealpost --test api openapi, and review the diff"
    );
}

/// Every `.route("…")` path in the admin route modules.
fn routed_paths() -> BTreeSet<String> {
    let dir = manifest_dir().join("src/http/routes/admin");
    let mut paths = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in source.split(".route(").skip(1) {
            let quoted = piece.trim_start().strip_prefix('"').unwrap();
            paths.insert(quoted[..quoted.find('"').unwrap()].to_owned());
        }
    }
    paths
}

#[tokio::test]
async fn the_document_lists_exactly_the_admin_routes_the_server_answers() {
    let app = TestApp::new().await;
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let mut answered = BTreeSet::new();
    for path in routed_paths() {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for m in &methods {
            let res = app
                .call(
                    m.clone(),
                    &format!("/api/admin{concrete}"),
                    None,
                    None,
                    Vec::new(),
                )
                .await;
            // A method the router has no handler for is 405; one it has asks for the token first.
            match res.status() {
                StatusCode::METHOD_NOT_ALLOWED => {}
                StatusCode::UNAUTHORIZED => {
                    answered.insert(format!("{} /api/admin{path}", m.as_str().to_lowercase()));
                }
                other => panic!("{m} {concrete}: {other}: {}", body_text(res).await),
            }
        }
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(checked_in()).unwrap()).unwrap();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/api/admin"))
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{m} {p}"))
        })
        .collect();
    assert_eq!(
        answered, documented,
        "the admin routes and docs/openapi.json disagree"
    );
}

#[tokio::test]
async fn the_server_serves_the_checked_in_document() {
    let app = TestApp::new().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let served = body_text(res).await;
    assert!(
        served == std::fs::read_to_string(checked_in()).unwrap(),
        "the binary serves an older docs/openapi.json: rebuild"
    );
}

/// Follow `$ref`s to the schema they name.
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolved(doc, doc.pointer(r.trim_start_matches('#')).unwrap()),
        None => schema,
    }
}

#[test]
fn every_link_leads_to_an_operation_with_values_the_answer_has() {
    let doc = document();
    let mut by_id = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            by_id.insert(op["operationId"].as_str().unwrap().to_owned(), path.clone());
        }
    }
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (code, response) in op["responses"].as_object().unwrap() {
                let Some(links) = response["links"].as_object() else {
                    continue;
                };
                let body = resolved(&doc, &response["content"]["application/json"]["schema"]);
                for (name, l) in links {
                    let target = &by_id[l["operationId"].as_str().unwrap()];
                    for (param, expr) in l["parameters"].as_object().unwrap() {
                        assert!(
                            target.contains(&format!("{{{param}}}")),
                            "{method} {path} {code}: link {name} sets {param}, which {target} has not"
                        );
                        let expr = expr.as_str().unwrap();
                        if let Some(pointer) = expr.strip_prefix("$response.body#/") {
                            // Each step of the pointer is a property (or an array's item) of the
                            // answer's schema.
                            let mut schema = body;
                            for step in pointer.split('/') {
                                schema = if step.bytes().all(|b| b.is_ascii_digit()) {
                                    resolved(&doc, &schema["items"])
                                } else {
                                    resolved(&doc, &schema["properties"][step])
                                };
                                assert!(
                                    schema.is_object(),
                                    "{method} {path} {code}: link {name}: {expr} is not in the answer"
                                );
                            }
                        } else {
                            let from = expr.strip_prefix("$request.path.").unwrap();
                            assert!(path.contains(&format!("{{{from}}}")), "{expr}");
                        }
                    }
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 20, "{seen} links");
}
