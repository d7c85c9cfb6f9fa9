//! Statements prepared once per connection (feature `postgres`).
//!
//! The `postgres` client prepares a statement given as text on every call: a round trip, and a
//! parse, analysis and plan on the server, each time. For the verifier service that was about a
//! fifth of PostgreSQL's CPU per session. Here each pooled connection keeps the statements it
//! has prepared, by their text, and [`Transaction`] looks them up. Prepared statements belong
//! to the connection, not the transaction, so one prepared in a transaction that rolled back
//! still serves the next; they go when the pool drops the connection.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use r2d2_postgres::PostgresConnectionManager;

/// Statements kept per connection at most: the stores use a few dozen fixed texts; a text made
/// at run time beyond this is prepared for its one call, as before.
const MAX_STATEMENTS: usize = 256;

/// A connection and the statements it has prepared, by their SQL text.
pub(crate) struct PreparingClient {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PreparingClient {
    /// Starts a transaction at `isolation` on this connection.
    pub(crate) fn transaction(
        &mut self,
        isolation: postgres::IsolationLevel,
    ) -> Result<Transaction<'_>, postgres::Error> {
        let PreparingClient { client, statements } = self;
        let tx = client
            .build_transaction()
            .isolation_level(isolation)
            .start()?;
        Ok(Transaction { tx, statements })
    }
}

/// r2d2_postgres's connection manager, each connection keeping its prepared statements.
pub(crate) struct Manager<T>(pub(crate) PostgresConnectionManager<T>);

impl<T> r2d2::ManageConnection for Manager<T>
where
    PostgresConnectionManager<T>:
        r2d2::ManageConnection<Connection = Client, Error = postgres::Error>,
    T: Send + Sync + 'static,
{
    type Connection = PreparingClient;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PreparingClient, postgres::Error> {
        Ok(PreparingClient {
            client: self.0.connect()?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PreparingClient) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PreparingClient) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

/// Parameters of a statement.
type Params<'p> = [&'p (dyn ToSql + Sync)];

/// A transaction of [`crate::postgres::Database::transaction`]: the `postgres` client's, with
/// each statement text prepared once per connection.
pub struct Transaction<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
}

impl Transaction<'_> {
    /// The prepared statement for `sql`: kept from an earlier call on this connection, or
    /// prepared now (and kept while there is room).
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        if self.statements.len() < MAX_STATEMENTS {
            self.statements.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    /// Runs `sql` with `params`; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.tx.execute(&statement, params)
    }

    /// The rows `sql` returns.
    pub fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.tx.query(&statement, params)
    }

    /// The one row `sql` returns (an error for none or several).
    pub fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.tx.query_one(&statement, params)
    }

    /// The row `sql` returns, if any (an error for several).
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.tx.query_opt(&statement, params)
    }

    /// Runs `sql`, one or more statements without parameters (schema steps), unprepared.
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.tx.batch_execute(sql)
    }

    /// Commits.
    pub(crate) fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }
}
