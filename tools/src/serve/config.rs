//! Options of `buyerpath serve`, checked once at start, and what the views
//! need from the playbook.

use anyhow::{bail, Context as _, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of `buyerpath serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Address to listen on (where `./dev demo` runs it, and the site's URL in the README); port 0 picks a free port (the URL is printed either way).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// SQLite database file (created if missing).
    #[arg(long, default_value = "buyerpath.sqlite")]
    pub db: PathBuf,
    /// Directory of static files to serve at `/` (default: `www/dist` if it exists).
    #[arg(long)]
    pub www: Option<PathBuf>,
    /// A write key clients must present (repeatable). What arrives under it is
    /// stored as client-asserted: a browser can send anything its page can.
    #[arg(long = "write-key", default_value = "demo-write-key")]
    pub write_keys: Vec<String>,
    /// A write key for server-side senders (the edge worker, a backend) whose
    /// firmographics come from the server's own sources, never from the
    /// browser (repeatable; keep it secret). Their signals are stored as
    /// verified and only they set an account's fit in the views.
    #[arg(long = "trusted-write-key")]
    pub trusted_write_keys: Vec<String>,
    /// An origin allowed to call the collector from another site, such as
    /// `https://www.example.com` (repeatable; exact match, never `*`).
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// A host name the collector answers to besides IP addresses,
    /// `localhost` and `*.localhost`, such as `collector.example.com` (repeatable; no port).
    /// Requests for any other name get 403 `host_not_allowed`: a web page
    /// cannot reach a local collector by pointing a name of its own at
    /// 127.0.0.1 (DNS rebinding).
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// The playbook: the views take the stage order, roles, tiers and content titles from it.
    #[arg(long, default_value = crate::input::EXAMPLE_PLAYBOOK)]
    pub playbook: PathBuf,
    /// Batches that may wait for the writer before requests are answered 429.
    #[arg(long, default_value_t = 256)]
    pub queue: usize,
    /// SQLite `synchronous`: `normal` survives a process crash (kill -9);
    /// `full` also survives power loss, at the cost of an fsync per commit.
    #[arg(long, value_enum, default_value = "normal")]
    pub synchronous: Synchronous,
    /// Testing aid: hold every commit this long (to fill the queue).
    #[arg(long, hide = true, default_value_t = 0)]
    pub commit_delay_ms: u64,
    /// A client must send a request's headers within this time (ms), or the
    /// connection is closed (slowloris; idle keep-alive connections too).
    #[arg(long, default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// A client must send a request's body within this time (ms), or gets 408.
    #[arg(long, default_value_t = 30_000)]
    pub body_timeout_ms: u64,
    /// A response the client reads nothing of for this long (ms) is cut off
    /// and the connection closed (a client that never reads would otherwise
    /// keep the response in memory for ever).
    #[arg(long, default_value_t = 20_000)]
    pub write_timeout_ms: u64,
    /// Connections served at once; more wait (unaccepted, in the kernel's
    /// listen backlog) until one closes.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// How long the writer waits for a database lock held by another process
    /// before answering 503 (ms).
    #[arg(long, default_value_t = 5_000)]
    pub busy_timeout_ms: u64,
    /// Testing aid: cap the database at this many pages (SQLite
    /// `max_page_count`) to simulate a full disk.
    #[arg(long, hide = true)]
    pub max_db_pages: Option<u64>,
    /// A calibrated playbook revision to review before adopting it
    /// (`buyerpath calibrate fit` writes one): the dashboard shows how many
    /// accounts it would move up or down a tier.
    #[arg(long)]
    pub candidate: Option<PathBuf>,
    /// The accounts' firmographics for that review: a CRM export or account
    /// list (CSV or JSONL, the columns of `calibrate fit`), joined to the
    /// store's accounts on `company.domain`. The signals carry the fit as
    /// decided, not the attributes behind it.
    #[arg(long, requires = "candidate")]
    pub accounts: Option<PathBuf>,
}

