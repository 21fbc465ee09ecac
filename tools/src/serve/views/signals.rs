//! The signals the views read, decoded once and kept in memory. The first
//! view reads every stored signal; each later one reads only the rows
//! committed since (rowids above the last one read) and the rows changed in
//! place or deleted since (the `changed` log the schema's triggers keep: an
//! asserted event replaced by its verified copy), so a dashboard refreshing
//! while events arrive costs the new rows, not the whole store. The signals
//! are kept in time order (ties in arrival order): a view at `as_of` reads a
//! prefix. Each distinct string (a visitor, an account, a stage, a content
//! id) is held once.

use super::{Kind, Props, Signal};
use anyhow::Result;
use foldhash::HashSet;
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction};
use std::sync::Arc;

/// Rows changed in place since the last read beyond which the signals are
/// read again whole rather than patched.
const PATCH_LIMIT: usize = 10_000;

/// One copy of each distinct string.
#[derive(Debug, Default)]
pub struct Strings(HashSet<Arc<str>>);

impl Strings {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
        shared
    }
}

/// The stored signals as last read.
#[derive(Debug, Default)]
pub struct Signals {
    /// In time order, then rowid.
    list: Vec<Signal>,
    /// The highest rowid in the table when last read (0: nothing read yet).
    last_row: i64,
    /// The `messageId` of the row at `last_row`: the same database.
    last_id: Option<String>,
    /// The last entry of the change log read; `None` before the first read.
    last_change: Option<i64>,
    strings: Strings,
    /// Set while a read changes the list: still set after a panic in it,
    /// when the list may be half patched.
    reading: bool,
}

/// The columns a signal is read from, and the rows that are signals (and
/// Segment's group calls: who a visitor is).
fn select(condition: &str) -> String {
    let names: Vec<String> = Kind::NAMES.iter().map(|(n, _)| format!("'{n}'")).collect();
    format!(
        "SELECT rowid, coalesce(anonymous_id, user_id), event, account, playbook_id,
                playbook_revision, timestamp, CASE WHEN type = 'group' THEN NULL ELSE payload END,
                trust = 'verified', type = 'group'
         FROM events WHERE (type = 'track' AND event IN ({}) OR type = 'group') AND {condition}",
        names.join(", ")
    )
}

impl Signals {
    /// The signals up to `as_of`, in time order.
    pub fn upto(&self, as_of: i64) -> &[Signal] {
        let n = self.list.partition_point(|s| s.ts <= as_of);
        self.list.get(..n).unwrap_or_default()
    }

    /// How many signals are kept.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The time views are computed at unless asked for another: the latest
    /// signal's, else now. Rows stored before ingestion bounded times (a
    /// forged year 9999) do not freeze the views either. Only signals and
    /// group calls count: another track event (any name a client likes)
    /// does not move it.
    pub fn default_as_of(&self) -> i64 {
        let now = crate::serve::iso::now_ms();
        self.list.last().map_or(now, |s| {
            s.ts.min(now.saturating_add(crate::serve::ingest::MAX_FUTURE_MS))
        })
    }

    /// Whether a read was cut short by a panic (the list may be half patched).
    pub fn interrupted(&self) -> bool {
        self.reading
    }

    /// Brings the signals up to the database as it is now (one read
    /// transaction, so rows committed meanwhile wait for the next call). On
    /// an error nothing is changed.
    pub fn refresh(&mut self, conn: &mut Connection) -> Result<()> {
        self.reading = true;
        let read = self.read_changes(conn);
        self.reading = false;
        read
    }

    fn read_changes(&mut self, conn: &mut Connection) -> Result<()> {
        let tx = conn.transaction()?;
        let top: i64 = tx.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
            r.get(0)
        })?;
        let id_at = |row: i64| -> rusqlite::Result<Option<String>> {
            tx.query_row(
                "SELECT message_id FROM events WHERE rowid = ?1",
                [row],
                |r| r.get(0),
            )
            .optional()
        };
        // The row last read is still there: the same database, not another
        // file put in its place (nor its newest row deleted, then its rowid
        // used again).
        let same = id_at(self.last_row)? == self.last_id;
        // (Read before the list is taken apart: nothing after can fail.)
        let last_id = id_at(top)?;
        // A database from before the log (opened read-only, never by this
        // collector's writer) cannot say what changed: read it whole.
        let log: Option<(i64, i64)> = tx
            .query_row(
                "SELECT coalesce(max(seq), 0), coalesce(min(seq), 0) FROM changed",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let change = log.map(|(newest, _)| newest);
        // Patched unless the log went back (emptied), lost entries not read
        // yet (the writer keeps its last CHANGES_KEPT), or the file is another.
        let patched = match (self.last_change, log) {
            (Some(last), Some((now, oldest)))
                if now >= last && oldest <= last.saturating_add(1) && same =>
            {
                self.patch(&tx, last)?
            }
            _ => None,
        };
        let list = match patched {
            Some(list) => list,
            None => {
                let mut strings = Strings::default();
                let mut all = read(&tx, &select("1"), [], &mut strings)?;
                all.sort_unstable_by_key(order);
                self.strings = strings;
                all
            }
        };
        self.last_id = last_id;
        self.list = list;
        self.last_row = top;
        self.last_change = change;
        Ok(())
    }

    /// The signals with the rows changed since `last_change` read again and
    /// the rows above the last one read added; `None` when so many changed
    /// that reading them whole is cheaper.
    fn patch(&mut self, tx: &Transaction, last_change: i64) -> Result<Option<Vec<Signal>>> {
        let changed: HashSet<i64> = tx
            .prepare("SELECT DISTINCT row FROM changed WHERE seq > ?1 AND row <= ?2 LIMIT ?3")?
            .query_map([last_change, self.last_row, PATCH_LIMIT as i64 + 1], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        if changed.len() > PATCH_LIMIT {
            return Ok(None);
        }
        let mut fresh = read(
            tx,
            &select("rowid > ?1"),
            [self.last_row],
            &mut self.strings,
        )?;
        for row in &changed {
            fresh.extend(read(tx, &select("rowid = ?1"), [*row], &mut self.strings)?);
        }
        let mut list = std::mem::take(&mut self.list);
        if !changed.is_empty() {
            list.retain(|s| !changed.contains(&s.row));
        }
        fresh.sort_unstable_by_key(order);
        merge(&mut list, fresh);
        Ok(Some(list))
    }
}

