//! COL-2: appending a load's rows through SQLite's C API, one prepared INSERT
//! stepped per row, as the `sqlite3` shell's `.import` does. Binding through sqlx
//! instead built every argument as an owned value on the caller's thread and handed
//! the batch to the driver's worker, and the two took turns: the load spent twice
//! `.import`'s time in the inserts alone (docs/performance.md, "Loading").
//!
//! This is the only unsafe code of the project. Every pointer handed to SQLite is
//! either the connection sqlx lends us (`LockedSqliteHandle`, which keeps its worker
//! away while we hold it), a statement we prepared and finalize on every path
//! ([`Statement`]), or a row's text, which the statement's lifetime `'r` keeps
//! alive until the statement is finalized.
use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use gongshu_domain::dataset::Value;
use libsqlite3_sys as ffi;

/// Why SQLite refused: its result code and message.
#[derive(Debug)]
pub(crate) struct SqliteFailure {
    pub code: c_int,
    pub message: String,
}

impl SqliteFailure {
    /// A constraint failed (unique, not null): the caller's conflict, not a fault.
    pub fn is_constraint(&self) -> bool {
        self.code & 0xff == ffi::SQLITE_CONSTRAINT
    }
}

fn failure(db: *mut ffi::sqlite3, code: c_int) -> SqliteFailure {
    // SAFETY: `db` is the open connection we were lent; the message is copied
    // before any other call on it.
    let message = unsafe {
        let m = ffi::sqlite3_errmsg(db);
        if m.is_null() {
            format!("SQLite error {code}")
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    };
    SqliteFailure { code, message }
}

fn exec(db: *mut ffi::sqlite3, sql: &CStr) -> Result<(), SqliteFailure> {
    // SAFETY: a NUL-terminated statement on the lent connection, no callback.
    let rc = unsafe { ffi::sqlite3_exec(db, sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(failure(db, rc))
    }
}

/// A prepared statement, finalized when dropped. Text bound without a copy
/// borrows for `'r`, which outlives the statement: SQLite reads bound text until
/// the parameter is bound again or the statement is finalized.
struct Statement<'r> {
    db: *mut ffi::sqlite3,
    raw: NonNull<ffi::sqlite3_stmt>,
    bound: PhantomData<&'r str>,
}

impl<'r> Statement<'r> {
    fn prepare(db: *mut ffi::sqlite3, sql: &str) -> Result<Self, SqliteFailure> {
        let mut raw = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| SqliteFailure {
            code: ffi::SQLITE_TOOBIG,
            message: "statement too long".into(),
        })?;
        // SAFETY: `sql` is valid for `len` bytes; SQLite writes the statement to `raw`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db,
                sql.as_ptr().cast::<c_char>(),
                len,
                &mut raw,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(failure(db, rc));
        }
        match NonNull::new(raw) {
            Some(raw) => Ok(Self {
                db,
                raw,
                bound: PhantomData,
            }),
            None => Err(SqliteFailure {
                code: ffi::SQLITE_MISUSE,
                message: "empty statement".into(),
            }),
        }
    }

    fn check(&self, rc: c_int) -> Result<(), SqliteFailure> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(failure(self.db, rc))
        }
    }

    /// Binds one value at 1-based `index`; text without a copy.
    fn bind(&self, index: c_int, value: &'r Value) -> Result<(), SqliteFailure> {
        let s = self.raw.as_ptr();
        // SAFETY: `s` is our prepared statement.
        let rc = unsafe {
            match value {
                Value::Null => ffi::sqlite3_bind_null(s, index),
                // SAFETY: `t` lives for `'r`, which outlives the statement.
                Value::Text(t) => return self.bind_text(index, t, ffi::SQLITE_STATIC()),
                Value::Integer(i) => ffi::sqlite3_bind_int64(s, index, *i),
                Value::Number(n) => ffi::sqlite3_bind_double(s, index, *n),
                Value::Boolean(b) => ffi::sqlite3_bind_int64(s, index, i64::from(*b)),
                Value::Date(d) => return self.bind_copy(index, &crate::iso_date(d)),
                // The text sqlx writes for a NaiveDateTime, so that reads decode it alike.
                Value::DateTime(t) => {
                    return self.bind_copy(index, &t.format("%F %T%.f").to_string())
                }
            }
        };
        self.check(rc)
    }

    /// Binds text that SQLite copies at once.
    fn bind_copy(&self, index: c_int, text: &str) -> Result<(), SqliteFailure> {
        // SAFETY: SQLITE_TRANSIENT: SQLite copies the text before returning.
        unsafe { self.bind_text(index, text, ffi::SQLITE_TRANSIENT()) }
    }

    /// Binds UTF-8 text.
    ///
    /// # Safety
    /// With SQLITE_STATIC, SQLite keeps the pointer: `text` must stay valid and
    /// unchanged until the parameter is bound again or the statement is finalized.
    unsafe fn bind_text(
        &self,
        index: c_int,
        text: &str,
        lifetime: ffi::sqlite3_destructor_type,
    ) -> Result<(), SqliteFailure> {
        // SAFETY: our prepared statement; `text` is valid for its length, and for
        // as long as the caller promised when SQLite keeps it.
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.raw.as_ptr(),
                index,
                text.as_ptr().cast::<c_char>(),
                text.len() as u64,
                lifetime,
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.check(rc)
    }

    fn bind_int(&self, index: c_int, value: i64) -> Result<(), SqliteFailure> {
        // SAFETY: `raw` is our prepared statement.
        self.check(unsafe { ffi::sqlite3_bind_int64(self.raw.as_ptr(), index, value) })
    }

    /// Runs the bound INSERT and makes the statement ready for the next row.
    fn step_and_reset(&self) -> Result<(), SqliteFailure> {
        // SAFETY: `raw` is our prepared statement, fully bound.
        let rc = unsafe { ffi::sqlite3_step(self.raw.as_ptr()) };
        // SAFETY: as above; reset returns the step's error again, which we already have.
        unsafe { ffi::sqlite3_reset(self.raw.as_ptr()) };
        if rc == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(failure(self.db, rc))
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: prepared by us and finalized only here.
        unsafe { ffi::sqlite3_finalize(self.raw.as_ptr()) };
    }
}

