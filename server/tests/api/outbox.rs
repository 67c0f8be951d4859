//! The outbox, in-process against a relay the test runs: a notice the relay cannot take now waits
//! and goes, once, when it is back; a refusal for good bounces it at once; after two days it is
//! given up on; a passcode's mail is dropped with its code; a lease a crashed node left is taken
//! back; each recipient's notice state and the outbox metrics say so; a sender whose message
//! cannot be delivered gets an RFC 3464 report, through the outbox too.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use sealpost::config::SmtpTls;
use sealpost::services::outbox;
use sealpost::store::outbox::Purpose;
use sealpost_api::admin::NoticeView;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, TestTenant, message};
use crate::smtp_smuggling::{listener_for, process_next, reply, transaction};

/// What the relay answers a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Take,
    /// 451: not now.
    Later,
    /// 550 5.1.1: never.
    Never,
}

/// A mail the relay took: envelope sender, recipients, data.
#[derive(Debug, Clone)]
struct Taken {
    from: String,
    to: Vec<String>,
    data: String,
}

/// How the relay answers each recipient.
type Policy = fn(&str) -> Answer;

/// An SMTP relay on loopback that answers each recipient as `answer` says, and keeps what it
/// takes. Stopped when dropped.
struct Relay {
    taken: Arc<Mutex<Vec<Taken>>>,
    answer: Arc<Mutex<Policy>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    async fn start(addr: SocketAddr, answer: Policy) -> Relay {
        let socket = TcpListener::bind(addr).await.unwrap();
        let taken: Arc<Mutex<Vec<Taken>>> = Arc::default();
        let keep = taken.clone();
        let answer = Arc::new(Mutex::new(answer));
        let policy = answer.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = socket.accept().await else {
                    return;
                };
                let keep = keep.clone();
                let policy = policy.clone();
                tokio::spawn(async move {
                    let (read, mut write) = conn.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 relay.test ESMTP\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_ascii_uppercase();
                        let said: String = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            "250 relay.test\r\n".into()
                        } else if upper.starts_with("MAIL FROM:") {
                            from = line[10..].trim().trim_matches(['<', '>']).to_owned();
                            to.clear();
                            "250 2.1.0 ok\r\n".into()
                        } else if upper.starts_with("RCPT TO:") {
                            let rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                            let answer = *policy.lock().unwrap();
                            match answer(&rcpt) {
                                Answer::Take => {
                                    to.push(rcpt);
                                    "250 2.1.5 ok\r\n".into()
                                }
                                Answer::Later => "451 4.3.0 try again later\r\n".into(),
                                Answer::Never => "550 5.1.1 no such user here\r\n".into(),
                            }
                        } else if upper.starts_with("DATA") {
                            let _ = write.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            keep.lock().unwrap().push(Taken {
                                from: from.clone(),
                                to: to.clone(),
                                data,
                            });
                            "250 2.0.0 taken\r\n".into()
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            "250 ok\r\n".into()
                        };
                        if write.write_all(said.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Relay {
            taken,
            answer,
            task,
        }
    }

    /// Answer recipients this way from now on.
    fn answer(&self, answer: Policy) {
        *self.answer.lock().unwrap() = answer;
    }

    fn taken(&self) -> Vec<Taken> {
        self.taken.lock().unwrap().clone()
    }
}

/// A port nothing listens on (yet).
fn free_addr() -> SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

/// An app that sends through the relay at `relay` instead of the development mailbox.
async fn app_with_relay(relay: SocketAddr) -> (TestApp, TestTenant) {
    let app = TestApp::with_config(|c| {
        c.dev_mailbox = false;
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = relay.port();
        c.smtp_tls = SmtpTls::None;
        c.metrics_token = Some(sealpost::config::Secret(SCRAPE.into()));
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    (app, t)
}

async fn notice_of(app: &TestApp, token: &str, id: &str) -> NoticeView {
    app.status(token, id).await.recipients[0].notice.clone()
}

const SCRAPE: &str = "scrape-token";

async fn metric(app: &TestApp, name: &str) -> i64 {
    let res = app
        .call(Method::GET, "/metrics", Some(SCRAPE), None, Vec::new())
        .await;
    let text = crate::helpers::body_text(res).await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_notice_the_relay_cannot_take_waits_and_goes_once_when_it_is_back() {
    let addr = free_addr();
    let (app, t) = app_with_relay(addr).await;
    let sent = app.send(&t.token, &message("bob@gmail.example")).await;
    let NoticeView::Deferred {
        reason,
        next_attempt_at,
        ..
    } = notice_of(&app, &t.token, &sent.message_id).await
    else {
        panic!("the notice should wait for the relay");
    };
    assert!(!reason.is_empty());
    assert_eq!(
        next_attempt_at,
        sealpost::clock::rfc3339(app.clock.now() + 15),
        "the first retry is 15 s later"
    );
    assert_eq!(metric(&app, "sealpost_outbox_mails").await, 1);
    app.clock.advance(40);
    assert_eq!(metric(&app, "sealpost_outbox_oldest_age_seconds").await, 40);

    let relay = Relay::start(addr, |_| Answer::Take).await;
    assert_eq!(outbox::deliver_due(&app.state).await, 1, "due again");
    assert_eq!(outbox::deliver_due(&app.state).await, 0, "nothing left");
    let taken = relay.taken();
    assert_eq!(taken.len(), 1, "the notice arrived once");
    assert_eq!(taken[0].to, ["bob@gmail.example"]);
    assert!(
        taken[0]
            .data
            .contains(&format!("/m/{}#t=", sent.message_id))
    );
    assert!(matches!(
        notice_of(&app, &t.token, &sent.message_id).await,
        NoticeView::Sent { .. }
    ));
    assert_eq!(metric(&app, "sealpost_outbox_mails").await, 0);
    assert_eq!(metric(&app, "sealpost_outbox_oldest_age_seconds").await, 0);
}

#[tokio::test]
async fn a_refusal_for_good_bounces_the_notice_at_once_and_a_4xx_defers_it() {
    let addr = free_addr();
    let relay = Relay::start(addr, |rcpt| {
        if rcpt.starts_with("nobody") {
            Answer::Never
        } else {
            Answer::Later
        }
    })
    .await;
    let (app, t) = app_with_relay(addr).await;
    let never = app.send(&t.token, &message("nobody@gmail.example")).await;
    let NoticeView::Bounced { reason, .. } = notice_of(&app, &t.token, &never.message_id).await
    else {
        panic!("a 5xx bounces the notice");
    };
    assert!(reason.contains("5.1.1"), "{reason}");
    let later = app.send(&t.token, &message("bob@gmail.example")).await;
    let NoticeView::Deferred { reason, .. } = notice_of(&app, &t.token, &later.message_id).await
    else {
        panic!("a 4xx defers the notice");
    };
    assert!(reason.contains("4.3.0"), "{reason}");
    assert!(relay.taken().is_empty());
    assert_eq!(
        metric(&app, "sealpost_outbox_mails").await,
        1,
        "only the deferred one waits"
    );
}

#[tokio::test]
async fn a_notice_is_given_up_after_two_days_of_trying() {
    let addr = free_addr();
    let (app, t) = app_with_relay(addr).await;
    let sent = app.send(&t.token, &message("bob@gmail.example")).await;
    let mut tries = 1;
    loop {
        match notice_of(&app, &t.token, &sent.message_id).await {
            NoticeView::Deferred { .. } => {}
            NoticeView::Bounced { reason, .. } => {
                assert!(reason.contains("gave up after two days"), "{reason}");
                break;
            }
            other => panic!("{other:?}"),
        }
        assert!(tries < 60, "never given up");
        app.clock.advance(3600);
        tries += outbox::deliver_due(&app.state).await;
    }
    // 15 s, 1, 5, 15 and 30 min, then hourly: about fifty tries in two days, not one a minute.
    assert!((45..=55).contains(&tries), "{tries} tries");
    assert_eq!(metric(&app, "sealpost_outbox_mails").await, 0);
}

#[tokio::test]
async fn a_passcode_mail_that_cannot_go_is_dropped_when_its_code_expires() {
    let addr = free_addr();
    let relay = Relay::start(addr, |_| Answer::Take).await;
    let (app, t) = app_with_relay(addr).await;
    let sent = app.send(&t.token, &message("bob@gmail.example")).await;
    let token = {
        let text = crate::helpers::mail_text(relay.taken()[0].data.as_bytes());
        let marker = format!("/m/{}#t=", sent.message_id);
        let start = text.find(&marker).unwrap() + marker.len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<String>()
    };
    relay.answer(|_| Answer::Later);
    let (status, _) = app.request_passcode(&sent.message_id, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.state.settle().await;
    assert_eq!(
        metric(&app, "sealpost_outbox_mails").await,
        1,
        "the passcode waits"
    );
    // Asking again retires that code, and its mail with it: still one mail waits, the new code's.
    app.clock.advance(60);
    let (status, _) = app.request_passcode(&sent.message_id, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.state.settle().await;
    assert_eq!(
        metric(&app, "sealpost_outbox_mails").await,
        1,
        "the retired code's mail is gone"
    );

    // The relay is back only after the code has expired: the mail is dropped, not sent.
    relay.answer(|_| Answer::Take);
    app.clock.advance(16 * 60);
    assert_eq!(outbox::deliver_due(&app.state).await, 1);
    assert_eq!(metric(&app, "sealpost_outbox_mails").await, 0);
    assert_eq!(relay.taken().len(), 1, "only the notice was ever sent");
}

#[tokio::test]
async fn a_lease_left_by_a_crashed_node_is_taken_back_and_the_notice_sent_once() {
    let addr = free_addr();
    let (app, t) = app_with_relay(addr).await;
    let sent = app.send(&t.token, &message("bob@gmail.example")).await;
    let relay = Relay::start(addr, |_| Answer::Take).await;
    app.clock.advance(15);
    // Another node claims it and dies before sending.
    let now = app.clock.now();
    let claimed = app
        .state
        .store
        .claim_outbox(now, now + 300, "crashed-node", None)
        .await
        .unwrap()
        .expect("due");
    assert_eq!(claimed.purpose, Purpose::Notice);
    assert_eq!(
        outbox::deliver_due(&app.state).await,
        0,
        "leased to the other node"
    );
    app.clock.advance(300);
    assert_eq!(
        outbox::deliver_due(&app.state).await,
        1,
        "the lease ran out"
    );
    assert_eq!(relay.taken().len(), 1);
    // The crashed node comes back and settles what it had: too late, nothing changes.
    let late = app
        .state
        .store
        .settle_outbox(
            &claimed.id,
            "crashed-node",
            &sealpost::store::outbox::Outcome::Bounced {
                at: now,
                reason: "late".into(),
            },
        )
        .await;
    assert!(late.is_err(), "a lost lease settles nothing");
    assert!(matches!(
        notice_of(&app, &t.token, &sent.message_id).await,
        NoticeView::Sent { .. }
    ));
}

#[tokio::test]
async fn a_sender_gets_an_rfc_3464_report_through_the_outbox_when_relaying_fails_for_good() {
    let addr = free_addr();
    let relay = Relay::start(addr, |rcpt| {
        if rcpt.starts_with("bob") {
            Answer::Never
        } else {
            Answer::Take
        }
    })
    .await;
    let app = TestApp::with_config(|c| {
        c.dev_mailbox = false;
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = addr.port();
        c.smtp_tls = SmtpTls::None;
        c.metrics_token = Some(sealpost::config::Secret(SCRAPE.into()));
    })
    .await;
    let (app, _t, listener) = listener_for(app).await;
    let original = "From: Alex <alex@contoso.example>\r\nTo: bob@fabrikam.example\r\n\
                    Subject: Budget\r\nMessage-ID: <budget-1@contoso.example>\r\n\r\nthe numbers\r\n.\r\n";
    let mut c = transaction(listener, original.as_bytes()).await;
    assert!(reply(&mut c).await.starts_with("250"));
    process_next(&app).await;
    let taken = relay.taken();
    assert_eq!(taken.len(), 1, "{taken:?}");
    let report = &taken[0];
    assert_eq!(report.from, "", "a report has an empty envelope sender");
    assert_eq!(report.to, ["alex@contoso.example"]);
    let data = &report.data;
    assert!(data.contains("Content-Type: multipart/report"), "{data}");
    assert!(data.contains("delivery-status"), "{data}");
    assert!(data.contains("<MAILER-DAEMON@contoso.example>"), "{data}");
    assert!(
        data.contains("Final-Recipient: rfc822; bob@fabrikam.example\r\n"),
        "{data}"
    );
    assert!(data.contains("Status: 5.1.1\r\n"), "{data}");
    assert!(
        data.contains("Message-ID: <budget-1@contoso.example>"),
        "{data}"
    );
    assert!(!data.contains("the numbers"), "the body does not go back");
    assert_eq!(metric(&app, "sealpost_outbox_mails").await, 0);
}

#[tokio::test]
async fn a_kept_mail_redirected_in_the_database_does_not_open_and_is_never_sent() {
    let addr = free_addr();
    let (app, t) = app_with_relay(addr).await;
    app.send(&t.token, &message("bob@gmail.example")).await;
    // Someone with write access to the database points the waiting notice (and its link token)
    // at their own address.
    let db = app.database().await;
    let sql = "update outbox set recipient = 'eve@evil.example'";
    assert_eq!(db.execute(sql, sql).await.unwrap(), 1);
    let relay = Relay::start(addr, |_| Answer::Take).await;
    app.clock.advance(15);
    assert_eq!(outbox::deliver_due(&app.state).await, 1);
    assert!(relay.taken().is_empty(), "{:?}", relay.taken());
    assert_eq!(
        metric(&app, "sealpost_outbox_mails").await,
        0,
        "given up, not retried"
    );
}