/// The order signals are kept in: time, then arrival (rowids are unique).
fn order(s: &Signal) -> (i64, i64) {
    (s.ts, s.row)
}

/// Merges `fresh` (in order) into `list` (in order), moving only the signals
/// of `list` later than the earliest fresh one: most new rows are the latest.
fn merge(list: &mut Vec<Signal>, fresh: Vec<Signal>) {
    let Some(first) = fresh.first().map(order) else {
        return;
    };
    let tail = list.split_off(list.partition_point(|s| order(s) <= first));
    list.reserve(tail.len() + fresh.len());
    let (mut tail, mut fresh) = (tail.into_iter().peekable(), fresh.into_iter().peekable());
    loop {
        let next = match (tail.peek(), fresh.peek()) {
            (Some(a), Some(b)) if order(a) <= order(b) => tail.next(),
            (_, Some(_)) => fresh.next(),
            (Some(_), None) => tail.next(),
            (None, None) => break,
        };
        list.extend(next);
    }
}

/// The signals `sql` selects (with `params`), in rowid order.
fn read<P: rusqlite::Params>(
    tx: &Transaction,
    sql: &str,
    params: P,
    strings: &mut Strings,
) -> Result<Vec<Signal>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if let Some(signal) = signal(r, strings)? {
            out.push(signal);
        }
    }
    Ok(out)
}

