//! `buyerpath loadtest`: a bounded load on a collector over loopback. It
//! reports sustained events/s and latency percentiles, then checks that the
//! database holds every event the collector acknowledged, batch by batch.

use super::{iso, store, Background};
use anyhow::{bail, Context as _, Result};
use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `buyerpath loadtest`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Collector to load, on this machine (default: start one in this process
    /// on a free loopback port with a temporary database).
    #[arg(long)]
    pub url: Option<String>,
    /// The collector's database, to check that every acknowledged event is
    /// stored (known already without --url).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// How long to send, in seconds (at most 600).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Connections sending at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Write key to send.
    #[arg(long, default_value = "demo-write-key")]
    pub write_key: String,
    /// Playbook for the in-process collector.
    #[arg(long, default_value = crate::input::EXAMPLE_PLAYBOOK)]
    pub playbook: PathBuf,
}

#[derive(Default)]
struct Tally {
    ok: u64,
    throttled: u64,
    errors: u64,
    /// What the first error was (an HTTP status and its answer, or the connection's failure).
    first_error: Option<String>,
    accepted: u64,
    duplicates: u64,
    /// Request latencies of acknowledged batches, in microseconds.
    latencies: Vec<u64>,
    /// The batches acknowledged, to find each one's events in the database.
    acked: Vec<Acked>,
    /// Acknowledged batches whose answer did not account for every event
    /// sent (`accepted + duplicates`, the rest rejected or missing).
    miscounted: u64,
    /// What the first of them answered.
    first_miscount: Option<String>,
}

/// A batch the collector acknowledged: whose (`worker`, `seq`: its
/// messageIds are `lt-RUN-WORKER-SEQ-I`) and how many events were sent in
/// it (all of them must be stored, whatever the answer counted).
#[derive(Debug, Clone, Copy)]
struct Acked {
    worker: usize,
    seq: u64,
    events: u64,
}

/// One realistic signal (a Content Recommended as the engine emits it), ~700 bytes.
fn event(out: &mut String, run: &str, worker: usize, seq: u64, i: usize, ts: &str) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        r#"{{"type":"track","event":"Content Recommended","anonymousId":"lt-{worker}-{v}","messageId":"lt-{run}-{worker}-{seq}-{i}","originalTimestamp":"{ts}","properties":{{"account":"loadtest-{a}.invalid","slots":[{{"slot":"hero","content_ids":["cs-meridian-health"],"default":false}},{{"slot":"reading","content_ids":["blog-gdpr-sox-lineage","webinar-fintech-data-trust","webinar-state-of-data-reliability-2026"],"default":false}},{{"slot":"cta","content_ids":["contact-sales"],"default":false}}],"holdout":false,"explored":true,"stage":"validation","action":"procurement_review"}},"context":{{"library":{{"name":"buyerpath","version":"0.1.0"}},"consent":"full","page":{{"path":"/trust"}},"playbook":{{"id":"lumora-b2b","revision":1}}}}}}"#,
        v = (seq as usize * 7 + i) % 1000,
        a = (seq as usize + i) % 97,
    );
}

fn body(run: &str, worker: usize, seq: u64, n: usize) -> String {
    let ts = iso::format(iso::now_ms());
    let mut s = String::with_capacity(n * 760 + 64);
    s.push_str("{\"batch\":[");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        event(&mut s, run, worker, seq, i, &ts);
    }
    s.push_str("],\"sentAt\":\"");
    s.push_str(&ts);
    s.push_str("\"}");
    s
}

/// Only loopback targets: a load test never leaves the machine.
fn check_loopback(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .context("--url: expected http://HOST:PORT")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ok = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !ok {
        bail!("--url: the load test only targets this machine (127.0.0.0/8, localhost, [::1])");
    }
    Ok(())
}

