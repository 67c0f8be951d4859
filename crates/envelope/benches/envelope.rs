//! Native throughput of the envelope (criterion): sealing and opening parts of 16 KiB, 1 MiB and
//! 64 MiB, wrapping and unwrapping message keys, and HPKE key release (the server's seal, the
//! browser's open). Run by `scripts/bench`, which reads criterion's estimates into its table.
//! Native only: the browser's figures come from the benchmark page (`app/bench.html`).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;
    use std::time::Duration;

    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use sealpost_envelope::part::{MessageId, Part};
    use sealpost_envelope::{
        MessageKey, RecipientKeyPair, ReleaseBinding, TenantDataKey, WrapBinding, open_part,
        seal_part, seal_release, unwrap_message_key, wrap_message_key,
    };

    const SIZES: [(&str, usize); 3] = [("16KiB", 16 << 10), ("1MiB", 1 << 20), ("64MiB", 64 << 20)];

    fn id() -> MessageId {
        #[allow(clippy::unwrap_used)]
        MessageId::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    fn parts(c: &mut Criterion) {
        let key = MessageKey::generate();
        let message = id();
        for (name, len) in SIZES {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            #[allow(clippy::unwrap_used)]
            let sealed = seal_part(&key, &message, Part::Attachment(0), &plain).unwrap();
            let mut group = c.benchmark_group("part");
            group.throughput(Throughput::Bytes(len as u64));
            if len > 1 << 20 {
                group
                    .sample_size(10)
                    .measurement_time(Duration::from_secs(8));
            }
            group.bench_function(BenchmarkId::new("seal", name), |b| {
                b.iter(|| seal_part(&key, &message, Part::Attachment(0), black_box(&plain)))
            });
            group.bench_function(BenchmarkId::new("open", name), |b| {
                b.iter(|| open_part(&key, &message, Part::Attachment(0), black_box(&sealed)))
            });
            group.finish();
        }
    }

    fn keys(c: &mut Criterion) {
        let data_key = TenantDataKey::generate();
        let key = MessageKey::generate();
        let message = id();
        let binding = WrapBinding {
            tenant_id: "tenant-1",
            message_id: &message,
            key_version: 1,
        };
        #[allow(clippy::unwrap_used)]
        let wrapped = wrap_message_key(&data_key, &key, &binding).unwrap();
        let pair = RecipientKeyPair::generate();
        let public = pair.public_key();
        let release_binding = ReleaseBinding {
            message_id: &message,
            recipient: "bob@example.net",
            session: b"0123456789abcdef0123456789abcdef",
        };
        #[allow(clippy::unwrap_used)]
        let release = seal_release(&public, &key, &release_binding).unwrap();

        let mut group = c.benchmark_group("key");
        group.bench_function("wrap", |b| {
            b.iter(|| wrap_message_key(&data_key, black_box(&key), &binding))
        });
        group.bench_function("unwrap", |b| {
            b.iter(|| unwrap_message_key(&data_key, black_box(&wrapped), &binding))
        });
        group.bench_function("release_seal", |b| {
            b.iter(|| seal_release(black_box(&public), &key, &release_binding))
        });
        group.bench_function("release_open", |b| {
            b.iter(|| pair.open_release(black_box(&release), &release_binding))
        });
        group.finish();
    }

    criterion_group!(benches, parts, keys);
}