fn signal(r: &Row, strings: &mut Strings) -> Result<Option<Signal>> {
    let kind = if r.get(9)? {
        Kind::Group
    } else {
        match r.get_ref(2)?.as_str_or_null()?.and_then(Kind::parse) {
            Some(kind) => kind,
            None => return Ok(None),
        }
    };
    let mut text = |i: usize| -> rusqlite::Result<Option<Arc<str>>> {
        Ok(r.get_ref(i)?.as_str_or_null()?.map(|s| strings.get(s)))
    };
    let visitor = text(1)?.unwrap_or_else(|| Arc::from(""));
    let account = text(3)?;
    let playbook_id = text(4)?.unwrap_or_else(|| Arc::from(""));
    let props = match r.get_ref(7)?.as_str_or_null()? {
        Some(payload) => Props::from_payload(payload, strings),
        None => Props::default(),
    };
    Ok(Some(Signal {
        row: r.get(0)?,
        visitor,
        kind,
        account,
        playbook_id,
        revision: r.get(5)?,
        ts: r.get(6)?,
        props,
        trusted: r.get(8)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::generate::Rng;

    const EVENTS: [&str; 4] = [
        "Visitor Classified",
        "Stage Changed",
        "Content Recommended",
        "Test Event",
    ];

    fn insert(conn: &Connection, id: usize, ts: i64, rng: &mut Rng) {
        let event = EVENTS[rng.below(EVENTS.len())];
        let stage = ["s1", "s2", "s3"][rng.below(3)];
        let payload = format!(
            r#"{{"properties":{{"stage":"{stage}","to":"{stage}","slots":[{{"content_ids":["c{}"]}}]}}}}"#,
            rng.below(5)
        );
        conn.execute(
            "INSERT INTO events (message_id, type, event, anonymous_id, account, playbook_id,
                 playbook_revision, received_at, timestamp, payload)
             VALUES (?1, 'track', ?2, ?3, ?4, 'p', 1, ?5, ?5, ?6)",
            rusqlite::params![
                format!("m{id}"),
                event,
                format!("v{}", rng.below(7)),
                format!("a{}.com", rng.below(3)),
                ts,
                payload
            ],
        )
        .unwrap();
    }

    /// What a view reads of a signal, to compare two reads.
    fn seen(s: &Signals) -> Vec<(i64, i64, String, String, Option<String>, bool)> {
        s.list
            .iter()
            .map(|x| {
                (
                    x.ts,
                    x.row,
                    x.visitor.to_string(),
                    format!("{:?}", x.kind),
                    x.props.stage.as_deref().map(str::to_string),
                    x.trusted,
                )
            })
            .collect()
    }

    /// A new store with the collector's schema, and a connection to write it.
    fn store() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch(crate::serve::store::SCHEMA).unwrap();
        (dir, path, writer)
    }

    /// `kept` holds what a read of the whole store holds now.
    fn assert_whole(kept: &Signals, reader: &mut Connection, when: &str) {
        let mut whole = Signals::default();
        whole.refresh(reader).unwrap();
        assert_eq!(seen(kept), seen(&whole), "{when}");
    }

    /// After any mix of inserts (in and out of time order), in-place
    /// updates and deletes, the signals kept and patched equal a read of
    /// the whole store.
    #[test]
    fn patched_reads_equal_a_whole_read() {
        let (_dir, path, mut writer) = store();
        let mut reader = Connection::open(&path).unwrap();
        let mut kept = Signals::default();
        let mut rng = Rng::new(9);
        let mut id = 0;
        for round in 0..60 {
            let tx = writer.transaction().unwrap();
            for _ in 0..rng.below(6) {
                id += 1;
                insert(&tx, id, 1_000 + rng.below(10_000) as i64, &mut rng);
            }
            if rng.chance(0.4) && id > 0 {
                let m = format!("m{}", 1 + rng.below(id));
                tx.execute(
                    "UPDATE events SET trust = 'verified', payload = replace(payload, 's1', 's3') WHERE message_id = ?1",
                    [m],
                )
                .unwrap();
            }
            if rng.chance(0.3) && id > 0 {
                let m = format!("m{}", 1 + rng.below(id));
                tx.execute("DELETE FROM events WHERE message_id = ?1", [m])
                    .unwrap();
            }
            if round == 30 {
                // The newest row deleted and its rowid used again.
                tx.execute(
                    "DELETE FROM events WHERE rowid = (SELECT max(rowid) FROM events)",
                    [],
                )
                .unwrap();
                id += 1;
                insert(&tx, id, 500, &mut rng);
            }
            tx.commit().unwrap();
            kept.refresh(&mut reader).unwrap();
            assert_whole(&kept, &mut reader, &format!("round {round}"));
            assert!(kept
                .list
                .windows(2)
                .all(|w| (w[0].ts, w[0].row) <= (w[1].ts, w[1].row)));
        }
        assert!(kept.len() > 50, "{}", kept.len());
        // The views' time is the latest signal's.
        assert_eq!(kept.default_as_of(), kept.list.last().unwrap().ts);
        let cut = kept.upto(5_000);
        assert!(!cut.is_empty() && cut.len() < kept.len());
        assert!(cut.iter().all(|s| s.ts <= 5_000));
    }

    #[test]
    fn merging_keeps_time_then_arrival_order() {
        let at = |ts: i64, row: i64| Signal {
            row,
            visitor: Arc::from(""),
            kind: Kind::Mql,
            account: None,
            playbook_id: Arc::from(""),
            revision: None,
            ts,
            props: Props::default(),
            trusted: false,
        };
        let keys = |l: &[Signal]| l.iter().map(order).collect::<Vec<_>>();
        let mut list = vec![at(1, 1), at(3, 2), at(3, 4), at(7, 3)];
        merge(&mut list, vec![at(0, 9), at(3, 3), at(8, 5), at(9, 6)]);
        assert_eq!(
            keys(&list),
            [
                (0, 9),
                (1, 1),
                (3, 2),
                (3, 3),
                (3, 4),
                (7, 3),
                (8, 5),
                (9, 6)
            ]
        );
        merge(&mut list, vec![]);
        merge(&mut list, vec![at(10, 10)]);
        assert_eq!(list.len(), 9);
        assert_eq!(list.last().map(order), Some((10, 10)));
    }

    /// Every row changed at once, then a change log that went back (emptied,
    /// or another file in its place: the signals are read whole).
    #[test]
    fn a_bulk_update_and_a_log_that_went_back_are_read_right() {
        let (_dir, path, mut writer) = store();
        let mut rng = Rng::new(3);
        let tx = writer.transaction().unwrap();
        for id in 0..50 {
            insert(&tx, id, id as i64, &mut rng);
        }
        tx.commit().unwrap();
        let mut reader = Connection::open(&path).unwrap();
        let mut kept = Signals::default();
        kept.refresh(&mut reader).unwrap();
        let before = seen(&kept);
        writer
            .execute("UPDATE events SET payload = replace(payload, 's', 'x')", [])
            .unwrap();
        kept.refresh(&mut reader).unwrap();
        assert_ne!(seen(&kept), before);
        assert_whole(&kept, &mut reader, "");
        // The log emptied: read whole again.
        writer.execute("DELETE FROM changed", []).unwrap();
        writer
            .execute("UPDATE events SET timestamp = timestamp + 1", [])
            .unwrap();
        writer.execute("DELETE FROM changed", []).unwrap();
        kept.refresh(&mut reader).unwrap();
        assert_whole(&kept, &mut reader, "");
    }
}