/// The highest `--max-connections` (each connection needs a file descriptor).
const MAX_CONNECTIONS: usize = 1_000_000;

/// SQLite's `synchronous` setting for the writer.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync at checkpoints only.
    Normal,
    /// fsync the WAL at every commit.
    Full,
}

/// The checked configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: String,
    pub db: PathBuf,
    pub www: Option<PathBuf>,
    pub write_keys: Vec<String>,
    pub trusted_write_keys: Vec<String>,
    pub cors_origins: Vec<String>,
    /// `--allowed-host` names, lowercase, without a trailing dot.
    pub allowed_hosts: Vec<String>,
    pub playbook: PlaybookMeta,
    pub queue: usize,
    pub store: super::store::Options,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// `--candidate` (and `--accounts`), when given.
    pub calibration: Option<std::sync::Arc<super::views::calibration::Setup>>,
}

impl Config {
    /// Checks the options and reads the playbook.
    pub fn from_args(args: Args) -> Result<Config> {
        let www = match args.www {
            Some(dir) if !dir.is_dir() => bail!("--www {}: not a directory", dir.display()),
            Some(dir) => Some(dir),
            None => Some(PathBuf::from("www/dist")).filter(|d| d.is_dir()),
        };
        let write_keys: Vec<String> = args
            .write_keys
            .into_iter()
            .map(|k| k.trim().to_string())
            .collect();
        if write_keys.iter().any(String::is_empty) {
            bail!("--write-key: a write key cannot be empty");
        }
        let trusted_write_keys: Vec<String> = args
            .trusted_write_keys
            .into_iter()
            .map(|k| k.trim().to_string())
            .collect();
        if trusted_write_keys.iter().any(String::is_empty) {
            bail!("--trusted-write-key: a write key cannot be empty");
        }
        // `Authorization: Basic base64(user:password)`: the user part ends at
        // the first colon, so a key with one could never be sent in the header.
        for (option, keys) in [
            ("--write-key", &write_keys),
            ("--trusted-write-key", &trusted_write_keys),
        ] {
            if keys.iter().any(|k| k.contains(':')) {
                bail!("{option}: a write key cannot contain `:` (HTTP Basic ends the user part, where clients send the key, at the first colon)");
            }
        }
        if trusted_write_keys.iter().any(|k| write_keys.contains(k)) {
            bail!(
                "--trusted-write-key: a key cannot be both trusted and a client key (--write-key)"
            );
        }
        if args.header_timeout_ms == 0 || args.body_timeout_ms == 0 || args.write_timeout_ms == 0 {
            bail!(
                "--header-timeout-ms, --body-timeout-ms and --write-timeout-ms must be at least 1"
            );
        }
        if !(1..=MAX_CONNECTIONS).contains(&args.max_connections) {
            bail!("--max-connections must be between 1 and {MAX_CONNECTIONS}");
        }
        let mut cors_origins = Vec::new();
        for o in args.cors_origins {
            cors_origins.push(check_origin(&o)?);
        }
        let allowed_hosts = args
            .allowed_hosts
            .iter()
            .map(|h| check_host(h))
            .collect::<Result<Vec<_>>>()?;
        if args.queue == 0 {
            bail!("--queue must be at least 1");
        }
        let playbook = crate::input::playbook_or_example(&args.playbook);
        Ok(Config {
            addr: args.addr,
            db: args.db,
            www,
            write_keys,
            trusted_write_keys,
            cors_origins,
            allowed_hosts,
            playbook: PlaybookMeta::load(&playbook)?,
            queue: args.queue,
            store: super::store::Options {
                synchronous: args.synchronous,
                commit_delay: Duration::from_millis(args.commit_delay_ms),
                busy_timeout: Duration::from_millis(args.busy_timeout_ms),
                max_pages: args.max_db_pages,
            },
            header_timeout: Duration::from_millis(args.header_timeout_ms),
            body_timeout: Duration::from_millis(args.body_timeout_ms),
            write_timeout: Duration::from_millis(args.write_timeout_ms),
            max_connections: args.max_connections,
            calibration: super::views::calibration::Setup::load(
                args.candidate.as_deref(),
                args.accounts.as_deref(),
                &playbook,
            )?,
        })
    }
}

