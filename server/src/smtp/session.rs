//! One SMTP connection (RFC 5321, with SIZE, 8BITMIME, PIPELINING, ENHANCEDSTATUSCODES, STARTTLS
//! and AUTH PLAIN/LOGIN). Every refusal has its code, enhanced status code and a sentence.
//!
//! The message is kept byte for byte as received (only dot-unstuffed), because mail the rules
//! leave alone must leave exactly as it came (behind the `Received:` field added when it is
//! relayed); a message that already carries `mail::trace::MAX_HOPS` `Received:` fields is going
//! round a loop and is refused (554 5.4.6); a message with a bare LF or CR is refused (521) and
//! the connection closed, so no second message can be smuggled inside one. Nothing read here is logged: not the content, not a
//! password; only the client, the outcome and the queue id.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

use crate::domain::address::EmailAddress;
use crate::mail::trace;
use crate::secrets::new_id;
use crate::services::mail_flow::{self, Reply, relay_access};
use crate::state::AppState;
use crate::store::Tenant;
use crate::store::mail_flow::QueuedMail;

/// A connection, before or after STARTTLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Longest command line.
const MAX_COMMAND: usize = 2048;
/// Longest line inside a message.
const MAX_DATA_LINE: usize = 1024 * 1024;
/// Most recipients of one message.
const MAX_RECIPIENTS: usize = 100;
/// Wrong commands or sign-ins before the connection is closed.
const MAX_ERRORS: u32 = 10;
const MAX_AUTH_FAILURES: u32 = 3;
/// How long the client may be silent (RFC 5321 §4.5.3.2 suggests 5 minutes).
const IDLE: Duration = Duration::from_secs(300);
/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(30);
/// How long one reply may take to write to a client that does not read.
const WRITE: Duration = Duration::from_secs(60);
/// Commands that move no message forward (NOOP, RSET, EHLO, HELO, HELP, VRFY, EXPN) answered
/// between two accepted messages before the connection is closed: enough for any real client, not
/// enough to hold a slot forever.
const MAX_WITHOUT_PROGRESS: u32 = 20;

enum Line {
    Complete,
    TooLong,
    Closed,
}

type Reader = BufReader<Box<dyn Io>>;

