//! One statement, written once, run on either backend: [`Q`] holds the SQL text and its
//! arguments as plain values; [`Conn`] is the unit's connection on SQLite or PostgreSQL. The
//! area files (`people.rs`, `records.rs`, ...) are ordinary Rust over these two types, so each
//! operation has one SQL text and one body whatever the backend.

use super::{SqlRow, map_err};
use crate::StoreError;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};

/// A unit of work's connection, on one of the backends.
pub(crate) enum Conn<'c> {
    /// The embedded backend.
    Lite(&'c mut SqliteConnection),
    /// The scale-out backend.
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    /// The same connection for one more statement (a function that runs several takes the
    /// connection once and reborrows it for each).
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Lite(c) => Conn::Lite(c),
            Conn::Pg(c) => Conn::Pg(c),
        }
    }
}

/// A backend's transaction type, as the area implementations see it.
pub(crate) trait SqlTx: Send {
    /// The connection the unit's statements run on.
    fn conn(&mut self) -> Conn<'_>;
}

/// One argument of a statement. Every column Custos stores is text, an integer or bytes.
#[derive(Debug)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}
impl From<&Vec<u8>> for Arg {
    fn from(v: &Vec<u8>) -> Self {
        Arg::Bytes(Some(v.clone()))
    }
}

/// A statement: fixed SQL text (placeholders `$n`, which both backends accept) and arguments.
#[must_use = "a statement does nothing until it is run"]
pub(crate) struct Q {
    sql: &'static str,
    args: Vec<Arg>,
}

/// Starts a statement.
pub(crate) fn q(sql: &'static str) -> Q {
    Q {
        sql,
        args: Vec::new(),
    }
}

/// A row from either backend.
pub(crate) enum Row {
    Lite(SqliteRow),
    Pg(PgRow),
}

impl SqlRow for Row {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        match self {
            Row::Lite(r) => r.text(col),
            Row::Pg(r) => r.text(col),
        }
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        match self {
            Row::Lite(r) => r.opt_text(col),
            Row::Pg(r) => r.opt_text(col),
        }
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
        match self {
            Row::Lite(r) => r.bytes(col),
            Row::Pg(r) => r.bytes(col),
        }
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Row::Lite(r) => r.opt_bytes(col),
            Row::Pg(r) => r.opt_bytes(col),
        }
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        match self {
            Row::Lite(r) => r.int(col),
            Row::Pg(r) => r.int(col),
        }
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        match self {
            Row::Lite(r) => r.opt_int(col),
            Row::Pg(r) => r.opt_int(col),
        }
    }
}

type LiteQuery = sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;
type PgQuery = sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>;

impl Q {
    /// Adds the next argument (`$1`, `$2`, ... in order).
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn lite(self) -> LiteQuery {
        self.args
            .into_iter()
            .fold(sqlx::query(self.sql), |query, arg| match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            })
    }

    fn pg(self) -> PgQuery {
        self.args
            .into_iter()
            .fold(sqlx::query(self.sql), |query, arg| match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            })
    }

    /// Every row.
    pub(crate) async fn all(self, conn: Conn<'_>) -> Result<Vec<Row>, StoreError> {
        Ok(match conn {
            Conn::Lite(c) => {
                let rows = self.lite().fetch_all(c).await.map_err(map_err)?;
                rows.into_iter().map(Row::Lite).collect()
            }
            Conn::Pg(c) => {
                let rows = self.pg().fetch_all(c).await.map_err(map_err)?;
                rows.into_iter().map(Row::Pg).collect()
            }
        })
    }

    /// At most one row.
    pub(crate) async fn optional(self, conn: Conn<'_>) -> Result<Option<Row>, StoreError> {
        Ok(match conn {
            Conn::Lite(c) => self
                .lite()
                .fetch_optional(c)
                .await
                .map_err(map_err)?
                .map(Row::Lite),
            Conn::Pg(c) => self
                .pg()
                .fetch_optional(c)
                .await
                .map_err(map_err)?
                .map(Row::Pg),
        })
    }

    /// Exactly one row.
    pub(crate) async fn one(self, conn: Conn<'_>) -> Result<Row, StoreError> {
        Ok(match conn {
            Conn::Lite(c) => Row::Lite(self.lite().fetch_one(c).await.map_err(map_err)?),
            Conn::Pg(c) => Row::Pg(self.pg().fetch_one(c).await.map_err(map_err)?),
        })
    }

    /// Every row, decoded by `decode`.
    pub(crate) async fn list<T>(
        self,
        conn: Conn<'_>,
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.all(conn).await?.iter().map(decode).collect()
    }

    /// At most one row, decoded by `decode`.
    pub(crate) async fn get<T>(
        self,
        conn: Conn<'_>,
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.optional(conn).await?.as_ref().map(decode).transpose()
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub(crate) async fn run(self, conn: Conn<'_>) -> Result<u64, StoreError> {
        Ok(match conn {
            Conn::Lite(c) => self
                .lite()
                .execute(c)
                .await
                .map_err(map_err)?
                .rows_affected(),
            Conn::Pg(c) => self.pg().execute(c).await.map_err(map_err)?.rows_affected(),
        })
    }
}
