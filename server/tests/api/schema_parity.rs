//! SQLite's and PostgreSQL's migrations describe the same tables with the same columns, so the one
//! SQL source both engines run finds what it names on either. Needs PostgreSQL, so it is ignored
//! in plain runs and the test command's PostgreSQL run asks for it by name.

use std::collections::BTreeSet;

use sqlx::Row;

use crate::helpers::{Database, TestApp, test_database};

/// Columns PostgreSQL has and SQLite does not need: an identity column on the tables whose queries
/// break ties by insertion order (SQLite has its implicit `rowid` there).
const POSTGRES_ONLY: [(&str, &str); 3] = [
    ("messages", "rowid"),
    ("recipients", "rowid"),
    ("passcodes", "rowid"),
];

async fn columns(db: &Database) -> BTreeSet<(String, String)> {
    match db {
        Database::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' \
                 and name not like 'sqlite_%' and name not like '_sqlx%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut out = BTreeSet::new();
            for t in tables {
                for row in sqlx::query(&format!("pragma table_info(\"{t}\")"))
                    .fetch_all(pool)
                    .await
                    .unwrap()
                {
                    out.insert((t.clone(), row.get::<String, _>("name")));
                }
            }
            out
        }
        Database::Postgres(pool) => sqlx::query(
            "select table_name::text as t, column_name::text as c from information_schema.columns \
             where table_schema = current_schema() and table_name not like '_sqlx%'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c")))
        .filter(|(t, c)| !POSTGRES_ONLY.contains(&(t.as_str(), c.as_str())))
        .collect(),
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: the test command's PostgreSQL run names it"]
async fn sqlite_and_postgresql_have_the_same_tables_and_columns() {
    assert!(
        test_database().await.is_some(),
        "run inside pg_virtualenv with SEALPOST_TEST_POSTGRES=1"
    );
    let on_postgres = TestApp::new().await;
    assert!(on_postgres.on_postgres());
    let on_sqlite = TestApp::with_config(|c| c.database_url = None).await;
    assert!(!on_sqlite.on_postgres());
    let (pg, lite) = (
        columns(&on_postgres.database().await).await,
        columns(&on_sqlite.database().await).await,
    );
    assert!(lite.len() > 50, "{lite:?}");
    let only_pg: Vec<_> = pg.difference(&lite).collect();
    let only_lite: Vec<_> = lite.difference(&pg).collect();
    assert!(
        only_pg.is_empty() && only_lite.is_empty(),
        "only in PostgreSQL: {only_pg:?}\nonly in SQLite: {only_lite:?}"
    );
}
