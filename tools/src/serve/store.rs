//! The SQLite store and its single writer.
//!
//! One thread owns the only writing connection. Request handlers send their
//! validated events over a bounded channel, each batch with a oneshot reply;
//! the writer takes everything queued at that moment, inserts it in ONE
//! transaction (group commit) and answers every batch only after COMMIT has
//! returned. A client is therefore never told "accepted" for an event that is
//! not in the database, and one commit is paid per group, not per request.
//!
//! Durability: the database runs in WAL mode with `synchronous=NORMAL`. At
//! COMMIT, SQLite has written the transaction's frames into the `-wal` file
//! with `write(2)`, so they sit in the operating system's page cache, which
//! belongs to the kernel and survives the death of the process: after a
//! `kill -9` (or a panic, or an OOM kill) the next open replays the WAL and
//! every acknowledged event is there. What NORMAL does not cover is the
//! machine itself losing power or the kernel crashing before the WAL is
//! fsynced (at the next checkpoint); `--synchronous full` covers that too,
//! with an fsync at every commit.

use super::config::Synchronous;
use anyhow::{Context as _, Result};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most events one transaction takes; the rest wait for the next commit.
const MAX_GROUP_EVENTS: usize = 20_000;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    message_id         TEXT PRIMARY KEY NOT NULL,  -- the dedupe key
    type               TEXT NOT NULL,              -- track, identify, page, screen, group, alias
    event              TEXT,                       -- the track event's name
    anonymous_id       TEXT,
    user_id            TEXT,
    account            TEXT,                       -- properties.account (the company domain)
    playbook_id        TEXT,                       -- context.playbook.id
    playbook_revision  INTEGER,                    -- context.playbook.revision
    received_at        INTEGER NOT NULL,           -- server clock, ms since the epoch
    sent_at            INTEGER,                    -- client clock when the batch left
    original_timestamp INTEGER,                    -- client clock when the event happened
    timestamp          INTEGER NOT NULL,           -- corrected: received_at - (sent_at - original_timestamp)
    payload            TEXT NOT NULL,              -- the event as received (less any writeKey)
    trust              TEXT NOT NULL DEFAULT 'asserted' -- 'verified': sent with a trusted (server-side) write key
);
CREATE VIEW IF NOT EXISTS events_readable AS
SELECT message_id, type, event, anonymous_id, user_id, account, playbook_id, playbook_revision, trust,
       strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch') AS received_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', sent_at / 1000.0, 'unixepoch') AS sent_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', original_timestamp / 1000.0, 'unixepoch') AS original_timestamp,
       strftime('%Y-%m-%dT%H:%M:%fZ', timestamp / 1000.0, 'unixepoch') AS timestamp,
       payload
FROM events;
-- Rows changed in place (an asserted event replaced by its verified copy) or
-- deleted, by any process: the views' signal cache reads only rows committed
-- or changed since its last read. Additive: any collector version keeps it.
CREATE TABLE IF NOT EXISTS changed (seq INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_updated AFTER UPDATE ON events
BEGIN INSERT INTO changed (row) VALUES (old.rowid); END;
CREATE TRIGGER IF NOT EXISTS events_deleted AFTER DELETE ON events
BEGIN INSERT INTO changed (row) VALUES (old.rowid); END;
-- A row another process's INSERT OR REPLACE takes the place of: its delete
-- fires no trigger (unless that connection set recursive_triggers), so it is
-- logged before the insert, while it is still there. (A duplicate the
-- collector ignores is logged too: read again, unchanged.)
CREATE TRIGGER IF NOT EXISTS events_replaced BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events WHERE message_id = new.message_id)
BEGIN INSERT INTO changed (row) SELECT rowid FROM events WHERE message_id = new.message_id; END;
PRAGMA user_version = 3;
";

/// The schema version `SCHEMA` sets: 1 had no `trust` column, 2 added it (but
/// kept a view without it when migrating), 3 rebuilds the view.
const SCHEMA_VERSION: i64 = 3;

/// Databases written before the `trust` column: everything in them was client-asserted.
const MIGRATE_TRUST: &str = "ALTER TABLE events ADD COLUMN trust TEXT NOT NULL DEFAULT 'asserted'";