/// Appends `rows` stamped with `load` in one write transaction, with `insert` the
/// statement `INSERT INTO t (<columns>, "_load", "_row", "_pos") VALUES (?, …, ?)`.
/// `columns` is how many schema columns each row carries. On any failure, the
/// commit's included, the transaction is rolled back and nothing of the batch
/// stays; should even that fail, [`in_transaction`] tells the caller, which
/// must then not hand the connection back for reuse.
pub(crate) fn append_rows(
    db: NonNull<ffi::sqlite3>,
    insert: &str,
    columns: usize,
    load: i64,
    rows: &[(i64, Vec<Value>)],
) -> Result<(), SqliteFailure> {
    let db = db.as_ptr();
    exec(db, c"BEGIN IMMEDIATE")?;
    let _open = RollbackUnlessDone { db };
    insert_each(db, insert, columns, load, rows)?;
    exec(db, c"COMMIT")
}

/// Whether the connection is inside a transaction.
pub(crate) fn in_transaction(db: NonNull<ffi::sqlite3>) -> bool {
    // SAFETY: the lent connection; reading its autocommit flag.
    unsafe { ffi::sqlite3_get_autocommit(db.as_ptr()) == 0 }
}

/// Rolls back a transaction still open when dropped: after a failed insert, a
/// failed COMMIT (SQLite keeps the transaction open then) or a panic.
struct RollbackUnlessDone {
    db: *mut ffi::sqlite3,
}

impl Drop for RollbackUnlessDone {
    fn drop(&mut self) {
        if let Some(db) = NonNull::new(self.db) {
            if in_transaction(db) {
                // The first error is the one reported; `in_transaction` catches a failure here.
                let _ = exec(self.db, c"ROLLBACK");
            }
        }
    }
}

/// Steps `insert` once per row; the statement is finalized before the rows it
/// bound are released.
fn insert_each(
    db: *mut ffi::sqlite3,
    insert: &str,
    columns: usize,
    load: i64,
    rows: &[(i64, Vec<Value>)],
) -> Result<(), SqliteFailure> {
    let statement = Statement::prepare(db, insert)?;
    let load_at = columns as c_int + 1;
    for (row, values) in rows {
        for (i, v) in values.iter().take(columns).enumerate() {
            statement.bind(i as c_int + 1, v)?;
        }
        for i in values.len()..columns {
            statement.bind(i as c_int + 1, &Value::Null)?;
        }
        let position = crate::row_position(load, *row).ok_or_else(|| SqliteFailure {
            code: ffi::SQLITE_RANGE,
            message: crate::past_positions(load, *row),
        })?;
        statement.bind_int(load_at, load)?;
        statement.bind_int(load_at + 1, *row)?;
        statement.bind_int(load_at + 2, position)?;
        statement.step_and_reset()?;
    }
    Ok(())
}

/// The one-row INSERT that [`append_rows`] steps, for a table and its column names.
pub(crate) fn insert_statement(table: &str, names: &[String]) -> String {
    let marks = vec!["?"; names.len() + 3].join(", ");
    format!(
        "INSERT INTO {table} ({}, \"_load\", \"_row\", \"_pos\") VALUES ({marks})",
        names.join(", ")
    )
}
