//! Group commit for what a key decision writes: its audit event, its portal log entry (when the
//! tenant keeps one), the first open and the session's last use. Every release and refusal is
//! handed to one writer task, which writes what has queued up meanwhile (up to [`BATCH`]) in one
//! transaction and one durable commit, then answers each caller. A caller answers its client only
//! after that commit, so a crash never loses a decision the client was told about; concurrent
//! decisions share one fsync instead of waiting for one each.
//!
//! If a shared commit fails, each of its records is written again alone, so one record the
//! database refuses fails only its own request; when two in a row fail too, the database itself
//! is failing and the rest are refused at once.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{AuditEvent, Store, StoreError, StoreResult};
use crate::domain::portal_log::LogEntry;
use crate::metrics::Metrics;

/// Most decisions written in one transaction.
pub const BATCH: usize = 256;

/// What one key decision writes, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// The audit event (always).
    pub audit: AuditEvent,
    /// The portal log entry, if the tenant keeps a portal log.
    pub portal: Option<LogEntry>,
    /// The first open of the message by this recipient: (message id, address).
    pub opened: Option<(String, String)>,
    /// The session's use: the hash of its id (its last use becomes the audit event's time).
    pub touched: Option<[u8; 32]>,
}

type Job = (DecisionRecord, oneshot::Sender<StoreResult<()>>);

/// The handle every request records its decision through (cheap to clone).
#[derive(Debug, Clone)]
pub struct DecisionWriter {
    jobs: mpsc::Sender<Job>,
}

impl DecisionWriter {
    /// Start the writer task on the current runtime. It ends when the last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> DecisionWriter {
        let (jobs, queue) = mpsc::channel(4 * BATCH);
        tokio::spawn(write_batches(store, metrics, queue));
        DecisionWriter { jobs }
    }

    /// Write `record` durably, together with whatever else is waiting.
    pub async fn record(&self, record: DecisionRecord) -> StoreResult<()> {
        let (done, answer) = oneshot::channel();
        let stopped = || StoreError::Database("the decision writer has stopped".into());
        self.jobs
            .send((record, done))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut jobs, BATCH).await > 0 {
        let (records, answers): (Vec<DecisionRecord>, Vec<_>) = jobs.drain(..).unzip();
        match write(&*store, &metrics, &records).await {
            Ok(()) => {
                for answer in answers {
                    let _ = answer.send(Ok(()));
                }
            }
            Err(e) if records.len() == 1 => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, records = records.len(), "a shared commit of key decisions failed; writing each alone");
                alone(&*store, &metrics, records, answers).await;
            }
        }
    }
}

/// One transaction of decisions, counted in the metrics when it commits.
async fn write(
    store: &dyn Store,
    metrics: &Metrics,
    records: &[DecisionRecord],
) -> StoreResult<()> {
    let written = store.record_decisions(records).await;
    if written.is_ok() {
        metrics.decision_commit();
    }
    written
}

/// Write each record of a failed batch on its own, so one the database refuses fails only its own
/// request. When two in a row fail, the database itself is failing (busy, unreachable): the rest
/// are answered with that error at once rather than each waiting for its own timeout.
async fn alone(
    store: &dyn Store,
    metrics: &Metrics,
    records: Vec<DecisionRecord>,
    answers: Vec<oneshot::Sender<StoreResult<()>>>,
) {
    let mut failed_in_a_row = 0;
    for (record, answer) in records.into_iter().zip(answers) {
        if failed_in_a_row >= 2 {
            let _ = answer.send(Err(StoreError::Database(
                "the database failed to record key decisions".into(),
            )));
            continue;
        }
        let written = write(store, metrics, std::slice::from_ref(&record)).await;
        failed_in_a_row = if written.is_ok() {
            0
        } else {
            failed_in_a_row + 1
        };
        let _ = answer.send(written);
    }
}