/// `CREATE VIEW IF NOT EXISTS` keeps an old view as it was: a database from
/// before the current schema gets it rebuilt (with `trust`).
const MIGRATE_VIEW: &str = "DROP VIEW IF EXISTS events_readable";

const INSERT: &str =
    "INSERT OR IGNORE INTO events (message_id, type, event, anonymous_id, user_id, account,
    playbook_id, playbook_revision, received_at, sent_at, original_timestamp, timestamp, payload, trust)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// A verified copy of an event stored as asserted replaces it: messageIds are
/// predictable, so a page could otherwise send an id first (asserted) and
/// keep the edge's verified signal out. Every column that comes from the
/// event is the verified copy's; a verified row is never replaced, and an
/// asserted copy never touches a stored row. Same parameters as `INSERT`.
const UPGRADE: &str = "UPDATE events SET type = ?2, event = ?3, anonymous_id = ?4, user_id = ?5,
    account = ?6, playbook_id = ?7, playbook_revision = ?8, received_at = ?9, sent_at = ?10,
    original_timestamp = ?11, timestamp = ?12, payload = ?13, trust = ?14
    WHERE message_id = ?1 AND trust = 'asserted' AND ?14 = 'verified'";

/// How the writer opens and runs the database.
#[derive(Debug, Clone)]
pub struct Options {
    pub synchronous: Synchronous,
    /// Testing aid: hold every commit this long.
    pub commit_delay: Duration,
    /// How long to wait for a lock another process holds before failing the batch.
    pub busy_timeout: Duration,
    /// Testing aid: SQLite `max_page_count` (a full disk, simulated).
    pub max_pages: Option<u64>,
}

/// One validated event, ready to insert.
#[derive(Debug, Clone)]
pub struct Row {
    pub message_id: String,
    pub kind: &'static str,
    pub event: Option<String>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub account: Option<String>,
    pub playbook_id: Option<String>,
    pub playbook_revision: Option<i64>,
    pub received_at: i64,
    pub sent_at: Option<i64>,
    pub original_timestamp: Option<i64>,
    pub timestamp: i64,
    pub payload: String,
    /// Sent with a trusted (server-side) write key: its firmographics are facts.
    pub trusted: bool,
}

/// What one batch became once committed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stored {
    /// Events new to the database.
    pub inserted: usize,
    /// Verified events that replaced an asserted copy with the same messageId
    /// (stored, but not new: the row count does not change).
    pub upgraded: usize,
    /// Events whose messageId was already stored (or repeated in the batch).
    pub duplicates: usize,
}

/// Why a batch could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The queue is full: the client should retry later (429).
    Full,
    /// The writer has stopped (shutting down, or the database failed).
    Closed,
}

/// Why a batch was not stored (nothing of it was: the transaction rolled back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The disk (or the database's size cap) is full: 507.
    Full,
    /// Another process holds the database lock: 503, retry.
    Locked,
    /// Any other database error: 503.
    Failed,
    /// The database file was moved or deleted while the collector ran: 503
    /// while the path does not name the file opened (SQLite would go on
    /// writing to it, wherever it now is, or to none at all).
    Moved,
}

impl Fault {
    /// The name reported in `/api/health`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Full => "disk_full",
            Fault::Locked => "database_locked",
            Fault::Failed => "database_error",
            Fault::Moved => "database_moved",
        }
    }

    fn of(e: &rusqlite::Error) -> Fault {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Fault::Full,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Fault::Locked,
            _ => Fault::Failed,
        }
    }
}

/// A batch the database could not store, and why.
#[derive(Debug, Clone)]
pub struct StoreError {
    pub fault: Fault,
    pub message: String,
}

/// The last fault, for `/api/health`.
#[derive(Debug, Clone)]
pub struct FaultRecord {
    pub fault: Fault,
    pub message: String,
    /// When it happened (ms since the epoch).
    pub at: i64,
}

type Reply = oneshot::Sender<Result<Stored, StoreError>>;

enum Msg {
    Batch(Vec<Row>, Reply),
    Shutdown,
}

