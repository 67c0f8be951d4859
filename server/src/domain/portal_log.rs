//! The portal tracking log's chain: each entry's hash covers the previous entry's hash and every
//! field of its own, so editing, deleting or reordering any entry breaks the chain from there on.
//!
//! ```text
//! hash = SHA-256( "sealpost/portal-log/v1" || 0x00 || prev_hash (32) || be64(seq) || be64(at)
//!                 || for each of tenant, message, recipient, event, detail, client, user agent:
//!                    be32(len) || bytes )
//! ```
//!
//! The first entry of a tenant has `seq` 1 and a `prev_hash` of 32 zero bytes. What a chain cannot
//! show by itself is that its newest entries were cut off; `sealpost portal-log verify` prints the
//! head (sequence number and hash) so an operator can record it elsewhere and check it later.

use sha2::{Digest, Sha256};

/// The `prev_hash` of a tenant's first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// What happened in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalEvent {
    /// A passcode was emailed.
    PasscodeSent,
    /// A passcode email could not be sent.
    PasscodeSendFailed,
    /// A passcode request was over the hourly limit.
    PasscodeRateLimited,
    /// A wrong, expired or used-up passcode was entered.
    PasscodeRejected,
    /// A passcode reached its last wrong try and can no longer be used.
    PasscodeBurned,
    /// The recipient signed in with an emailed passcode.
    SignedIn,
    /// The recipient signed in with an identity provider (the detail names it).
    SignedInWithProvider,
    /// A sign-in with an identity provider was refused (the detail says why).
    ProviderSignInRefused,
    /// The recipient signed in with a passkey (the detail names it).
    SignedInWithPasskey,
    /// A passkey's answer did not verify.
    PasskeyRefused,
    /// The recipient made a passkey for their address.
    PasskeyAdded,
    /// A passkey of the recipient's was removed (by them, or by an admin: the detail says).
    PasskeyRemoved,
    /// The recipient signed out.
    SignedOut,
    /// The message key was released to the recipient's page.
    KeyReleased,
    /// The message key was refused.
    KeyRefused,
    /// A sealed part was downloaded.
    PartDownloaded,
    /// The recipient replied.
    Replied,
    /// The recipient replied to all.
    RepliedAll,
    /// The recipient forwarded the message.
    Forwarded,
    /// An answer was refused by the rights or the message's state.
    ActionRefused,
}

impl PortalEvent {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PortalEvent::PasscodeSent => "passcode_sent",
            PortalEvent::PasscodeSendFailed => "passcode_send_failed",
            PortalEvent::PasscodeRateLimited => "passcode_rate_limited",
            PortalEvent::PasscodeRejected => "passcode_rejected",
            PortalEvent::PasscodeBurned => "passcode_burned",
            PortalEvent::SignedIn => "signed_in",
            PortalEvent::SignedInWithProvider => "signed_in_with_provider",
            PortalEvent::ProviderSignInRefused => "provider_sign_in_refused",
            PortalEvent::SignedInWithPasskey => "signed_in_with_passkey",
            PortalEvent::PasskeyRefused => "passkey_refused",
            PortalEvent::PasskeyAdded => "passkey_added",
            PortalEvent::PasskeyRemoved => "passkey_removed",
            PortalEvent::SignedOut => "signed_out",
            PortalEvent::KeyReleased => "key_released",
            PortalEvent::KeyRefused => "key_refused",
            PortalEvent::PartDownloaded => "part_downloaded",
            PortalEvent::Replied => "replied",
            PortalEvent::RepliedAll => "replied_all",
            PortalEvent::Forwarded => "forwarded",
            PortalEvent::ActionRefused => "action_refused",
        }
    }
}

/// One entry, without its chain fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Tenant.
    pub tenant_id: String,
    /// When.
    pub at: i64,
    /// Message.
    pub message_id: String,
    /// Recipient address.
    pub recipient: String,
    /// Event name ([`PortalEvent::as_str`]).
    pub event: String,
    /// More about it; never a secret.
    pub detail: String,
    /// Client address.
    pub client_addr: String,
    /// Client user agent.
    pub user_agent: String,
}

/// An entry as stored: with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    /// Position, from 1.
    pub seq: u64,
    pub entry: LogEntry,
    /// The previous entry's hash.
    pub prev_hash: Vec<u8>,
    /// This entry's hash.
    pub hash: Vec<u8>,
}

