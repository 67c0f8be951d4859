//! Any bytes from a client, as a whole SMTP conversation with the real session: a tenant whose
//! connector lets the client send (so DATA is reached and messages are queued), on SQLite in memory-backed
//! storage. The session answers or closes; it never panics and always ends once the client does.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealpost::config::Config;
use sealpost::state::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    runtime: tokio::runtime::Runtime,
    state: AppState,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        // /dev/shm keeps the database in memory: an accepted message is a row, not an fsync.
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("sealpost-fuzz-smtp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let state = runtime.block_on(async {
            let config = Config {
                data_dir: dir,
                dev_mailbox: true,
                ..Config::default()
            };
            let state = AppState::open(config).await.expect("the state opens");
            let (tenant, _) = sealpost::services::tenants::create_tenant(
                state.store.as_ref(),
                state.keys.as_ref(),
                "Contoso",
                &["contoso.example".to_owned()],
                state.clock.now(),
            )
            .await
            .expect("a tenant");
            state
                .store
                .put_connector_networks(&tenant.id, &["127.0.0.0/8".to_owned()], state.clock.now())
                .await
                .expect("a connector");
            state
        });
        World { runtime, state }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.runtime.block_on(async {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let session = tokio::spawn(sealpost::smtp::session::serve(
            Box::new(server),
            "127.0.0.1:40000".parse().expect("an address"),
            w.state.clone(),
            None,
        ));
        let (mut read, mut write) = tokio::io::split(&mut client);
        let talk = async {
            let _ = write.write_all(data).await;
            let _ = write.shutdown().await;
        };
        let mut said = Vec::new();
        let listen = read.read_to_end(&mut said);
        let (_, _) = tokio::join!(talk, listen);
        session.await.expect("the session does not panic");
        assert!(said.starts_with(b"220 "));
    });
});
