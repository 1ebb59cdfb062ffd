//! What the benches share: a fresh database of either kind.

/// The URL of a new, empty database: a SQLite file under the temp folder, or a database
/// on the cluster `AURA_TEST_POSTGRES_URL` names (for "PostgreSQL").
pub async fn database_url(label: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match label {
        "PostgreSQL" => {
            use sqlx::Connection;
            let admin = std::env::var("AURA_TEST_POSTGRES_URL").unwrap();
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE bench_{id}"))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{}/bench_{id}", admin.rsplit_once('/').unwrap().0)
        }
        _ => {
            let dir = std::env::temp_dir().join("aura-bench");
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}/{id}.db", dir.display())
        }
    }
}