/// Counters shared by the writer and the handlers (for `/api/health`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Rows in the database at start, plus the ones this process inserted
    /// (another process's are not counted: `/api/health` counts the rows).
    pub stored: AtomicU64,
    /// Since start: events inserted, duplicates, rejected, commits, 429s.
    pub inserted: AtomicU64,
    pub duplicates: AtomicU64,
    /// Since start: asserted rows replaced by their verified copy.
    pub upgraded: AtomicU64,
    pub rejected: AtomicU64,
    pub commits: AtomicU64,
    pub throttled: AtomicU64,
    /// Events waiting for the writer.
    pub queued_events: AtomicUsize,
    /// Commits that failed (their batches were answered 503/507, nothing kept).
    pub faults: AtomicU64,
    /// Events in those batches.
    pub failed_events: AtomicU64,
    /// The last commit failed (cleared by the next one that succeeds).
    pub degraded: AtomicBool,
    /// The last fault.
    pub last_fault: Mutex<Option<FaultRecord>>,
}

impl Stats {
    /// Changes with every change this process commits to the rows (an
    /// insert or an upgrade): the view cache is keyed on it and on the
    /// database's [`Watch`] (which also sees other processes' commits).
    pub fn version(&self) -> u64 {
        self.stored
            .load(Ordering::Acquire)
            .wrapping_add(self.upgraded.load(Ordering::Acquire))
    }
}

/// The handle request handlers use to reach the writer.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    pub stats: Arc<Stats>,
    capacity: usize,
}

impl Writer {
    /// Queues a batch; the receiver resolves after COMMIT.
    pub fn submit(
        &self,
        rows: Vec<Row>,
    ) -> Result<oneshot::Receiver<Result<Stored, StoreError>>, QueueError> {
        let (reply, rx) = oneshot::channel();
        let n = rows.len();
        // Counted before sending so the writer's decrement can never come first.
        self.stats.queued_events.fetch_add(n, Ordering::Relaxed);
        let err = match self.tx.try_send(Msg::Batch(rows, reply)) {
            Ok(()) => return Ok(rx),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                QueueError::Full
            }
            Err(mpsc::error::TrySendError::Closed(_)) => QueueError::Closed,
        };
        self.stats.queued_events.fetch_sub(n, Ordering::Relaxed);
        Err(err)
    }

    /// Batches waiting for the writer, and the queue's capacity.
    pub fn depth(&self) -> (usize, usize) {
        (
            self.capacity.saturating_sub(self.tx.capacity()),
            self.capacity,
        )
    }

    /// Asks the writer to commit what is queued, checkpoint and stop.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown).await;
    }
}