/// Read one line (with its line ending) into `out`, at most `max` bytes; a longer line is read to
/// its end and dropped.
async fn read_line(r: &mut Reader, max: usize, out: &mut Vec<u8>) -> std::io::Result<Line> {
    out.clear();
    let mut too_long = false;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(Line::Closed);
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long && out.len() + take <= max {
            out.extend_from_slice(&buf[..take]);
        } else {
            too_long = true;
            out.clear();
        }
        r.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

/// Whether a line read up to its LF ends without CR, or holds a CR that no LF follows.
fn bare_line_ending(line: &[u8]) -> bool {
    let Some(body) = line.strip_suffix(b"\r\n") else {
        return true;
    };
    body.contains(&b'\r')
}

/// The answer to a bare LF or CR inside DATA (the connection closes after it).
fn bare_line_ending_refused() -> Reply {
    Reply::new(
        521,
        "5.5.2",
        "A bare LF or CR is in the message; only CRLF may end a line (RFC 5321 2.3.8). Nothing was queued, and this connection closes.",
    )
}

/// The envelope being collected.
#[derive(Default)]
struct Transaction {
    tenant: Option<Tenant>,
    mail_from: Option<Option<EmailAddress>>,
    recipients: Vec<EmailAddress>,
}

struct Session {
    state: AppState,
    peer: SocketAddr,
    hostname: String,
    tls: Option<TlsAcceptor>,
    secure: bool,
    greeted: bool,
    signed_in: Option<String>,
    errors: u32,
    auth_failures: u32,
    /// Commands since the last accepted message that moved nothing forward.
    without_progress: u32,
    tx: Transaction,
}

enum Next {
    Continue,
    StartTls,
    Close,
}

async fn send(r: &mut Reader, reply: &Reply) -> std::io::Result<()> {
    send_raw(r, &format!("{reply}\r\n")).await
}

/// Write within [`WRITE`]; a client that stops reading loses the connection.
async fn send_raw(r: &mut Reader, text: &str) -> std::io::Result<()> {
    let w = r.get_mut();
    tokio::time::timeout(WRITE, async {
        w.write_all(text.as_bytes()).await?;
        w.flush().await
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the client does not read"))?
}

/// Read a line within the idle limit; `None` when the client went away or was too slow.
async fn next_line(r: &mut Reader, max: usize, out: &mut Vec<u8>) -> Option<Line> {
    match tokio::time::timeout(IDLE, read_line(r, max, out)).await {
        Ok(Ok(line)) => Some(line),
        Ok(Err(_)) => None,
        Err(_) => {
            let _ = send(r, &Reply::new(421, "4.4.2", "Idle for too long; closing.")).await;
            None
        }
    }
}

/// Serve one connection to its end.
pub async fn serve(io: Box<dyn Io>, peer: SocketAddr, state: AppState, tls: Option<TlsAcceptor>) {
    let hostname = state.config.smtp_listen_hostname();
    let mut s = Session {
        state,
        peer,
        hostname,
        tls,
        secure: false,
        greeted: false,
        signed_in: None,
        errors: 0,
        auth_failures: 0,
        without_progress: 0,
        tx: Transaction::default(),
    };
    let mut reader: Reader = BufReader::new(io);
    let greeting = Reply::new(220, "2.0.0", format!("{} ESMTP Sealpost", s.hostname));
    if send(&mut reader, &greeting).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        let Some(read) = next_line(&mut reader, MAX_COMMAND, &mut line).await else {
            return;
        };
        let next = match read {
            Line::Closed => return,
            Line::TooLong => {
                s.errors += 1;
                send(
                    &mut reader,
                    &Reply::new(500, "5.5.6", "The command line is too long."),
                )
                .await
                .map(|()| Next::Continue)
            }
            Line::Complete => s.command(&mut reader, &line).await,
        };
        match next {
            Ok(Next::Continue) => {}
            Ok(Next::Close) | Err(_) => return,
            Ok(Next::StartTls) => {
                let Some(acceptor) = s.tls.clone() else {
                    return;
                };
                // Whatever the client sent after STARTTLS, before the handshake, is dropped
                // (RFC 3207 §4.2): it could otherwise be injected by a man in the middle.
                let plain = reader.into_inner();
                match tokio::time::timeout(HANDSHAKE, acceptor.accept(plain))
                    .await
                    .unwrap_or_else(|_| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the handshake took too long",
                        ))
                    }) {
                    Ok(stream) => {
                        reader = BufReader::new(Box::new(stream));
                        s.secure = true;
                        s.greeted = false;
                        s.signed_in = None;
                        s.tx = Transaction::default();
                    }
                    Err(e) => {
                        tracing::info!(client = %s.peer, error = %e, "an SMTP TLS handshake failed");
                        return;
                    }
                }
            }
        }
        if s.without_progress >= MAX_WITHOUT_PROGRESS {
            let _ = send(
                &mut reader,
                &Reply::new(
                    421,
                    "4.7.0",
                    "Too many commands without a message; closing.",
                ),
            )
            .await;
            return;
        }
        if s.errors >= MAX_ERRORS {
            let _ = send(
                &mut reader,
                &Reply::new(421, "4.7.0", "Too many errors; closing."),
            )
            .await;
            return;
        }
    }
}

/// The address inside `FROM:<…>` / `TO:<…>`, and the parameters after it.
fn path<'a>(arg: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let rest = arg.get(..keyword.len())?;
    if !rest.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    let inner = &rest[..end];
    // A source route (`@a,@b:user@host`) is ignored, as RFC 5321 allows.
    let inner = inner.rsplit_once(':').map_or(inner, |(_, a)| a);
    Some((inner, rest[end + 1..].trim()))
}

impl Session {
    fn ehlo_lines(&self) -> String {
        let max = self.state.config.smtp_listen_max_size;
        let mut lines = vec![
            format!("{} greets you", self.hostname),
            format!("SIZE {max}"),
            "8BITMIME".to_owned(),
            "PIPELINING".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
        ];
        if self.tls.is_some() && !self.secure {
            lines.push("STARTTLS".to_owned());
        }
        if self.secure && self.signed_in.is_none() {
            lines.push("AUTH PLAIN LOGIN".to_owned());
        }
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
            .collect()
    }