/// The hash of `entry` at `seq` after `prev_hash`.
pub fn entry_hash(prev_hash: &[u8], seq: u64, entry: &LogEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"sealpost/portal-log/v1\0");
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry.at.to_be_bytes());
    for field in [
        &entry.tenant_id,
        &entry.message_id,
        &entry.recipient,
        &entry.event,
        &entry.detail,
        &entry.client_addr,
        &entry.user_agent,
    ] {
        h.update((field.len() as u32).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry is missing or out of order.
    #[error("entry {found} follows entry {previous}: an entry was removed or reordered")]
    Gap {
        /// The sequence number before.
        previous: u64,
        /// The one found next.
        found: u64,
    },
    /// An entry does not point at the previous entry's hash.
    #[error(
        "entry {seq} does not follow from the entry before it: an earlier entry was changed or removed"
    )]
    Unlinked {
        /// The entry.
        seq: u64,
    },
    /// An entry's content does not match its hash.
    #[error("entry {seq} was changed after it was written")]
    Altered {
        /// The entry.
        seq: u64,
    },
    /// A head recorded earlier is older than the retention checkpoint: it was pruned.
    #[error(
        "entry {seq} was pruned by the log's retention (entries up to {checkpoint} were removed and their last hash kept); verify with a head recorded after entry {checkpoint}"
    )]
    Pruned {
        /// The recorded head's entry.
        seq: u64,
        /// The last pruned entry.
        checkpoint: u64,
    },
    /// The chain no longer contains a head recorded earlier.
    #[error(
        "entry {seq} no longer has the hash recorded for it: the log was rewritten or cut short"
    )]
    HeadMismatch {
        /// The recorded head's sequence number.
        seq: u64,
    },
}

/// An intact chain's length and newest hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Entries checked.
    pub entries: u64,
    /// The newest entry's hash (or [`GENESIS`] for an empty log).
    pub hash: [u8; 32],
}

/// Checks a tenant's chain entry by entry, oldest first, without holding it all in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    seq: u64,
    hash: [u8; 32],
    expect: Option<(u64, [u8; 32])>,
    expect_seen: bool,
}

impl ChainVerifier {
    /// A verifier; `expect` is a head recorded earlier (sequence number and hash) that must still
    /// be in the chain.
    pub fn new(expect: Option<(u64, [u8; 32])>) -> ChainVerifier {
        ChainVerifier::after(None, expect)
    }

    /// A verifier for a chain whose entries up to a retention `checkpoint` (the last pruned
    /// entry's sequence number and hash) were removed: the first entry left must follow from it.
    /// A head `expect`ed at the checkpoint is compared with it; one before it cannot be checked.
    pub fn after(
        checkpoint: Option<(u64, [u8; 32])>,
        expect: Option<(u64, [u8; 32])>,
    ) -> ChainVerifier {
        let (seq, hash) = checkpoint.unwrap_or((0, GENESIS));
        let expect_seen = matches!(expect, Some((s, h)) if s == seq && h == hash && seq > 0);
        ChainVerifier {
            seq,
            hash,
            expect,
            expect_seen,
        }
    }

    /// Where checking starts: the checkpoint's sequence number (0 without one).
    pub fn start(&self) -> u64 {
        self.seq
    }