/// Opens (or creates) the database and starts the writer thread.
pub fn start(
    path: &Path,
    options: &Options,
    queue: usize,
) -> Result<(Writer, JoinHandle<Result<()>>)> {
    // Every failure names the file (`file is not a database` alone did not).
    let conn = open_writer(path, options).with_context(|| format!("{}", path.display()))?;
    let commit_delay = options.commit_delay;
    let stored: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    let stats = Arc::new(Stats::default());
    stats
        .stored
        .store(u64::try_from(stored).unwrap_or(0), Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(queue);
    let st = stats.clone();
    let file = FileId::of(path);
    let thread = std::thread::Builder::new()
        .name("buyerpath-writer".into())
        .spawn(move || writer_loop(conn, &file, rx, &st, commit_delay))?;
    Ok((
        Writer {
            tx,
            stats,
            capacity: queue,
        },
        thread,
    ))
}

/// The columns of the collector's `events` table since its first schema.
const COLUMNS_V1: [&str; 13] = [
    "message_id",
    "type",
    "event",
    "anonymous_id",
    "user_id",
    "account",
    "playbook_id",
    "playbook_revision",
    "received_at",
    "sent_at",
    "original_timestamp",
    "timestamp",
    "payload",
];

/// Refuses a database the collector did not write, before anything in it
/// changes (no WAL switch, no migration): another application's `events`
/// table (migrating it would alter that application's file, then fail every
/// insert), a newer schema, or a `user_version` set by something else. An
/// empty or new file, and any file of an earlier collector, pass; what was
/// read of them (the `events` table's columns, the `user_version`) is returned
/// for the migration.
fn refuse_foreign(conn: &Connection, path: &Path) -> Result<(Vec<String>, i64)> {
    let kind_of = |name: &str| -> rusqlite::Result<Option<String>> {
        conn.query_row(
            "SELECT type FROM sqlite_master WHERE name = ?1 COLLATE NOCASE",
            [name],
            |r| r.get(0),
        )
        .optional()
    };
    let events = kind_of("events")?;
    let view = kind_of("events_readable")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('events')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let missing: Vec<&str> = COLUMNS_V1
        .iter()
        .copied()
        .filter(|c| !columns.iter().any(|have| have == c))
        .collect();
    let why = match events.as_deref() {
        Some("table") if !missing.is_empty() => Some(format!(
            "its `events` table is not the collector's (columns {}; missing {})",
            columns.join(", "),
            missing.join(", ")
        )),
        Some(t) if t != "table" => Some(format!("`events` is a {t}, not the collector's table")),
        _ if view.as_deref().is_some_and(|v| v != "view") => Some(
            "`events_readable` is not the collector's view".to_string(),
        ),
        _ if version > SCHEMA_VERSION => Some(format!(
            "its schema version (user_version {version}) is newer than this collector's ({SCHEMA_VERSION})"
        )),
        None if version != 0 => Some(format!(
            "it has user_version {version} but no `events` table"
        )),
        _ => None,
    };
    match why {
        Some(why) => anyhow::bail!(
            "{} is not a buyerpath collector database: {why}; it was left as it was (pass another --db)",
            path.display()
        ),
        None => Ok((columns, version)),
    }
}

fn open_writer(path: &Path, options: &Options) -> Result<Connection> {
    let mut conn = Connection::open(path)
        .with_context(|| format!("opening the database {}", path.display()))?;
    // (Neither the WAL switch nor the pragmas below change what it read.)
    let (columns, version) = refuse_foreign(&conn, path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "{}: could not switch to WAL mode (got {mode})",
            path.display()
        );
    }
    let sync = match options.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=4000;"
    ))?;
    conn.busy_timeout(options.busy_timeout)?;
    // One transaction: a migration interrupted half-way leaves the old schema.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if !columns.is_empty() && !columns.iter().any(|c| c == "trust") {
        tx.execute_batch(MIGRATE_TRUST)
            .with_context(|| format!("adding the trust column to {}", path.display()))?;
    }
    if version < SCHEMA_VERSION {
        tx.execute_batch(MIGRATE_VIEW)
            .with_context(|| format!("rebuilding the view in {}", path.display()))?;
    }
    tx.execute_batch(SCHEMA)
        .with_context(|| format!("creating the schema in {}", path.display()))?;
    tx.commit()
        .with_context(|| format!("creating the schema in {}", path.display()))?;
    if let Some(pages) = options.max_pages {
        conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))?;
    }
    Ok(conn)
}

/// A read-only connection for the views (WAL lets it read while the writer writes).
pub fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening the database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Notices commits to the database by any connection: SQLite's `PRAGMA
/// data_version`, read on one long-lived connection, changes whenever another
/// connection commits — this collector's writer, another process, the
/// `sqlite3` tool — where [`Stats::version`] counts only this process's
/// inserts. Reading it is cheap (the WAL index in shared memory).
pub struct Watch {
    path: PathBuf,
    /// The connection, and how many times it was opened: a reopened
    /// connection counts its data versions afresh, so the count keeps the
    /// versions of two connections apart.
    conn: Mutex<(Option<Connection>, u64)>,
}

/// A version of the database's content as a [`Watch`] sees it: equal only
/// when no connection committed in between.
pub type DataVersion = (u64, i64);

/// How long the watch waits for a lock: a database it cannot read now is
/// read afresh by the view instead.
const WATCH_BUSY: Duration = Duration::from_millis(100);

impl Watch {
    pub fn new(path: &Path) -> Watch {
        Watch {
            path: path.to_path_buf(),
            conn: Mutex::new((None, 0)),
        }
    }

    /// The database's data version, or `None` when it cannot be read now
    /// (then nothing cached may be taken as current) — also when another
    /// request is reading it: this is called on the async threads, and
    /// waiting there would make every view request wait in line for the
    /// one reading (a cache miss costs no more than that: the view then
    /// reads the version again, waiting, on the blocking pool).
    pub fn data_version(&self) -> Option<DataVersion> {
        let mut guard = self.conn.try_lock().ok()?;
        self.read(&mut guard)
    }