/// A host name for `--allowed-host`: letters, digits, `-`, `_` and dots, no
/// port, no scheme (lowercased, a trailing dot dropped, as [`host_allowed`]
/// compares them).
fn check_host(h: &str) -> Result<String> {
    let name = h.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        bail!("--allowed-host {h}: expected a host name without scheme or port, such as collector.example.com (an internationalised name in its punycode form, xn--...)");
    }
    Ok(name)
}

/// Whether a request's `Host` (`name[:port]`, `[v6][:port]`) is one the
/// collector answers to: any IP address, `localhost` (and `*.localhost`), or
/// an `allowed` name.
/// A name is compared without its port, case and trailing dot.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => {
            return match rest.split_once(']') {
                Some((v6, port)) if port.is_empty() || port.starts_with(':') => {
                    v6.parse::<std::net::Ipv6Addr>().is_ok()
                }
                _ => false,
            }
        }
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.to_ascii_lowercase();
    // A name is labels of letters, digits, `-` and `_` (what `--allowed-host` takes).
    let well_formed = name.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    });
    // `*.localhost` resolves to this machine in browsers (RFC 6761): no page
    // can point it elsewhere.
    well_formed && (name == "localhost" || name.ends_with(".localhost") || allowed.contains(&name))
}

/// An origin as browsers send it: `scheme://host[:port]`, no path, no wildcard.
fn check_origin(o: &str) -> Result<String> {
    let o = o.trim().trim_end_matches('/');
    let Some((scheme, host)) = o.split_once("://") else {
        bail!("--cors-origin {o}: expected scheme://host[:port], such as https://www.example.com");
    };
    if o.contains('*') {
        bail!("--cors-origin {o}: wildcards are not allowed; list each origin");
    }
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('/') {
        bail!("--cors-origin {o}: expected scheme://host[:port], such as https://www.example.com");
    }
    Ok(o.to_ascii_lowercase())
}

/// What the views read from the playbook: ids and labels, in playbook order.
#[derive(Debug, Clone)]
pub struct PlaybookMeta {
    pub id: String,
    pub revision: i64,
    /// Stages in journey order: (id, label).
    pub stages: Vec<(String, String)>,
    /// Buying-committee roles a deal needs: (id, label).
    pub roles: Vec<(String, String)>,
    /// Fit tiers, best first.
    pub tiers: Vec<String>,
    /// Content id → (title, format).
    pub content: BTreeMap<String, (String, String)>,
    /// Trigger id → label.
    pub triggers: BTreeMap<String, String>,
    /// Gates (a failed one disqualifies an account): (id, label).
    pub gates: Vec<(String, String)>,
    /// `engagement.half_life_days`: the account view decays each visitor's
    /// last reported engagement score with it, as the engine decays points.
    pub engagement_half_life_days: f64,
}

impl Default for PlaybookMeta {
    fn default() -> Self {
        PlaybookMeta {
            id: String::new(),
            revision: 0,
            stages: Vec::new(),
            roles: Vec::new(),
            tiers: Vec::new(),
            content: BTreeMap::new(),
            triggers: BTreeMap::new(),
            gates: Vec::new(),
            engagement_half_life_days: engagement_half_life_days(&Value::Null),
        }
    }
}

/// A playbook's engagement half-life in days, read as the engine reads it:
/// its default when the playbook sets none (or has no `engagement` to read).
fn engagement_half_life_days(engagement: &Value) -> f64 {
    use buyerpath::playbook::EngagementSpec;
    let read = |v: Value| serde_json::from_value::<EngagementSpec>(v).ok();
    read(engagement.clone())
        .or_else(|| read(serde_json::json!({"saturation": 100, "rules": []})))
        .map(|e| e.half_life_days)
        .filter(|h| h.is_finite() && *h > 0.0)
        .unwrap_or(DEFAULT_HALF_LIFE_DAYS)
}

