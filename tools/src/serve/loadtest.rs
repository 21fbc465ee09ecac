//! `buyerpath loadtest`: a bounded load on a collector over loopback. It
//! reports sustained events/s and latency percentiles, then checks that the
//! database holds every event the collector acknowledged.

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
    #[arg(long, default_value = "examples/acme/playbook.json")]
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
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
                t.ok += 1;
                t.accepted += n("accepted");
                t.duplicates += n("duplicates");
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

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

fn stored(db: &Path, run: &str) -> Result<u64> {
    let conn = store::open_reader(db)?;
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM events WHERE message_id >= ?1 AND message_id < ?2",
        [format!("lt-{run}-"), format!("lt-{run}.")],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
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
    match &db {
        Some(path) => {
            let n = stored(path, &run)?;
            if n >= acked {
                let extra = if n > acked {
                    " (plus batches committed after their request gave up)"
                } else {
                    ""
                };
                outln!("  stored     {n} in the database, acknowledged {acked}: none lost{extra}");
            } else {
                outln!(
                    "  stored     {n} in the database, acknowledged {acked}: {} LOST",
                    acked - n
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
    if total.ok == 0 {
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
}