    /// The same, waiting for another reader: for the blocking pool only.
    pub fn data_version_wait(&self) -> Option<DataVersion> {
        let mut guard = self.conn.lock().ok()?;
        self.read(&mut guard)
    }

    fn read(&self, guard: &mut (Option<Connection>, u64)) -> Option<DataVersion> {
        let (conn, opened) = guard;
        if conn.is_none() {
            let fresh = open_reader(&self.path).ok()?;
            fresh.busy_timeout(WATCH_BUSY).ok()?;
            *conn = Some(fresh);
            *opened += 1;
        }
        let read = conn
            .as_ref()?
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0));
        match read {
            Ok(v) => Some((*opened, v)),
            Err(_) => {
                // Opened again next time (a database replaced under it, say).
                *conn = None;
                None
            }
        }
    }
}

/// The rows in the database, whoever wrote them.
pub fn count_events(path: &Path) -> Result<u64> {
    let conn = open_reader(path)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The database file as the writer opened it: each commit first checks
/// that the path still names it. SQLite notices neither a rename nor a
/// delete: it would acknowledge batches written to the moved file, or to
/// one no longer anywhere.
struct FileId {
    path: PathBuf,
    /// Device and inode, where the system has them.
    id: Option<(u64, u64)>,
}

impl FileId {
    fn of(path: &Path) -> FileId {
        FileId {
            path: path.to_path_buf(),
            id: Self::read(path),
        }
    }

    #[cfg(unix)]
    fn read(path: &Path) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }

    #[cfg(not(unix))]
    fn read(_: &Path) -> Option<(u64, u64)> {
        None
    }

    /// Why the path no longer names the file opened, if it does not.
    fn gone(&self) -> Option<String> {
        let id = self.id?;
        let now = Self::read(&self.path);
        (now != Some(id)).then(|| {
            format!(
                "the database file {} was {} while the collector ran: nothing is stored while the path does not name the file opened (put it back, or restart the collector; the events stored so far are in that file, wherever it now is)",
                self.path.display(),
                if now.is_none() { "moved or deleted" } else { "replaced" }
            )
        })
    }
}

fn writer_loop(
    mut conn: Connection,
    file: &FileId,
    mut rx: mpsc::Receiver<Msg>,
    stats: &Stats,
    commit_delay: Duration,
) -> Result<()> {
    let mut stopping = false;
    loop {
        // Wait for work; once stopping, only take what is already queued.
        let first = if stopping {
            rx.try_recv().ok()
        } else {
            rx.blocking_recv()
        };
        let Some(first) = first else { break };
        let mut group = Vec::new();
        let mut events = 0;
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Batch(rows, reply) => {
                    events += rows.len();
                    group.push((rows, reply));
                }
                Msg::Shutdown => {
                    // New sends now fail (503); what is already queued still commits.
                    stopping = true;
                    rx.close();
                }
            }
            next = if events < MAX_GROUP_EVENTS {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if group.is_empty() {
            continue;
        }
        if !commit_delay.is_zero() {
            std::thread::sleep(commit_delay);
        }
        let outcome = match file.gone() {
            Some(why) => Err((Fault::Moved, why)),
            None => commit(&mut conn, &group).map_err(|e| {
                (
                    Fault::of(&e),
                    format!("the database could not store the batch: {e}"),
                )
            }),
        };
        stats.queued_events.fetch_sub(events, Ordering::Relaxed);
        match outcome {
            Ok(per_batch) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.degraded.store(false, Ordering::Relaxed);
                for ((_, reply), stored) in group.into_iter().zip(per_batch) {
                    stats
                        .inserted
                        .fetch_add(stored.inserted as u64, Ordering::Relaxed);
                    stats
                        .stored
                        .fetch_add(stored.inserted as u64, Ordering::Relaxed);
                    stats
                        .duplicates
                        .fetch_add(stored.duplicates as u64, Ordering::Relaxed);
                    stats
                        .upgraded
                        .fetch_add(stored.upgraded as u64, Ordering::Relaxed);
                    let _ = reply.send(Ok(stored));
                }
            }
            Err((fault, message)) => {
                // Nothing of the group was kept (the transaction rolled back,
                // or never began): every batch in it is answered with the
                // fault, none acknowledged.
                elogln!(
                    "buyerpath serve: {} ({events} events refused): {message}",
                    fault.name()
                );
                stats.faults.fetch_add(1, Ordering::Relaxed);
                stats
                    .failed_events
                    .fetch_add(events as u64, Ordering::Relaxed);
                stats.degraded.store(true, Ordering::Relaxed);
                if let Ok(mut last) = stats.last_fault.lock() {
                    *last = Some(FaultRecord {
                        fault,
                        message: message.clone(),
                        at: super::iso::now_ms(),
                    });
                }
                for (_, reply) in group {
                    let _ = reply.send(Err(StoreError {
                        fault,
                        message: message.clone(),
                    }));
                }
            }
        }
    }
    // Fold the WAL back into the database so the file is complete on its own.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .context("checkpointing the WAL")?;
    conn.close()
        .map_err(|(_, e)| e)
        .context("closing the database")?;
    Ok(())
}