/// Only if the engine's own default could not be read (it always can).
const DEFAULT_HALF_LIFE_DAYS: f64 = 30.0;

impl PlaybookMeta {
    /// Reads and validates a playbook with the engine, then keeps what the views need.
    pub fn load(path: &Path) -> Result<PlaybookMeta> {
        // Read as every other command reads a playbook (a byte order mark is skipped).
        let text = crate::input::read_playbook(path)
            .with_context(|| {
                format!(
                    "reading the playbook {} (pass --playbook PATH)",
                    path.display()
                )
            })?
            .and_then(|text| buyerpath::Engine::from_json(&text).map(|_| text))
            .map_err(|e| anyhow::anyhow!("the playbook {} is not valid: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text)?;
        Ok(PlaybookMeta::from_value(&v))
    }

    /// Extracts the ids and labels from a (valid) playbook document.
    pub fn from_value(v: &Value) -> PlaybookMeta {
        let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |k: &str| {
            v.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let pairs = |k: &str| -> Vec<(String, String)> {
            list(k)
                .iter()
                .map(|x| (s(x, "id"), s(x, "label")))
                .collect()
        };
        let tiers = v
            .pointer("/fit/tiers")
            .and_then(Value::as_array)
            .map(|t| t.iter().map(|x| s(x, "id")).collect())
            .unwrap_or_default();
        PlaybookMeta {
            id: s(v, "id"),
            revision: v.get("revision").and_then(Value::as_i64).unwrap_or(0),
            stages: pairs("stages"),
            roles: pairs("roles"),
            tiers,
            content: list("content")
                .iter()
                .map(|x| (s(x, "id"), (s(x, "title"), s(x, "format"))))
                .collect(),
            triggers: list("triggers")
                .iter()
                .map(|x| (s(x, "id"), s(x, "label")))
                .collect(),
            gates: pairs("gates"),
            engagement_half_life_days: engagement_half_life_days(
                v.get("engagement").unwrap_or(&Value::Null),
            ),
        }
    }

    /// A stage's label (its id if the playbook does not know it).
    pub fn stage_label(&self, id: &str) -> String {
        self.stages
            .iter()
            .find(|(s, _)| s == id)
            .map_or_else(|| id.to_string(), |(_, l)| l.clone())
    }

    /// The rank of a tier, best first; unknown tiers after every known one.
    pub fn tier_rank(&self, tier: Option<&str>) -> usize {
        tier.and_then(|t| self.tiers.iter().position(|x| x == t))
            .unwrap_or(self.tiers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{check_host, check_origin, host_allowed};

    #[test]
    fn origins_are_exact() {
        assert_eq!(
            check_origin("https://WWW.Example.com/").unwrap(),
            "https://www.example.com"
        );
        assert!(check_origin("*").is_err());
        assert!(check_origin("https://*.example.com").is_err());
        assert!(check_origin("www.example.com").is_err());
        assert!(check_origin("https://example.com/path").is_err());
    }

    #[test]
    fn hosts_are_ip_addresses_localhost_or_allowed_names() {
        let allowed = vec![check_host("Collector.Example.com.").unwrap()];
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:8080",
            "[::1]",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:8080",
            "localhost.:8080",
            "127.0.0.1.",
            "127.0.0.1.:8080",
            "collector.example.com",
            "COLLECTOR.example.com.:443",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "collector.example.com.evil",
            "[::1]x",
            "[::1",
            "::1",
            "",
            "evil.example#.localhost",
            "evil.example/.localhost",
            "evil.example?.localhost",
            ".localhost",
            "..localhost",
            "a..localhost",
            "[localhost]",
            "localhost..",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
        for bad in [
            "",
            "http://a.example",
            "a.example:8080",
            "a.example/x",
            "*",
            ".example.com",
        ] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }
}