fn worker(url: &str, auth: &str, run: &str, id: usize, batch: usize, deadline: Instant) -> Tally {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let endpoint = format!("{url}/v1/batch");
    let mut t = Tally::default();
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let payload = body(run, id, seq, batch);
        seq += 1;
        // Retry a throttled batch (as a client must) until it lands or time is up.
        loop {
            let t0 = Instant::now();
            let res = agent
                .post(&endpoint)
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
                .send(payload.as_str());
            let mut res = match res {
                Ok(r) => r,
                Err(e) => {
                    t.errors += 1;
                    t.first_error.get_or_insert_with(|| format!("{e}"));
                    std::thread::sleep(Duration::from_millis(50));
                    break;
                }
            };
            let status = res.status().as_u16();
            let text = res.body_mut().read_to_string().unwrap_or_default();
            if status == 200 {
                let counted = Counted::of(&text);
                t.ok += 1;
                t.accepted += counted.accepted;
                t.duplicates += counted.duplicates;
                if let Some(why) = counted.short_of(batch) {
                    t.miscounted += 1;
                    t.first_miscount.get_or_insert(why);
                }
                t.acked.push(Acked {
                    worker: id,
                    seq: seq - 1,
                    events: batch as u64,
                });
                t.latencies
                    .push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
                break;
            }
            if status == 429 || status == 503 {
                t.throttled += 1;
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            t.errors += 1;
            t.first_error.get_or_insert_with(|| {
                format!(
                    "HTTP {status}: {}",
                    text.chars().take(160).collect::<String>()
                )
            });
            break;
        }
    }
    t
}

/// What a 200 answer counted of its batch.
#[derive(Debug, PartialEq, Eq)]
struct Counted {
    accepted: u64,
    duplicates: u64,
    /// The answer, where it is not a batch answer (no counts).
    unreadable: Option<String>,
}

impl Counted {
    fn of(text: &str) -> Counted {
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        match (n("accepted"), n("duplicates")) {
            (Some(accepted), Some(duplicates)) => Counted {
                accepted,
                duplicates,
                unreadable: None,
            },
            _ => Counted {
                accepted: 0,
                duplicates: 0,
                unreadable: Some(text.chars().take(160).collect()),
            },
        }
    }