type Group = Vec<(Vec<Row>, Reply)>;

/// Inserts a group of batches in one transaction; nothing is kept if any step fails.
fn commit(conn: &mut Connection, group: &Group) -> rusqlite::Result<Vec<Stored>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(group.len());
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        let mut upgrade = tx.prepare_cached(UPGRADE)?;
        for (rows, _) in group {
            let mut s = Stored::default();
            for r in rows {
                let p = params![
                    r.message_id,
                    r.kind,
                    r.event,
                    r.anonymous_id,
                    r.user_id,
                    r.account,
                    r.playbook_id,
                    r.playbook_revision,
                    r.received_at,
                    r.sent_at,
                    r.original_timestamp,
                    r.timestamp,
                    r.payload,
                    if r.trusted { "verified" } else { "asserted" },
                ];
                // An upsert in two steps, so the reply can tell a new event
                // from an upgraded one (an upsert's change count is 1 for both).
                if insert.execute(p)? == 1 {
                    s.inserted += 1;
                } else if r.trusted && upgrade.execute(p)? == 1 {
                    s.upgraded += 1;
                } else {
                    s.duplicates += 1;
                }
            }
            out.push(s);
        }
    }
    // The change log keeps its last CHANGES_KEPT entries: a reader further
    // behind finds the gap and reads the signals whole (views/signals.rs).
    tx.prepare_cached(PRUNE_CHANGES)?.execute([CHANGES_KEPT])?;
    tx.commit()?;
    Ok(out)
}

/// Entries of the `changed` log kept (each ~20 bytes): more than a patch
/// reads (views/signals.rs reads the signals whole past 10,000 changes).
pub(crate) const CHANGES_KEPT: i64 = 100_000;

const PRUNE_CHANGES: &str =
    "DELETE FROM changed WHERE seq <= (SELECT coalesce(max(seq), 0) FROM changed) - ?1";

/// The database file a path names (for messages).
pub fn describe(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_sees_other_connections_commits_and_never_waits_on_the_async_threads() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE events (message_id TEXT)")
            .unwrap();
        let watch = Watch::new(&db);
        let before = watch.data_version().unwrap();
        assert_eq!(
            watch.data_version(),
            Some(before),
            "no commit, same version"
        );
        conn.execute("INSERT INTO events VALUES ('a')", []).unwrap();
        let after = watch.data_version_wait().unwrap();
        assert_ne!(after, before, "another connection's commit is seen");
        // While another request reads it, the async read does not wait: unknown.
        let held = watch.conn.lock().unwrap();
        let t = std::time::Instant::now();
        assert_eq!(watch.data_version(), None);
        assert!(t.elapsed() < Duration::from_millis(50));
        // The blocking read waits for it, and then reads.
        std::thread::scope(|s| {
            let waiting = s.spawn(|| watch.data_version_wait());
            std::thread::sleep(Duration::from_millis(50));
            assert!(!waiting.is_finished());
            drop(held);
            assert_eq!(waiting.join().unwrap(), Some(after));
        });
        assert_eq!(count_events(&db).unwrap(), 1);
    }
}
