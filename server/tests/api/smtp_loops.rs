//! Mail loops and trace fields, tried against the listener in-process: a message that already
//! passed through `MAX_HOPS` servers (two relays routing to each other) is refused with 554 5.4.6
//! and nothing is queued; one hop fewer is queued, and what is relayed arrives behind exactly one
//! new `Received:` field, the message's own bytes unchanged.

use sealpost::mail::trace::{MAX_HOPS, hops};

use crate::smtp_smuggling::{listener, process_next, reply, transaction};

fn message(received_fields: usize) -> Vec<u8> {
    let mut raw = String::new();
    for i in 0..received_fields {
        raw.push_str(&format!(
            "Received: from [192.0.2.{}]\r\n\tby relay{i}.example with ESMTP id x{i};\r\n\tWed, 2 Dec 2026 06:00:00 +0000\r\n",
            i % 250
        ));
    }
    raw.push_str(
        "From: alex@contoso.example\r\nTo: bob@fabrikam.example\r\nSubject: Round and round\r\n\r\nHello again.\r\n",
    );
    raw.into_bytes()
}

#[tokio::test]
async fn a_looping_message_is_refused_and_one_hop_fewer_is_relayed_behind_one_new_trace_field() {
    let (app, t, addr) = listener().await;

    let looping = message(MAX_HOPS);
    let mut c = transaction(addr, &[looping.as_slice(), b".\r\n"].concat()).await;
    let answer = reply(&mut c).await;
    assert!(answer.starts_with("554 5.4.6 "), "{answer}");
    assert!(answer.contains("loop"), "{answer}");
    assert!(
        app.state.store.queued_mail(&t.id).await.unwrap().is_empty(),
        "a refused message must not be queued"
    );

    let last_hop = message(MAX_HOPS - 1);
    let mut c = transaction(addr, &[last_hop.as_slice(), b".\r\n"].concat()).await;
    let answer = reply(&mut c).await;
    assert!(answer.starts_with("250 2.0.0 Queued"), "{answer}");
    process_next(&app).await;
    let relayed = app.mails_to("bob@fabrikam.example").await;
    assert_eq!(relayed.len(), 1, "relayed once");
    let raw = &relayed[0].raw;
    assert!(
        raw.starts_with(b"Received: from [127.0.0.1]\r\n\tby "),
        "{}",
        String::from_utf8_lossy(raw)
    );
    assert_eq!(hops(raw), MAX_HOPS, "exactly one trace field added");
    let ours = raw
        .windows(2)
        .enumerate()
        .filter(|(_, w)| *w == b"\r\n")
        .map(|(i, _)| i + 2)
        .nth(2)
        .unwrap();
    assert_eq!(
        &raw[ours..],
        last_hop.as_slice(),
        "the message itself is unchanged"
    );
}