    async fn command(&mut self, r: &mut Reader, line: &[u8]) -> std::io::Result<Next> {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (text.to_ascii_uppercase(), ""),
        };
        if matches!(
            verb.as_str(),
            "NOOP" | "RSET" | "EHLO" | "HELO" | "HELP" | "VRFY" | "EXPN"
        ) {
            self.without_progress += 1;
        }
        let reply = match verb.as_str() {
            "EHLO" | "HELO" if arg.is_empty() => {
                Reply::new(501, "5.5.4", format!("{verb} needs your host name."))
            }
            "EHLO" => {
                self.greeted = true;
                self.tx = Transaction::default();
                send_raw(r, &self.ehlo_lines()).await?;
                return Ok(Next::Continue);
            }
            "HELO" => {
                self.greeted = true;
                self.tx = Transaction::default();
                Reply::new(250, "2.0.0", self.hostname.clone())
            }
            "STARTTLS" => {
                if self.tls.is_none() {
                    Reply::new(454, "4.7.0", "TLS is not available on this server.")
                } else if self.secure {
                    Reply::new(503, "5.5.1", "TLS is already on.")
                } else {
                    send(r, &Reply::new(220, "2.0.0", "Ready to start TLS")).await?;
                    return Ok(Next::StartTls);
                }
            }
            "AUTH" => return self.auth(r, arg).await,
            "MAIL" => self.mail(arg).await,
            "RCPT" => self.rcpt(arg),
            "DATA" => return self.data(r).await,
            "RSET" => {
                self.tx = Transaction::default();
                Reply::new(250, "2.0.0", "OK")
            }
            "NOOP" => Reply::new(250, "2.0.0", "OK"),
            "VRFY" => Reply::new(252, "2.5.0", "Addresses are not verified here."),
            "HELP" => Reply::new(
                214,
                "2.0.0",
                "Sealpost relays its tenants' mail: EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT.",
            ),
            "QUIT" => {
                send(r, &Reply::new(221, "2.0.0", "Bye")).await?;
                return Ok(Next::Close);
            }
            _ => Reply::new(500, "5.5.2", "Command not recognised."),
        };
        if !reply.is_positive() && reply.code >= 500 {
            self.errors += 1;
        }
        send(r, &reply).await?;
        Ok(Next::Continue)
    }

    async fn read_auth_line(
        &mut self,
        r: &mut Reader,
        prompt: &str,
    ) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
        send_raw(r, &format!("334 {prompt}\r\n")).await?;
        let mut line = Vec::new();
        match next_line(r, MAX_COMMAND, &mut line).await {
            Some(Line::Complete) => {}
            _ => return Ok(None),
        }
        let line = Zeroizing::new(line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text == "*" {
            return Ok(None);
        }
        Ok(STANDARD.decode(text).ok().map(Zeroizing::new))
    }

    async fn auth(&mut self, r: &mut Reader, arg: &str) -> std::io::Result<Next> {
        let refuse = |code, status, text: &str| Reply::new(code, status, text);
        let reply = if !self.secure {
            Some(refuse(538, "5.7.11", "Sign in only after STARTTLS."))
        } else if self.signed_in.is_some() {
            Some(refuse(503, "5.5.1", "You are already signed in."))
        } else if self.tx.mail_from.is_some() {
            Some(refuse(
                503,
                "5.5.1",
                "Sign in before MAIL, not during a message.",
            ))
        } else {
            None
        };
        if let Some(reply) = reply {
            send(r, &reply).await?;
            return Ok(Next::Continue);
        }
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim())),
            None => (arg.to_ascii_uppercase(), None),
        };
        let credentials: Option<(String, Zeroizing<String>)> = match mechanism.as_str() {
            "PLAIN" => {
                let decoded = match initial {
                    Some("=") => Some(Zeroizing::new(Vec::new())),
                    Some(i) => STANDARD.decode(i).ok().map(Zeroizing::new),
                    None => self.read_auth_line(r, "").await?,
                };
                decoded.and_then(|d| {
                    let mut fields = d.split(|b| *b == 0);
                    let _authzid = fields.next()?;
                    let user = String::from_utf8(fields.next()?.to_vec()).ok()?;
                    let pass = Zeroizing::new(String::from_utf8(fields.next()?.to_vec()).ok()?);
                    Some((user, pass))
                })
            }
            "LOGIN" => {
                let user = match initial {
                    Some(i) => STANDARD.decode(i).ok().map(Zeroizing::new),
                    None => self.read_auth_line(r, "VXNlcm5hbWU6").await?,
                };
                match user {
                    Some(user) => self.read_auth_line(r, "UGFzc3dvcmQ6").await?.and_then(|p| {
                        Some((
                            String::from_utf8(user.to_vec()).ok()?,
                            Zeroizing::new(String::from_utf8(p.to_vec()).ok()?),
                        ))
                    }),
                    None => None,
                }
            }
            _ => {
                send(
                    r,
                    &Reply::new(504, "5.5.4", "Use AUTH PLAIN or AUTH LOGIN."),
                )
                .await?;
                return Ok(Next::Continue);
            }
        };
        let tenant = match &credentials {
            Some((user, pass)) => {
                relay_access::sign_in(self.state.store.as_ref(), user, pass).await
            }
            None => None,
        };
        match tenant {
            Some(t) => {
                self.signed_in = Some(t);
                send(r, &Reply::new(235, "2.7.0", "Signed in.")).await?;
            }
            None => {
                self.auth_failures += 1;
                tracing::info!(client = %self.peer, "an SMTP sign-in failed");
                if self.auth_failures >= MAX_AUTH_FAILURES {
                    send(
                        r,
                        &Reply::new(421, "4.7.0", "Too many failed sign-ins; closing."),
                    )
                    .await?;
                    return Ok(Next::Close);
                }
                send(
                    r,
                    &Reply::new(535, "5.7.8", "The user name or password is not right."),
                )
                .await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn mail(&mut self, arg: &str) -> Reply {
        if !self.greeted {
            return Reply::new(503, "5.5.1", "Say EHLO first.");
        }
        if self.tx.mail_from.is_some() {
            return Reply::new(
                503,
                "5.5.1",
                "A message is already started; RSET to start again.",
            );
        }
        let Some((address, params)) = path(arg, "FROM:") else {
            return Reply::new(501, "5.5.4", "Write MAIL FROM:<address>.");
        };
        for param in params.split_whitespace() {
            if let Some((k, v)) = param.split_once('=')
                && k.eq_ignore_ascii_case("SIZE")
            {
                match v.parse::<u64>() {
                    Ok(n) if n > self.state.config.smtp_listen_max_size => {
                        return Reply::new(
                            552,
                            "5.3.4",
                            format!(
                                "The message is larger than this server accepts ({} bytes).",
                                self.state.config.smtp_listen_max_size
                            ),
                        );
                    }
                    Ok(_) => {}
                    Err(_) => return Reply::new(501, "5.5.4", "SIZE must be a number."),
                }
            }
        }
        let from = if address.is_empty() {
            None
        } else {
            match EmailAddress::parse("from", address) {
                Ok(a) => Some(a),
                Err(_) => {
                    return Reply::new(
                        501,
                        "5.1.7",
                        format!("{address:?} is not a valid sender address."),
                    );
                }
            }
        };
        match relay_access::authorize(
            self.state.store.as_ref(),
            self.peer.ip(),
            self.signed_in.as_deref(),
            from.as_ref(),
        )
        .await
        {
            Ok(tenant) => {
                self.tx = Transaction {
                    tenant: Some(tenant),
                    mail_from: Some(from),
                    recipients: Vec::new(),
                };
                Reply::new(250, "2.1.0", "Sender OK")
            }
            Err(reply) => {
                tracing::info!(client = %self.peer, code = reply.code, "an SMTP sender was refused");
                reply
            }
        }
    }

    fn rcpt(&mut self, arg: &str) -> Reply {
        if self.tx.mail_from.is_none() {
            return Reply::new(503, "5.5.1", "MAIL FROM comes first.");
        }
        let Some((address, _)) = path(arg, "TO:") else {
            return Reply::new(501, "5.5.4", "Write RCPT TO:<address>.");
        };
        let Ok(to) = EmailAddress::parse("to", address) else {
            return Reply::new(
                501,
                "5.1.3",
                format!("{address:?} is not a valid recipient address."),
            );
        };
        if !self.tx.recipients.contains(&to) {
            if self.tx.recipients.len() >= MAX_RECIPIENTS {
                return Reply::new(
                    452,
                    "4.5.3",
                    format!(
                        "At most {MAX_RECIPIENTS} recipients per message; send the rest in another."
                    ),
                );
            }
            self.tx.recipients.push(to);
        }
        Reply::new(250, "2.1.5", "Recipient OK")
    }

    async fn data(&mut self, r: &mut Reader) -> std::io::Result<Next> {
        if self.tx.mail_from.is_none() {
            send(r, &Reply::new(503, "5.5.1", "MAIL FROM comes first.")).await?;
            return Ok(Next::Continue);
        }
        if self.tx.recipients.is_empty() {
            send(r, &Reply::new(554, "5.5.1", "No valid recipients.")).await?;
            return Ok(Next::Continue);
        }
        send_raw(r, "354 End data with <CR><LF>.<CR><LF>\r\n").await?;
        let max = usize::try_from(self.state.config.smtp_listen_max_size).unwrap_or(usize::MAX);
        let mut raw: Vec<u8> = Vec::new();
        let mut too_big = false;
        let mut line = Vec::new();
        loop {
            match next_line(r, MAX_DATA_LINE, &mut line).await {
                None | Some(Line::Closed) => return Ok(Next::Close),
                Some(Line::TooLong) => too_big = true,
                Some(Line::Complete) => {
                    // Only <CRLF>.<CRLF> ends a message, and a message in which a bare LF or a
                    // bare CR stands anywhere is refused whole and the connection closed (as
                    // Postfix's smtpd_forbid_bare_newline does): servers disagree about what such
                    // line endings mean, and that disagreement is what smuggles a second message
                    // past one of them (SMTP smuggling).
                    if bare_line_ending(&line) {
                        tracing::info!(client = %self.peer, "a message with a bare LF or CR was refused");
                        send(r, &bare_line_ending_refused()).await?;
                        return Ok(Next::Close);
                    }
                    if line == b".\r\n" {
                        break;
                    }
                    let content = line.strip_prefix(b".").unwrap_or(&line);
                    if raw.len() + content.len() > max {
                        too_big = true;
                        raw.clear();
                    } else if !too_big {
                        raw.extend_from_slice(content);
                    }
                }
            }
        }
        let tx = std::mem::take(&mut self.tx);
        let hops = trace::hops(&raw);
        let reply = if too_big {
            Reply::new(
                552,
                "5.3.4",
                format!("The message is larger than this server accepts ({max} bytes)."),
            )
        } else if hops >= trace::MAX_HOPS {
            tracing::warn!(client = %self.peer, hops, "a message that went round a mail loop was refused");
            Reply::new(
                554,
                "5.4.6",
                format!(
                    "The message has passed through {hops} mail servers already: it is going round a loop between mail servers, so it was refused."
                ),
            )
        } else {
            self.accept(tx, raw).await
        };
        if reply.is_positive() {
            self.without_progress = 0;
        }
        send(r, &reply).await?;
        Ok(Next::Continue)
    }

    async fn accept(&self, tx: Transaction, raw: Vec<u8>) -> Reply {
        let (Some(tenant), Some(mail_from)) = (tx.tenant, tx.mail_from) else {
            return Reply::new(503, "5.5.1", "MAIL FROM comes first.");
        };
        let assessment = mail_flow::assess(
            &self.state,
            &tenant,
            mail_from.as_ref(),
            &tx.recipients,
            &raw,
        )
        .await;
        let Some(plan) = assessment.plan else {
            tracing::info!(client = %self.peer, code = assessment.reply.code, "an SMTP message was refused");
            return assessment.reply;
        };
        let id = new_id();
        let plan = match serde_json::to_string(&plan) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "a mail plan could not be written");
                return Reply::new(451, "4.3.0", "Try again later.");
            }
        };
        let now = self.state.clock.now();
        let queued = QueuedMail {
            id: id.clone(),
            tenant_id: tenant.id.clone(),
            received_at: now,
            client: self.peer.ip().to_string(),
            mail_from: mail_from.map(|a| a.to_string()).unwrap_or_default(),
            recipients: tx.recipients.iter().map(ToString::to_string).collect(),
            raw,
            plan,
            attempts: 0,
        };
        if let Err(e) = self.state.store.enqueue_mail(&queued, now).await {
            tracing::error!(error = %e, "an accepted message could not be queued");
            return Reply::new(
                451,
                "4.3.0",
                "The message could not be stored; try again later.",
            );
        }
        self.state.mail_queue.notify_one();
        tracing::info!(client = %self.peer, queued = %id, "an SMTP message was queued");
        Reply::new(250, "2.0.0", format!("Queued as {id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_their_parameters() {
        assert_eq!(
            path("FROM:<a@b.example> SIZE=10", "FROM:"),
            Some(("a@b.example", "SIZE=10"))
        );
        assert_eq!(path("from: <>", "FROM:"), Some(("", "")));
        assert_eq!(
            path("TO:<@relay.example:c@d.example>", "TO:"),
            Some(("c@d.example", ""))
        );
        assert_eq!(path("TO:c@d.example", "TO:"), None);
        assert_eq!(path("FROM:<a@b.example>", "TO:"), None);
    }

    #[test]
    fn only_crlf_ends_a_line_and_a_cr_stands_nowhere_else() {
        assert!(!bare_line_ending(b"hello\r\n"));
        assert!(!bare_line_ending(b".\r\n"));
        assert!(!bare_line_ending(b"\r\n"));
        for bad in [
            &b"hello\n"[..],
            b".\n",
            b"hi\r.\r\n",
            b".\rMAIL FROM:<a@b>\r\n",
            b"a\rb\r\n",
            b"\r\r\n",
            b"no line ending",
        ] {
            assert!(bare_line_ending(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
