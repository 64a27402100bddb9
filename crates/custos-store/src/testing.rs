//! Test support (feature `test-support`): a scratch PostgreSQL schema per test, so tests run in
//! parallel on one database. Never used by the server.

use crate::StoreError;

/// The environment variable naming the test PostgreSQL server.
pub const PG_ENV: &str = "CUSTOS_TEST_POSTGRES_URL";

/// A schema of its own on the test PostgreSQL server.
#[derive(Debug)]
pub struct PgScratch {
    admin_url: String,
    /// The schema's name.
    pub schema: String,
    /// A URL whose connections use only this schema (`search_path`).
    pub url: String,
}

/// Says loudly, on stderr, that PostgreSQL was skipped.
pub fn warn_skipped(test: &str) {
    #[allow(clippy::print_stderr, reason = "a skipped backend must be said loudly")]
    {
        eprintln!(
            "\n!!!!!!!! PostgreSQL SKIPPED in `{test}`: {PG_ENV} is not set. \
             Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to test the scale-out backend. !!!!!!!!\n"
        );
    }
}

impl PgScratch {
    /// Creates a fresh schema, or `None` (after a loud warning) when [`PG_ENV`] is unset.
    pub async fn create(test: &str) -> Option<Result<Self, StoreError>> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            warn_skipped(test);
            return None;
        };
        Some(Self::create_on(admin_url).await)
    }

    async fn create_on(admin_url: String) -> Result<Self, StoreError> {
        use sqlx::Connection;
        let schema = format!("custos_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // The name is `custos_test_` and hex digits: nothing to inject.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .map_err(crate::sql::map_err)?;
        let _ = conn.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        // Connections are named after the schema, so a test can find (and terminate) its own.
        let url = format!(
            "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        Ok(PgScratch {
            admin_url,
            schema,
            url,
        })
    }

    /// A direct connection to the schema, for what the store API cannot do (tampering).
    pub async fn connect(&self) -> Result<sqlx::PgConnection, StoreError> {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.url)
            .await
            .map_err(crate::sql::map_err)
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA {} CASCADE",
                self.schema
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}