    /// Check the next entry.
    pub fn push(&mut self, e: &ChainedEntry) -> Result<(), ChainBreak> {
        if e.seq != self.seq + 1 {
            return Err(ChainBreak::Gap {
                previous: self.seq,
                found: e.seq,
            });
        }
        if e.prev_hash != self.hash {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        let hash = entry_hash(&self.hash, e.seq, &e.entry);
        if e.hash != hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if let Some((seq, expected)) = self.expect
            && seq == e.seq
        {
            if expected != hash {
                return Err(ChainBreak::HeadMismatch { seq });
            }
            self.expect_seen = true;
        }
        self.seq = e.seq;
        self.hash = hash;
        Ok(())
    }

    /// The end of the chain (`checkpoint` as given to [`ChainVerifier::after`]).
    pub fn finish(self, checkpoint: Option<u64>) -> Result<ChainHead, ChainBreak> {
        if let Some((seq, hash)) = self.expect
            && !self.expect_seen
            && !(seq == 0 && hash == GENESIS)
        {
            if let Some(checkpoint) = checkpoint
                && seq < checkpoint
            {
                return Err(ChainBreak::Pruned { seq, checkpoint });
            }
            return Err(ChainBreak::HeadMismatch { seq });
        }
        Ok(ChainHead {
            entries: self.seq,
            hash: self.hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> LogEntry {
        LogEntry {
            tenant_id: "t".into(),
            at: 100 + i as i64,
            message_id: "m".into(),
            recipient: "bob@example.net".into(),
            event: PortalEvent::SignedIn.as_str().into(),
            detail: String::new(),
            client_addr: "192.0.2.1".into(),
            user_agent: "test".into(),
        }
    }

    fn chain(n: u64) -> Vec<ChainedEntry> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let e = entry(seq);
                let hash = entry_hash(&prev, seq, &e);
                let c = ChainedEntry {
                    seq,
                    entry: e,
                    prev_hash: prev.to_vec(),
                    hash: hash.to_vec(),
                };
                prev = hash;
                c
            })
            .collect()
    }

    fn verify(
        entries: &[ChainedEntry],
        expect: Option<(u64, [u8; 32])>,
    ) -> Result<ChainHead, ChainBreak> {
        let mut v = ChainVerifier::new(expect);
        for e in entries {
            v.push(e)?;
        }
        v.finish(None)
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let c = chain(4);
        let head = verify(&c, None).unwrap();
        assert_eq!(head.entries, 4);
        assert_eq!(head.hash.to_vec(), c[3].hash);
        assert_eq!(verify(&[], None).unwrap().hash, GENESIS);
        // The head printed for an empty log (0 and the genesis hash) holds for any chain.
        assert!(verify(&[], Some((0, GENESIS))).is_ok());
        assert!(verify(&c, Some((0, GENESIS))).is_ok());
        assert!(verify(&c, Some((0, [1; 32]))).is_err());
        let recorded = (2, <[u8; 32]>::try_from(c[1].hash.as_slice()).unwrap());
        assert!(verify(&c, Some(recorded)).is_ok());
    }

    #[test]
    fn edits_removals_reorders_and_truncations_are_detected() {
        let c = chain(4);
        let mut edited = c.clone();
        edited[1].entry.recipient = "mallory@example.net".into();
        assert_eq!(
            verify(&edited, None).unwrap_err(),
            ChainBreak::Altered { seq: 2 }
        );

        let mut rehashed = edited.clone();
        rehashed[1].hash = entry_hash(&rehashed[1].prev_hash, 2, &rehashed[1].entry).to_vec();
        assert_eq!(
            verify(&rehashed, None).unwrap_err(),
            ChainBreak::Unlinked { seq: 3 }
        );

        let removed: Vec<_> = c.iter().filter(|e| e.seq != 2).cloned().collect();
        assert_eq!(
            verify(&removed, None).unwrap_err(),
            ChainBreak::Gap {
                previous: 1,
                found: 3
            }
        );

        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert!(verify(&swapped, None).is_err());

        let head = (4, <[u8; 32]>::try_from(c[3].hash.as_slice()).unwrap());
        assert_eq!(
            verify(&c[..3], Some(head)).unwrap_err(),
            ChainBreak::HeadMismatch { seq: 4 }
        );
        assert_eq!(
            verify(&rehashed, Some((1, [0; 32]))).unwrap_err(),
            ChainBreak::HeadMismatch { seq: 1 }
        );
    }

    #[test]
    fn a_pruned_chain_verifies_from_its_checkpoint_and_nothing_before_it_can_be_slipped_in() {
        let c = chain(6);
        let hash = |i: usize| <[u8; 32]>::try_from(c[i].hash.as_slice()).unwrap();
        // Entries 1–3 pruned; the checkpoint is entry 3's hash.
        let checkpoint = Some((3, hash(2)));
        let rest = &c[3..];
        let check = |entries: &[ChainedEntry], expect| {
            let mut v = ChainVerifier::after(checkpoint, expect);
            for e in entries {
                v.push(e)?;
            }
            v.finish(Some(3))
        };
        assert_eq!(check(rest, None).unwrap().entries, 6);
        assert!(
            check(rest, Some((3, hash(2)))).is_ok(),
            "a head at the checkpoint"
        );
        assert!(check(rest, Some((5, hash(4)))).is_ok(), "a head after it");
        assert_eq!(
            check(rest, Some((2, hash(1)))).unwrap_err(),
            ChainBreak::Pruned {
                seq: 2,
                checkpoint: 3
            }
        );
        // A first entry that does not follow from the checkpoint breaks the chain.
        assert_eq!(
            check(&c[4..], None).unwrap_err(),
            ChainBreak::Gap {
                previous: 3,
                found: 5
            }
        );
        let mut forged = rest.to_vec();
        forged[0].prev_hash = vec![9; 32];
        assert_eq!(
            check(&forged, None).unwrap_err(),
            ChainBreak::Unlinked { seq: 4 }
        );
        // Nothing left after the checkpoint is still intact.
        assert_eq!(check(&[], None).unwrap().entries, 3);
    }
}