    /// Why the answer does not account for the `sent` events, if it does not.
    fn short_of(&self, sent: usize) -> Option<String> {
        if let Some(text) = &self.unreadable {
            return Some(format!(
                "no accepted/duplicates counts in the answer: {text}"
            ));
        }
        let counted = self.accepted.saturating_add(self.duplicates);
        (counted != sent as u64).then(|| {
            format!(
                "{} accepted + {} duplicates of {sent} events sent",
                self.accepted, self.duplicates
            )
        })
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

/// What the database holds of a run.
#[derive(Debug, PartialEq, Eq)]
struct Audit {
    /// Events acknowledged.
    acked: u64,
    /// Of those, the ones stored (found by their own messageIds).
    stored_of_acked: u64,
    /// The run's other stored events: batches committed after their request
    /// gave up (a timeout), never acknowledged.
    extra: u64,
}

impl Audit {
    fn lost(&self) -> u64 {
        self.acked.saturating_sub(self.stored_of_acked)
    }
}

/// The run's rows whose messageId starts with `prefix` (a range of the
/// primary key: `-` is followed by `.` in ASCII).
const COUNT_PREFIX: &str =
    "SELECT count(*) FROM events WHERE message_id >= ?1 || '-' AND message_id < ?1 || '.'";

/// Finds each acknowledged batch's events by their messageIds (one index
/// range per batch: about 10,000 ranges for a million events), so that
/// batches stored late cannot hide acknowledged ones that are missing, as
/// totals alone would. One read transaction: one snapshot for every count.
fn audit(db: &Path, run: &str, acked: &[Acked]) -> Result<Audit> {
    let mut conn = store::open_reader(db)?;
    let tx = conn.transaction()?;
    let mut count = tx.prepare(COUNT_PREFIX)?;
    let mut in_range = |prefix: String| -> Result<u64> {
        let n: i64 = count.query_row([prefix], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let total = in_range(format!("lt-{run}"))?;
    let mut out = Audit {
        acked: 0,
        stored_of_acked: 0,
        extra: 0,
    };
    for b in acked {
        let found = in_range(format!("lt-{run}-{}-{}", b.worker, b.seq))?;
        out.acked += b.events;
        out.stored_of_acked += found.min(b.events);
    }
    out.extra = total.saturating_sub(out.stored_of_acked);
    Ok(out)
}

/// Runs the load and prints the figures; exit 1 if an acknowledged event is missing.
pub fn run(args: Args) -> Result<ExitCode> {
    if !(1..=600).contains(&args.seconds) {
        bail!("--seconds: between 1 and 600");
    }
    if !(1..=512).contains(&args.concurrency) {
        bail!("--concurrency: between 1 and 512");
    }
    let size = body("0", 0, 0, args.batch).len();
    if args.batch == 0 || size > super::ingest::MAX_BATCH_BYTES {
        bail!("--batch: between 1 and about 600 events (a batch must stay under 500 KB)");
    }
    let run = format!("{:x}", iso::now_ms());
    let (url, db, local) = match &args.url {
        Some(url) => {
            check_loopback(url)?;
            // Found wrong after the load, a --db would waste the run.
            if let Some(db) = &args.db {
                anyhow::ensure!(
                    db.is_file(),
                    "--db {}: no such database file (give the file the server at {url} writes)",
                    db.display()
                );
            }
            (url.trim_end_matches('/').to_string(), args.db.clone(), None)
        }
        None => {
            let db = std::env::temp_dir().join(format!(
                "buyerpath-loadtest-{}-{run}.sqlite",
                std::process::id()
            ));
            let server = Background::start(super::Args {
                addr: "127.0.0.1:0".into(),
                db: db.clone(),
                www: None,
                write_keys: vec![args.write_key.clone()],
                trusted_write_keys: Vec::new(),
                cors_origins: Vec::new(),
                allowed_hosts: Vec::new(),
                playbook: args.playbook.clone(),
                queue: 256,
                synchronous: super::config::Synchronous::Normal,
                commit_delay_ms: 0,
                header_timeout_ms: 10_000,
                body_timeout_ms: 30_000,
                write_timeout_ms: 20_000,
                // Every client connection at once, whatever the concurrency.
                max_connections: args.concurrency.saturating_add(16).max(512),
                busy_timeout_ms: 5_000,
                max_db_pages: None,
                candidate: None,
                accounts: None,
            })?;
            (server.url.clone(), Some(db), Some(server))
        }
    };
    outln!(
        "buyerpath loadtest: {} s, {} connections, batches of {} events ({:.0} KB) to {url}{}",
        args.seconds,
        args.concurrency,
        args.batch,
        size as f64 / 1024.0,
        if local.is_some() {
            " (collector in this process, temporary database)"
        } else {
            ""
        }
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", args.write_key))
    );
    let shared = Arc::new((url.clone(), auth, run.clone()));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let handles: Vec<_> = (0..args.concurrency)
        .map(|id| {
            let s = shared.clone();
            let batch = args.batch;
            std::thread::spawn(move || worker(&s.0, &s.1, &s.2, id, batch, deadline))
        })
        .collect();
    let mut total = Tally::default();
    for h in handles {
        let t = h.join().unwrap_or_default();
        total.ok += t.ok;
        total.throttled += t.throttled;
        total.errors += t.errors;
        if total.first_error.is_none() {
            total.first_error = t.first_error;
        }
        total.accepted += t.accepted;
        total.duplicates += t.duplicates;
        total.latencies.extend(t.latencies);
        total.acked.extend(t.acked);
        total.miscounted += t.miscounted;
        if total.first_miscount.is_none() {
            total.first_miscount = t.first_miscount;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(server) = local {
        server.stop()?;
    }
    total.latencies.sort_unstable();
    let acked = total.accepted + total.duplicates;
    let l = &total.latencies;
    outln!(
        "  requests   {} acknowledged, {} throttled (429/503, retried), {} errors{}",
        total.ok,
        total.throttled,
        total.errors,
        total
            .first_error
            .as_deref()
            .map(|e| format!(" (the first: {e})"))
            .unwrap_or_default()
    );
    outln!(
        "  events     {acked} acknowledged in {elapsed:.1} s = {:.0} events/s",
        acked as f64 / elapsed
    );
    outln!(
        "  latency    p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(l, 50.0),
        percentile(l, 90.0),
        percentile(l, 99.0),
        percentile(l, 100.0)
    );
    let mut code = ExitCode::SUCCESS;
    if total.miscounted > 0 {
        // Every event the load sends is valid and new: an acknowledged
        // batch answers for all of them, or the collector lost track.
        outln!(
            "  answers    {} acknowledged batches did not count every event sent (accepted + duplicates): MISCOUNTED (the first: {})",
            total.miscounted,
            total.first_miscount.as_deref().unwrap_or("")
        );
        code = ExitCode::FAILURE;
    }
    match &db {
        Some(path) => {
            let a = audit(path, &run, &total.acked)?;
            let extra = if a.extra > 0 {
                format!(
                    "; {} more stored (batches committed after their request gave up)",
                    a.extra
                )
            } else {
                String::new()
            };
            if a.lost() == 0 {
                outln!(
                    "  stored     {} of the {} acknowledged events (each batch checked by messageId): none lost{extra}",
                    a.stored_of_acked,
                    a.acked
                );
            } else {
                outln!(
                    "  stored     {} of the {} acknowledged events (each batch checked by messageId): {} LOST{extra}",
                    a.stored_of_acked,
                    a.acked,
                    a.lost()
                );
                code = ExitCode::FAILURE;
            }
            if args.url.is_none() {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
        None => outln!("  stored     not checked (pass --db PATH with --url)"),
    }
    // Every event the load sends is valid: a request answered with an error
    // (not a throttle) or lost on the way is the collector's failure.
    if total.ok == 0 || total.errors > 0 {
        code = ExitCode::FAILURE;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_batches() {
        let b = body("r", 3, 7, 5);
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["batch"].as_array().unwrap().len(), 5);
        assert_eq!(v["batch"][4]["messageId"], "lt-r-3-7-4");
        assert!(check_loopback("http://127.0.0.1:8787").is_ok());
        assert!(check_loopback("http://localhost:1").is_ok());
        assert!(check_loopback("http://10.0.0.1:8787").is_err());
        assert!(check_loopback("http://example.com").is_err());
        assert!(check_loopback("http://127.0.0.1.example.com:80").is_err());
        assert!(check_loopback("http://[::1]:8787/").is_ok());
        assert_eq!(percentile(&[1000, 2000, 3000, 4000], 50.0), 2.0);
        assert_eq!(percentile(&[1000, 2000, 3000, 4000], 99.0), 4.0);
    }

    #[test]
    fn an_answer_that_does_not_count_every_event_sent_is_flagged() {
        let ok = Counted::of(r#"{"accepted":98,"duplicates":2,"rejected":[]}"#);
        assert_eq!((ok.accepted, ok.duplicates), (98, 2));
        assert_eq!(ok.short_of(100), None);
        let short = Counted::of(r#"{"accepted":97,"duplicates":2}"#);
        assert_eq!(
            short.short_of(100).as_deref(),
            Some("97 accepted + 2 duplicates of 100 events sent")
        );
        // An answer without counts was counted as 0 events, never checked.
        let none = Counted::of("OK");
        assert_eq!((none.accepted, none.duplicates), (0, 0));
        assert!(none
            .short_of(100)
            .unwrap()
            .contains("no accepted/duplicates counts"));
        let none = Counted::of(r#"{"accepted":100}"#);
        assert!(none.short_of(100).is_some());
    }

    #[test]
    fn a_lost_acknowledged_event_is_found_even_when_late_batches_make_up_the_total() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("audit.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE events (message_id TEXT PRIMARY KEY NOT NULL)")
            .unwrap();
        let ids = [
            // Worker 0's batch 1 acknowledged, all stored.
            "lt-r-0-1-0",
            "lt-r-0-1-1",
            "lt-r-0-1-2",
            // Worker 0's batch 10 acknowledged, one of its events missing.
            "lt-r-0-10-0",
            "lt-r-0-10-2",
            // Worker 1's batch 1: committed after its request gave up.
            "lt-r-1-1-0",
            "lt-r-1-1-1",
            "lt-r-1-1-2",
            // Another run's event.
            "lt-rr-0-1-0",
        ];
        for id in ids {
            conn.execute("INSERT INTO events VALUES (?1)", [id])
                .unwrap();
        }
        let acked = [
            Acked {
                worker: 0,
                seq: 1,
                events: 3,
            },
            Acked {
                worker: 0,
                seq: 10,
                events: 3,
            },
        ];
        let a = audit(&db, "r", &acked).unwrap();
        // Totals alone (8 stored of the run ≥ 6 acknowledged) said "none lost".
        assert!(a.stored_of_acked + a.extra >= a.acked);
        assert_eq!(
            a,
            Audit {
                acked: 6,
                stored_of_acked: 5,
                extra: 3
            }
        );
        assert_eq!(a.lost(), 1);
    }
}
