//! Routes: Segment ingestion (`/v1/batch`, `/v1/track`...), the views
//! (`/api/accounts`, `/api/funnel`, `/api/health`), static files; write keys
//! and CORS.

use super::config::Config;
use super::ingest::{self, Parsed, Refused, Rejected, MAX_BATCH_BYTES, MAX_LISTED_REJECTIONS};
use super::store::{self, DataVersion, QueueError, Watch, Writer};
use super::{iso, static_files, views};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use views::accounts::Selection;

/// What every handler shares.
pub struct App {
    pub config: Config,
    pub writer: Writer,
    pub started: Instant,
    /// Sees commits to the database by any process (the views' cache key).
    pub watch: Watch,
    /// The last views computed: (endpoint and query, the database's version
    /// then, JSON). A dashboard polling an idle store costs nothing; any
    /// commit (this process's or another's) invalidates. Responses share the
    /// cached bytes: a thousand clients reading one view slowly hold one copy of it.
    pub cache: Mutex<Vec<(String, Version, Bytes)>>,
    /// The rows counted for `/api/health`.
    pub rows: RowCount,
    /// Turns to read a request's body (inflate, parse, check) on the
    /// blocking pool: one per CPU.
    pub parsing: Arc<tokio::sync::Semaphore>,
    /// Held while a view is computed: requests for views arriving meanwhile
    /// wait and then find it in the cache, instead of each computing (and
    /// holding in memory) a copy of the same view.
    pub computing: Arc<tokio::sync::Mutex<()>>,
    /// The stored signals as the views last read them (read again only
    /// where the database changed since). Held while a view is computed.
    pub signals: Mutex<views::signals::Signals>,
    /// Stops the signals' read under way, if any: at shutdown (a read
    /// transaction left open would keep the WAL from being folded back).
    pub reading: Mutex<Option<rusqlite::InterruptHandle>>,
}

/// Views kept in the cache.
const CACHE_ENTRIES: usize = 16;

/// A version of the database's rows: this process's inserts and upgrades
/// ([`store::Stats::version`]) and SQLite's data version (any connection's
/// commits).
pub type Version = (u64, DataVersion);

impl App {
    /// The database's version now; `None` when it cannot be told without
    /// waiting (another request is reading it) or at all: nothing cached is
    /// then taken as current. For the async threads.
    fn version(&self) -> Option<Version> {
        let ours = self.writer.stats.version();
        self.watch.data_version().map(|dv| (ours, dv))
    }

    /// The same, waiting for the watch if another request is reading it:
    /// for the blocking pool only.
    fn version_wait(&self) -> Option<Version> {
        let ours = self.writer.stats.version();
        self.watch.data_version_wait().map(|dv| (ours, dv))
    }

    /// The stored signals, brought up to the database now. For the blocking
    /// pool, holding the views' turn.
    fn signals_now(&self) -> anyhow::Result<MutexGuard<'_, views::signals::Signals>> {
        let mut conn = store::open_reader(&self.config.db)?;
        // A view that panicked left the signals as they were (views only
        // read them); a read that panicked may have left them half patched:
        // they are then read again whole.
        let mut signals = match self.signals.lock() {
            Ok(signals) => signals,
            Err(poisoned) => {
                self.signals.clear_poison();
                let mut signals = poisoned.into_inner();
                if signals.interrupted() {
                    *signals = views::signals::Signals::default();
                }
                signals
            }
        };
        self.interruptible(Some(conn.get_interrupt_handle()));
        let read = signals.refresh(&mut conn);
        self.interruptible(None);
        read?;
        Ok(signals)
    }

    fn interruptible(&self, read: Option<rusqlite::InterruptHandle>) {
        if let Ok(mut r) = self.reading.lock() {
            *r = read;
        }
    }

    /// Stops the signals' read under way (the collector is stopping).
    pub fn stop_reading(&self) {
        if let Ok(r) = self.reading.lock() {
            if let Some(read) = r.as_ref() {
                read.interrupt();
            }
        }
    }

    /// The view cached for `key` at `version`.
    fn cached(&self, key: &str, version: Option<Version>) -> Option<Bytes> {
        let version = version?;
        self.cache.lock().ok().and_then(|c| {
            c.iter()
                .find(|(k, v, _)| k == key && *v == version)
                .map(|(_, _, body)| body.clone())
        })
    }
}

/// The parsing turns: one per CPU.
pub fn parsing_turns() -> Arc<tokio::sync::Semaphore> {
    let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZeroUsize::get);
    Arc::new(tokio::sync::Semaphore::new(cpus))
}

/// How often `/api/health` counts the rows at most, while they change.
pub const RECOUNT_EVERY: Duration = Duration::from_secs(1);

/// The rows in the database as `/api/health` reports them: `count(*)` takes
/// tens of milliseconds at a million rows, so the count is kept with the
/// database's version then, counted again only when the version changed and
/// the last count is older than its interval (until then the last count is
/// served, plus the rows this process inserted since: only other processes'
/// rows show up to an interval late), and by one call at a time (the others
/// wait for its result).
pub struct RowCount {
    last: Mutex<Option<Counted>>,
    flight: tokio::sync::Mutex<()>,
    every: Duration,
}

/// A count of the rows: at which version (read before counting), this
/// process's inserted rows then (read after it), and when it finished.
#[derive(Debug, Clone, Copy)]
struct Counted {
    version: Option<Version>,
    n: u64,
    ours: u64,
    at: Instant,
}

impl RowCount {
    pub fn new(every: Duration) -> RowCount {
        RowCount {
            last: Mutex::new(None),
            flight: tokio::sync::Mutex::new(()),
            every,
        }
    }

    fn last(&self) -> Option<Counted> {
        self.last.lock().ok().and_then(|l| *l)
    }

    /// The rows at `version` (`None`: unknown), counted by `count` (on the
    /// blocking pool) only if no count is current; `ours`: the rows this
    /// process inserted (ever growing). `None` if the count fails.
    async fn get<F>(&self, version: Option<Version>, ours: &AtomicU64, count: F) -> Option<u64>
    where
        F: FnOnce() -> Option<u64> + Send + 'static,
    {
        let current = |c: &Counted| {
            (version.is_some() && c.version == version) || c.at.elapsed() < self.every
        };
        let served = |c: Counted| {
            let since = ours.load(Ordering::Acquire).saturating_sub(c.ours);
            c.n.saturating_add(since)
        };
        if let Some(c) = self.last().filter(current) {
            return Some(served(c));
        }
        let asked = Instant::now();
        let _flight = self.flight.lock().await;
        // A count finished while this call waited for its turn is as new
        // as one it would make; so is one at its version.
        if let Some(c) = self.last().filter(|c| c.at >= asked || current(c)) {
            return Some(served(c));
        }
        // A failed count serves the last one (with this process's rows since).
        let Some(n) = tokio::task::spawn_blocking(count).await.ok().flatten() else {
            return self.last().map(served);
        };
        // Read after the count: a row inserted meanwhile is missed until
        // the next count, never counted twice.
        let counted = Counted {
            version,
            n,
            ours: ours.load(Ordering::Acquire),
            at: Instant::now(),
        };
        if let Ok(mut l) = self.last.lock() {
            *l = Some(counted);
        }
        Some(n)
    }
}

type Shared = Arc<App>;

/// The collector's routes.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/v1/batch", post(batch))
        .route("/v1/import", post(batch))
        // Every method, so a 404 for an unknown `/v1/...` names no methods.
        .route("/v1/{kind}", any(single))
        .route("/api/health", get(health))
        .route("/api/accounts", get(accounts))
        .route("/api/funnel", get(funnel))
        .route("/api/calibration", get(calibration))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside CORS: a configured origin can read the refusal and its hint.
        .layer(middleware::from_fn_with_state(app.clone(), host_guard))
        .layer(middleware::from_fn_with_state(app.clone(), cors))
        .with_state(app)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    json_text(status, body.to_string())
}

fn json_text(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.into(),
    )
        .into_response()
}

/// An error answer: every one has a `code` to branch on and an `error`
/// (what is wrong, for a person).
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, &json!({ "code": code, "error": message }))
}

/// An ingestion answer that stores nothing: an error with the counts of a
/// batch answer, all none (the shape of every `/v1/...` answer, so a client
/// reads `accepted` and `rejected` whatever the status).
fn nothing_stored(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, &nothing_stored_json(code, message))
}

fn nothing_stored_json(code: &str, message: &str) -> Value {
    json!({
        "code": code,
        "error": message,
        "accepted": 0,
        "duplicates": 0,
        "rejected": [],
        "rejected_count": 0,
        "rejected_truncated": false,
    })
}

/// [`nothing_stored`] for a body refused as a whole: where in it (a JSON
/// path), and what to send instead.
fn nothing_stored_at(
    status: StatusCode,
    code: &str,
    message: &str,
    path: &str,
    hint: &str,
) -> Response {
    let mut body = nothing_stored_json(code, message);
    body["path"] = json!(path);
    body["hint"] = json!(hint);
    json_response(status, &body)
}

/// Rejected events as answered: each with its reason in one line (as
/// before), and its problems one by one with a code, a JSON path into the
/// request body (`$.batch[i].field`; `$.field` for a single-event endpoint)
/// and a hint where one helps.
fn rejected_json(r: &[Rejected], batch: bool) -> Vec<Value> {
    r.iter()
        .map(|x| {
            let at = if batch {
                format!("$.batch[{}]", x.index)
            } else {
                "$".to_string()
            };
            let problems: Vec<Value> = x
                .problems
                .iter()
                .map(|p| {
                    let path = match p.field.as_deref() {
                        // `["a key"]` follows its parent directly.
                        Some(f) if f.starts_with('[') => format!("{at}{f}"),
                        Some(f) => format!("{at}.{f}"),
                        None => at.clone(),
                    };
                    let mut v = json!({"code": p.code, "path": path, "message": p.message});
                    if let Some(h) = p.hint {
                        v["hint"] = json!(h);
                    }
                    v
                })
                .collect();
            json!({"index": x.index, "messageId": x.message_id, "reason": x.reason(), "problems": problems})
        })
        .collect()
}

/// An answer's `rejected` list (the first [`MAX_LISTED_REJECTIONS`] rejected
/// events), `rejected_count` (all of them) and `rejected_truncated` (whether
/// the list leaves some out) added to `body`.
fn with_rejections(mut body: Value, parsed: &Parsed, batch: bool) -> Value {
    body["rejected"] = Value::Array(rejected_json(&parsed.rejected, batch));
    body["rejected_count"] = json!(parsed.rejected_count);
    body["rejected_truncated"] = json!(parsed.rejected_count > parsed.rejected.len());
    body
}

/// The write key in an `Authorization: Basic` header (the user part), if any.
/// `Some(None)`: a header that is not a readable Basic credential.
fn basic_user(headers: &HeaderMap) -> Option<Option<String>> {
    let v = headers.get(header::AUTHORIZATION)?;
    let user = v
        .to_str()
        .ok()
        .and_then(|s| {
            let (scheme, rest) = s.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .map(|cred| {
            cred.split_once(':')
                .map_or(cred.as_str(), |(u, _)| u)
                .to_string()
        });
    Some(user)
}

impl App {
    /// Whether a write key is valid, and whether it is a trusted (server-side) one.
    fn key_class(&self, key: &str) -> Option<bool> {
        key_class_of(
            key,
            &self.config.trusted_write_keys,
            &self.config.write_keys,
        )
    }
}

/// SHA-256 of a write key. Keys are compared by digest: the time a comparison
/// takes does not depend on how long a prefix of a secret key a guess shares
/// (and the digests have the same length whatever the keys' lengths).
fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether two digests are equal, looking at every byte (no early exit).
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `Some(true)` for a trusted key, `Some(false)` for a client key, `None` for
/// neither. Every configured key is compared, whichever matches (or none).
fn key_class_of(key: &str, trusted: &[String], client: &[String]) -> Option<bool> {
    let digest = key_digest(key);
    let matches = |keys: &[String]| {
        keys.iter().fold(false, |found, k| {
            found | digests_equal(&digest, &key_digest(k))
        })
    };
    let is_trusted = matches(trusted);
    let is_client = matches(client);
    if is_trusted {
        Some(true)
    } else if is_client {
        Some(false)
    } else {
        None
    }
}

fn unauthorized() -> Response {
    let mut r = nothing_stored(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a valid write key is required: the HTTP Basic user (`Authorization: Basic base64(KEY:)`), or `writeKey` in the body",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"buyerpath\""),
    );
    r
}

async fn batch(State(app): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    ingest_request(&app, &headers, body, None).await
}

async fn single(
    State(app): State<Shared>,
    Path(kind): Path<String>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method != Method::POST {
        return method_not_allowed(method, uri).await;
    }
    match endpoint(&kind) {
        Some(k) => ingest_request(&app, &headers, body, k).await,
        None => error(StatusCode::NOT_FOUND, "not_found", UNKNOWN_V1),
    }
}

/// The event type a `/v1/{kind}` path takes (`None` inside: a batch), by its
/// name or by the one letter analytics.js (analytics-next) posts to: `/v1/t`
/// for track, `/v1/b` for a batch, and so on.
fn endpoint(kind: &str) -> Option<Option<&'static str>> {
    if kind == "b" {
        return Some(None);
    }
    ingest::TYPES
        .iter()
        .find(|t| **t == kind || (kind.len() == 1 && t.starts_with(kind)))
        .map(|t| Some(*t))
}

async fn ingest_request(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    endpoint: Option<&'static str>,
) -> Response {
    let received_at = iso::now_ms();
    let header_key = basic_user(headers);
    let header_class = match &header_key {
        Some(Some(k)) => app.key_class(k),
        _ => None,
    };
    if header_key.is_some() && header_class.is_none() {
        // Read to its end first, as for a refused host.
        drain(app, body).await;
        return unauthorized();
    }
    let too_big = || {
        nothing_stored(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!(
                "the request is larger than {MAX_BATCH_BYTES} bytes (500 KiB): send smaller batches"
            ),
        )
    };
    let encoding = content_encoding(headers);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return too_big();
    }
    // A client trickling its body (slowloris) gets 408 instead of holding the request open.
    let bytes = match tokio::time::timeout(app.config.body_timeout, read_body(body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooBig)) => return too_big(),
        Ok(Err(BodyError::Read)) => {
            return nothing_stored(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "the request body could not be read",
            )
        }
        Err(_) => {
            let mut r = nothing_stored(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                &format!(
                    "the request body did not arrive within {} ms",
                    app.config.body_timeout.as_millis()
                ),
            );
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    // Inflating, reading and checking a 500 KB body is CPU work (tens of
    // milliseconds): done on the blocking pool, so the async threads keep
    // answering other requests meanwhile; at most one body per CPU at once,
    // so a burst of requests holds no more bodies in reading than that.
    let Ok(permit) = app.parsing.clone().acquire_owned().await else {
        return unavailable("shutting_down", "the collector is shutting down");
    };
    let read = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let bytes = decode(encoding, bytes)?;
        // Any content type is read as JSON: navigator.sendBeacon sends text/plain.
        Ok::<_, Box<Response>>(match endpoint {
            None => ingest::batch(&bytes, received_at),
            Some(kind) => ingest::single(&bytes, kind, received_at),
        })
    })
    .await;
    let parsed = match read {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(answer)) => return *answer,
        Err(_) => {
            return nothing_stored(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the request could not be read (the reader failed)",
            )
        }
    };
    // The body's key is read even from a body refused as a whole (as far as
    // it could be read): a sendBeacon client (no header) with a good key is
    // told what is wrong with its request (400), like a header client, not
    // that its key is (401).
    let body_key = match &parsed {
        Ok(Parsed { write_key, .. }) | Err(Refused { write_key, .. }) => write_key.as_deref(),
    };
    let body_class = body_key.map(|k| app.key_class(k));
    // Trusted when a trusted key vouches for the request (header or body).
    let trusted = match (header_class, body_class) {
        (Some(h), b) => h || b == Some(Some(true)),
        (None, Some(Some(b))) => b,
        // A body key that is not a key.
        (None, Some(None)) => return unauthorized(),
        // No key anywhere, in a body that was read: 401.
        (None, None) if parsed.as_ref().map_or_else(|r| r.whole, |_| true) => {
            return unauthorized()
        }
        // No key read from a body that could not be read (malformed JSON,
        // or a key after the point where it breaks): whether a key was in
        // it cannot be told, so the answer is the parser's reason (400, as
        // the README says of malformed JSON), which tells the client what
        // it sent and nothing else; nothing of it is stored either way.
        (None, None) => false,
    };
    let mut parsed = match parsed {
        Ok(p) => p,
        Err(Refused {
            reason,
            too_large,
            path,
            hint,
            ..
        }) => {
            let (status, code) = if too_large {
                (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large")
            } else {
                (StatusCode::BAD_REQUEST, "invalid_body")
            };
            return nothing_stored_at(status, code, &reason, path, hint);
        }
    };
    for row in &mut parsed.rows {
        row.trusted = trusted;
    }
    let stats = &app.writer.stats;
    stats
        .rejected
        .fetch_add(parsed.rejected_count as u64, Ordering::Relaxed);
    if parsed.rows.is_empty() {
        let (code, why) = if parsed.rejected_count == 0 {
            ("empty_batch", "the batch is empty".to_string())
        } else if parsed.rejected_count > parsed.rejected.len() {
            ("no_valid_events", format!(
                "no event in the request is valid (the first {MAX_LISTED_REJECTIONS} of the {} rejected events are listed)",
                parsed.rejected_count
            ))
        } else {
            (
                "no_valid_events",
                "no event in the request is valid".to_string(),
            )
        };
        let body = json!({"code": code, "error": why, "accepted": 0, "duplicates": 0});
        return json_response(
            StatusCode::BAD_REQUEST,
            &with_rejections(body, &parsed, endpoint.is_none()),
        );
    }
    let reply = match app.writer.submit(std::mem::take(&mut parsed.rows)) {
        Ok(rx) => rx,
        Err(QueueError::Full) => {
            let mut r = nothing_stored(
                StatusCode::TOO_MANY_REQUESTS,
                "queue_full",
                "the writer's queue is full: retry after the delay in Retry-After",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
        Err(QueueError::Closed) => {
            return unavailable("shutting_down", "the collector is shutting down")
        }
    };
    match reply.await {
        Ok(Ok(stored)) => {
            // An upgraded event (a verified copy that replaced an asserted
            // one) is stored as sent: accepted, not a duplicate.
            let body = json!({
                "accepted": stored.inserted + stored.upgraded,
                "duplicates": stored.duplicates,
            });
            let mut body = with_rejections(body, &parsed, endpoint.is_none());
            if stored.upgraded > 0 {
                body["upgraded"] = json!(stored.upgraded);
            }
            json_response(StatusCode::OK, &body)
        }
        Ok(Err(e)) => match e.fault {
            // Nothing of the batch was kept; the client keeps it and retries.
            store::Fault::Full => {
                let mut r =
                    nothing_stored(StatusCode::INSUFFICIENT_STORAGE, "storage_full", &e.message);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                r
            }
            store::Fault::Locked => {
                let mut r = nothing_stored(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_locked",
                    &format!("the database is locked by another process: {}", e.message),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
                r
            }
            store::Fault::Failed => unavailable("write_failed", &e.message),
            store::Fault::Moved => unavailable("database_moved", &e.message),
        },
        Err(_) => unavailable(
            "write_failed",
            "the writer stopped before committing the batch",
        ),
    }
}

/// A request body's `Content-Encoding`, as far as the collector reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Encoding {
    /// None, or `identity`.
    Identity,
    /// `gzip` (or its old name `x-gzip`): Segment's HTTP API takes it, and
    /// analytics-python sends it with `gzip=True`.
    Gzip,
    /// Anything else (`br`, `deflate`, `compress`, two codings...), as sent.
    Unsupported(String),
}

/// The codings the collector reads, for the 415 answer.
const SUPPORTED_ENCODINGS: &str = "gzip (or x-gzip), identity, or none";

/// The body's coding, from every `Content-Encoding` header (a list, in the
/// order applied; `identity` is no coding).
fn content_encoding(headers: &HeaderMap) -> Encoding {
    let mut codings = Vec::new();
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let Ok(text) = value.to_str() else {
            return Encoding::Unsupported(String::from_utf8_lossy(value.as_bytes()).into_owned());
        };
        codings.extend(
            text.split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "identity"),
        );
    }
    match codings.as_slice() {
        [] => Encoding::Identity,
        [one] if one == "gzip" || one == "x-gzip" => Encoding::Gzip,
        _ => Encoding::Unsupported(codings.join(", ")),
    }
}

/// The body as JSON text: gzip inflated (at most [`MAX_BATCH_BYTES`], the
/// limit applying to what it inflates to as well as to what was sent, so a
/// zip bomb is refused after inflating one byte past the limit); `Err`: the
/// answer (413, 400 for a body that is not gzip, 415 for another coding).
fn decode(encoding: Encoding, bytes: Vec<u8>) -> Result<Vec<u8>, Box<Response>> {
    let refuse =
        |status, code, message: String| Err(Box::new(nothing_stored(status, code, &message)));
    match encoding {
        Encoding::Identity => Ok(bytes),
        Encoding::Unsupported(coding) => refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!(
                "Content-Encoding `{coding}` is not supported: send the body as {SUPPORTED_ENCODINGS}"
            ),
        ),
        Encoding::Gzip => match gunzip(&bytes, MAX_BATCH_BYTES) {
            Ok(out) => Ok(out),
            Err(Gunzip::TooLarge) => refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request is larger than {MAX_BATCH_BYTES} bytes (500 KiB) once decompressed: send smaller batches"
                ),
            ),
            Err(Gunzip::Invalid(why)) => refuse(
                StatusCode::BAD_REQUEST,
                "invalid_gzip",
                format!("the body is not valid gzip (Content-Encoding: gzip): {why}"),
            ),
        },
    }
}

/// Why a gzip body was not inflated.
#[derive(Debug, PartialEq)]
enum Gunzip {
    /// It inflates to more than the limit.
    TooLarge,
    /// It is not gzip, or not only gzip: why.
    Invalid(String),
}

/// The gzip members of `bytes`, inflated one after the other (RFC 1952:
/// concatenated members are one body, as gunzip reads them), to at most
/// `limit` bytes. Bytes after a member that do not start another one
/// (padding, garbage) are said to be that, not "unexpected end of file".
fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, Gunzip> {
    use std::io::Read as _;
    /// The first two bytes of every gzip member.
    const MAGIC: [u8; 2] = [0x1f, 0x8b];
    if bytes.is_empty() {
        return Err(Gunzip::Invalid("the body is empty".into()));
    }
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut members = 0usize;
    loop {
        if members > 0 && !rest.starts_with(&MAGIC) {
            return Err(Gunzip::Invalid(format!(
                "{} bytes after the last member are not another gzip member (data after the last member)",
                rest.len()
            )));
        }
        // One byte past the limit tells a body over it.
        let budget = limit.saturating_add(1).saturating_sub(out.len());
        // The bufread decoder reads no further than its member: what is
        // left after it is the next member (or the garbage) whole.
        let mut member = flate2::bufread::GzDecoder::new(rest);
        let read = (&mut member)
            .take(u64::try_from(budget).unwrap_or(u64::MAX))
            .read_to_end(&mut out);
        if let Err(e) = read {
            let what = if members == 0 {
                e.to_string()
            } else {
                format!("member {}: {e}", members.saturating_add(1))
            };
            return Err(Gunzip::Invalid(what));
        }
        if out.len() > limit {
            return Err(Gunzip::TooLarge);
        }
        rest = member.into_inner();
        members = members.saturating_add(1);
        if rest.is_empty() {
            return Ok(out);
        }
    }
}

/// How much of an oversized body is read (and dropped) before answering 413.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

enum BodyError {
    TooBig,
    Read,
}

/// Reads a body of at most 500 KB. A bigger one is still read to its end
/// (up to 8 MB, then dropped) so the client finishes sending and sees the 413:
/// answering mid-upload makes the kernel reset the connection, and a client
/// that sees a network error instead of 413 retries the same batch forever.
async fn read_body(mut body: Body) -> Result<Vec<u8>, BodyError> {
    use http_body_util::BodyExt as _;
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Read)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT {
            break;
        }
        if total <= MAX_BATCH_BYTES {
            buf.extend_from_slice(&data);
        }
    }
    if total > MAX_BATCH_BYTES {
        Err(BodyError::TooBig)
    } else {
        Ok(buf)
    }
}

/// 503 for a batch not stored, with Retry-After.
fn unavailable(code: &str, message: &str) -> Response {
    let mut r = nothing_stored(StatusCode::SERVICE_UNAVAILABLE, code, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// The rows in the database, whoever wrote them (another process, the
/// `sqlite3` tool): see [`RowCount`]; this process's own count if the
/// database cannot be read.
async fn events_stored(app: &Shared) -> u64 {
    let fallback = app.writer.stats.stored.load(Ordering::Relaxed);
    let db = app.config.db.clone();
    // In a task of its own: a probe that gives up before the count ends
    // (a short health-check timeout) leaves the count to finish and be kept,
    // rather than thrown away and started again by the next probe.
    let task = app.clone();
    tokio::spawn(async move {
        task.rows
            .get(task.version(), &task.writer.stats.stored, move || {
                store::count_events(&db).ok()
            })
            .await
    })
    .await
    .ok()
    .flatten()
    .unwrap_or(fallback)
}

async fn health(State(app): State<Shared>) -> Response {
    let events = events_stored(&app).await;
    let s = &app.writer.stats;
    let (depth, capacity) = app.writer.depth();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let degraded = s.degraded.load(Ordering::Relaxed);
    let last = s.last_fault.lock().ok().and_then(|l| l.clone()).map(|f| {
        json!({
            "kind": f.fault.name(),
            "message": f.message,
            "at": iso::format(f.at),
        })
    });
    json_response(
        StatusCode::OK,
        &json!({
            // `degraded`: the last commit failed (disk full, database locked...):
            // batches are being refused with 507/503 and nothing of them is kept.
            "status": if degraded { "degraded" } else { "ok" },
            "faults": {
                "commits_failed": n(&s.faults),
                "events_refused": n(&s.failed_events),
                "last": last,
            },
            "events": events,
            "queue": {
                "batches": depth,
                "capacity": capacity,
                "events": s.queued_events.load(Ordering::Relaxed),
            },
            "since_start": {
                "accepted": n(&s.inserted),
                "duplicates": n(&s.duplicates),
                "upgraded": n(&s.upgraded),
                "rejected": n(&s.rejected),
                "commits": n(&s.commits),
                "throttled": n(&s.throttled),
                "uptime_seconds": app.started.elapsed().as_secs(),
            },
            "playbook": {"id": app.config.playbook.id, "revision": app.config.playbook.revision},
            "database": store::describe(&app.config.db).display().to_string(),
        }),
    )
}

/// A view's query parameters as sent, in order: [`once_each`] makes the map.
type Params = Query<Vec<(String, String)>>;

/// The parameters by name, or a 400 for one given twice (`limit=10&limit=20`
/// would otherwise quietly take the last).
fn once_each(pairs: Vec<(String, String)>) -> Result<BTreeMap<String, String>, Box<Response>> {
    let mut params = BTreeMap::new();
    for (name, value) in pairs {
        if params.contains_key(&name) {
            let shown: String = name.chars().take(100).collect();
            return Err(Box::new(json_response(
                StatusCode::BAD_REQUEST,
                &json!({
                    "code": "invalid_parameter",
                    "error": format!("{shown}: given more than once"),
                    "parameter": shown,
                    "hint": "give each parameter once",
                }),
            )));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// Reads the stored signals before the first view asks (a store of a
/// million signals takes seconds to read), holding the views' turn, and says
/// how long it took.
pub async fn warm(app: Shared) {
    let turn = app.computing.clone().lock_owned().await;
    let started = Instant::now();
    let read = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        app.signals_now().map(|s| s.len())
    })
    .await;
    match read {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => logln!(
            "buyerpath serve: views: {n} signals read in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Ok(Err(e)) if interrupted(&e) => {
            logln!(
                "buyerpath serve: views: reading the signals stopped (the collector is stopping)"
            )
        }
        Ok(Err(e)) => {
            elogln!(
                "buyerpath serve: views: reading the signals failed: {e:#} (each view tries again)"
            )
        }
        Err(_) => {
            elogln!("buyerpath serve: views: reading the signals failed (each view tries again)")
        }
    }
}

/// Whether a read failed because [`App::stop_reading`] stopped it.
fn interrupted(e: &anyhow::Error) -> bool {
    e.downcast_ref::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error_code)
        == Some(rusqlite::ErrorCode::OperationInterrupted)
}

/// Runs a view on a read-only connection off the async threads.
async fn view<F>(app: &Shared, name: &str, params: &BTreeMap<String, String>, f: F) -> Response
where
    F: FnOnce(&[views::Signal], &Config, i64) -> Value + Send + 'static,
{
    let key = format!("{name}?{params:?}");
    if let Some(body) = app.cached(&key, app.version()) {
        return json_text(StatusCode::OK, body);
    }
    let as_of = match as_of(params) {
        Ok(t) => t,
        Err(refused) => return *refused,
    };
    // One view at a time; one computed while this request waited is reused.
    // The computation holds the turn and stores its result itself, so a
    // client that goes away meanwhile leaves a cached view, not a second
    // computation running beside the next one.
    let turn = app.computing.clone().lock_owned().await;
    let shared = app.clone();
    let run = move || -> anyhow::Result<Bytes> {
        let _turn = turn;
        let app = shared;
        // Read waiting for the watch (this is the blocking pool): a view
        // computed while this request waited for its turn is found, never
        // computed again because another request held the watch.
        let version = app.version_wait();
        if let Some(body) = app.cached(&key, version) {
            return Ok(body);
        }
        let signals = app.signals_now()?;
        let as_of = as_of.unwrap_or_else(|| signals.default_as_of());
        let body = Bytes::from(f(signals.upto(as_of), &app.config, as_of).to_string());
        drop(signals);
        // A version read before the view: a commit meanwhile makes the next
        // request compute it again, never serve it as newer than it is.
        if let (Some(version), Ok(mut c)) = (version, app.cache.lock()) {
            c.retain(|(k, _, _)| *k != key);
            if c.len() >= CACHE_ENTRIES {
                c.remove(0);
            }
            c.push((key, version, body.clone()));
        }
        Ok(body)
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(Ok(body)) => json_text(StatusCode::OK, body),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "view_failed",
            &format!("{e:#}"),
        ),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "view_failed",
            "the view failed",
        ),
    }
}

/// The `as_of` parameter, if given; a 400 when it is not a time.
fn as_of(params: &BTreeMap<String, String>) -> Result<Option<i64>, Box<Response>> {
    match params.get("as_of") {
        Some(given) => iso::parse_query_ms(given)
            .map(Some)
            .ok_or_else(|| Box::new(bad_as_of(given))),
        None => Ok(None),
    }
}

/// A 400 for an `as_of` that is not a time: what arrived (a `+` sent
/// unencoded is a space by then), and how to write one.
fn bad_as_of(given: &str) -> Response {
    let shown: String = given.chars().take(100).collect();
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "code": "invalid_parameter",
            "error": format!("as_of: `{shown}` is not an ISO 8601 date-time with a zone"),
            "parameter": "as_of",
            "hint": "such as as_of=2026-11-23T00:00:00Z, or with an offset as_of=2026-11-23T00:00:00%2B02:00 (write + as %2B in a URL: unencoded it arrives as a space)",
        }),
    )
}

/// The parameters each view takes: another one (a misspelt `limt`) is a
/// 400, not a view that silently ignores what was asked.
const ACCOUNTS_PARAMETERS: &[&str] = &["as_of", "limit", "offset", "tier", "qualified", "q"];
const FUNNEL_PARAMETERS: &[&str] = &["as_of", "revision"];
const CALIBRATION_PARAMETERS: &[&str] = &["as_of"];

/// A 400 for the first parameter `path` does not take, naming the ones it does.
fn unknown_parameter(
    params: &BTreeMap<String, String>,
    path: &str,
    accepted: &[&str],
) -> Option<Response> {
    let name = params.keys().find(|k| !accepted.contains(&k.as_str()))?;
    let shown: String = name.chars().take(100).collect();
    Some(json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "code": "invalid_parameter",
            "error": format!("{shown}: {path} takes no such parameter"),
            "parameter": shown,
            "hint": format!("{path} takes {}", accepted.join(", ")),
        }),
    ))
}

/// A parameter's value read with `parse`, or the 400 saying what was expected.
fn parameter<T>(
    params: &BTreeMap<String, String>,
    name: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Box<Response>> {
    match params.get(name).map(|v| parse(v)) {
        None => Ok(None),
        Some(Some(v)) => Ok(Some(v)),
        Some(None) => Err(Box::new(json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "code": "invalid_parameter",
                "error": format!("{name}: expected {expected}"),
                "parameter": name,
                "hint": format!("give {name} as {expected}, or leave it out"),
            }),
        ))),
    }
}

/// The accounts a request selects: filters and a page.
fn selection(params: &BTreeMap<String, String>) -> Result<Selection, Box<Response>> {
    let whole = |v: &str| v.parse::<usize>().ok();
    let boolean = |v: &str| match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    // An empty `q` or `tier` (a cleared search box) selects nothing out.
    let text = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    Ok(Selection {
        limit: parameter(params, "limit", "a whole number", whole)?,
        offset: parameter(params, "offset", "a whole number", whole)?.unwrap_or(0),
        qualified: parameter(params, "qualified", "true or false", boolean)?,
        tier: text("tier"),
        q: text("q"),
    })
}

async fn accounts(State(app): State<Shared>, Query(pairs): Params) -> Response {
    let params = match once_each(pairs) {
        Ok(p) => p,
        Err(refused) => return *refused,
    };
    if let Some(refused) = unknown_parameter(&params, "/api/accounts", ACCOUNTS_PARAMETERS) {
        return refused;
    }
    let selection = match selection(&params) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    view(&app, "accounts", &params, move |signals, config, as_of| {
        selection.view(signals, &config.playbook, as_of)
    })
    .await
}

async fn funnel(State(app): State<Shared>, Query(pairs): Params) -> Response {
    let params = match once_each(pairs) {
        Ok(p) => p,
        Err(refused) => return *refused,
    };
    if let Some(refused) = unknown_parameter(&params, "/api/funnel", FUNNEL_PARAMETERS) {
        return refused;
    }
    let revision = match parameter(&params, "revision", "a playbook revision number", |v| {
        v.parse::<i64>().ok()
    }) {
        Ok(r) => r,
        Err(refused) => return *refused,
    };
    view(&app, "funnel", &params, move |signals, config, as_of| {
        views::funnel::view(signals, &config.playbook, as_of, revision)
    })
    .await
}

/// What the candidate revision (`--candidate`) would do to the accounts' tiers.
async fn calibration(State(app): State<Shared>, Query(pairs): Params) -> Response {
    let params = match once_each(pairs) {
        Ok(p) => p,
        Err(refused) => return *refused,
    };
    if let Some(refused) = unknown_parameter(&params, "/api/calibration", CALIBRATION_PARAMETERS) {
        return refused;
    }
    if app.config.calibration.is_none() {
        // Checked all the same: a wrong request is a 400 with or without a candidate.
        if let Err(refused) = as_of(&params) {
            return *refused;
        }
        let body = views::calibration::no_candidate(&app.config.playbook);
        return json_response(StatusCode::OK, &body);
    }
    view(&app, "calibration", &params, views::calibration::view).await
}

const UNKNOWN_V1: &str = "unknown endpoint: use /v1/batch, /v1/import, /v1/track, /v1/identify, /v1/page, /v1/screen, /v1/group or /v1/alias";

/// Whether `/v1/{kind}` names an endpoint: `batch`, `import` or an event type
/// (by name or letter).
fn known_v1(path: &str) -> bool {
    path.strip_prefix("/v1/")
        .is_some_and(|k| k == "batch" || k == "import" || endpoint(k).is_some())
}

/// A known endpoint asked with another method: said in JSON, with `Allow`
/// (an unknown `/v1/...` path is a 404 whatever the method); `OPTIONS` is
/// answered 204 with the same `Allow`.
async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") && !known_v1(uri.path()) {
        return error(StatusCode::NOT_FOUND, "not_found", UNKNOWN_V1);
    }
    let allow = if uri.path().starts_with("/v1/") {
        "POST, OPTIONS"
    } else {
        "GET, HEAD, OPTIONS"
    };
    if method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, allow)]).into_response();
    }
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("{method} is not allowed on {}: use {allow}", uri.path()),
    );
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    r
}

async fn fallback(State(app): State<Shared>, method: Method, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") || uri.path().starts_with("/api/") {
        return error(StatusCode::NOT_FOUND, "not_found", "no such endpoint");
    }
    static_files::serve(app.config.www.as_deref(), &method, &uri).await
}

/// 403 for a request whose `Host` names neither an IP address, `localhost`
/// nor an `--allowed-host`: a page on a name its owner points at 127.0.0.1
/// (DNS rebinding) is same-origin with itself, so without this it could read
/// the views and write signals as if it were the collector's own site. An
/// HTTP/1.1 request without `Host` gets 400, as one with two does (RFC 9112;
/// HTTP/1.0 may leave it out), and an absolute-form target (`POST http://name/v1/batch`)
/// must name an allowed host too, as it overrides `Host`.
async fn host_guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let first = hosts.next().map(|h| h.to_str().unwrap_or(""));
    if hosts.next().is_some() {
        drain(&app, req.into_body()).await;
        return error(
            StatusCode::BAD_REQUEST,
            "duplicate_host",
            "the request has more than one Host header: send one",
        );
    }
    let target = req.uri().authority().map(|a| a.as_str());
    if first.is_none() && target.is_none() && req.version() == axum::http::Version::HTTP_11 {
        drain(&app, req.into_body()).await;
        return error(
            StatusCode::BAD_REQUEST,
            "missing_host",
            "an HTTP/1.1 request must name its host: send a Host header",
        );
    }
    let refused = [first, target]
        .into_iter()
        .flatten()
        .find(|h| !super::config::host_allowed(h, &app.config.allowed_hosts));
    let Some(h) = refused else {
        return next.run(req).await;
    };
    let shown: String = h.chars().take(100).collect();
    log_refused_host(&shown);
    // Read to its end first: a refusal mid-upload reaches the client as a
    // reset connection, and it would send the batch again (see read_body).
    drain(&app, req.into_body()).await;
    json_response(
        StatusCode::FORBIDDEN,
        &json!({
            "code": "host_not_allowed",
            "error": format!("this collector does not answer to the host `{shown}`: it answers to IP addresses, localhost (and *.localhost) and the names given with --allowed-host (a defence against DNS rebinding)"),
            "hint": "reach it by its IP address or localhost, or start it with --allowed-host <name> for each name it is served under",
        }),
    )
}

/// Reads a body a refusal answers before it is used, to its end (up to 8 MB,
/// within the body timeout) and drops it: see [`read_body`].
async fn drain(app: &App, body: Body) {
    let _ = tokio::time::timeout(app.config.body_timeout, read_body(body)).await;
}

/// Logs a refused host (its name, without port or case) once. Past 64 names
/// the list starts again: a scanner's names cannot silence the one a
/// misconfigured client uses for good.
fn log_refused_host(host: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
    .to_ascii_lowercase();
    let Ok(mut seen) = SEEN.lock() else { return };
    if seen.contains(&name) {
        return;
    }
    if seen.len() >= 64 {
        seen.clear();
    }
    seen.push(name);
    elogln!("buyerpath serve: refused requests for the host `{host}` (403 host_not_allowed); if clients reach this collector by that name, start it with --allowed-host <name>");
}

/// Whether a request's `Origin` is the collector's own (same-origin requests need no CORS).
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// 403 for a cross-origin request from an origin not in `--cors-origin`.
fn origin_refused(vary: HeaderValue) -> Response {
    let mut r = error(
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
        "origin not allowed (see --cors-origin)",
    );
    r.headers_mut().insert(header::VARY, vary);
    r
}

/// CORS for the configured origins only (never `*`): preflights are answered
/// here; a cross-origin request from any other origin is refused, so another
/// site cannot write into the store even with a simple (beacon) request.
async fn cors(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(|o| o.trim_end_matches('/').to_ascii_lowercase());
    // Not a CORS request (an `OPTIONS` without `Origin` is asked of the
    // route: 204 with its methods in `Allow`, or 404).
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    if same_origin(&origin, req.headers()) {
        return next.run(req).await;
    }
    let allowed = app.config.cors_origins.contains(&origin);
    let vary = HeaderValue::from_static("Origin");
    if req.method() == Method::OPTIONS {
        if !allowed {
            return origin_refused(vary);
        }
        // The route answers first: 204 with its methods in `Allow` for a path
        // that exists, 404 for one that does not (no preflight passes there).
        let mut r = next.run(req).await;
        let methods = r.headers().get(header::ALLOW).cloned();
        let h = r.headers_mut();
        h.insert(header::VARY, vary);
        let Some(methods) = methods.filter(|_| r.status() == StatusCode::NO_CONTENT) else {
            return r;
        };
        let h = r.headers_mut();
        if let Ok(o) = HeaderValue::from_str(&origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        }
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return r;
    }
    if !allowed {
        return origin_refused(vary);
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    if let Ok(o) = HeaderValue::from_str(&origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
    }
    // The browser layer reads Retry-After on 429 to back off.
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    h.insert(header::VARY, vary);
    r
}

#[cfg(test)]
mod tests {
    use super::{digests_equal, gunzip, key_class_of, key_digest, Gunzip, RowCount, Version};
    use std::io::Write as _;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_members_are_read_in_turn_and_trailing_bytes_are_named() {
        let two = [gz(b"{\"batch\":"), gz(b"[]}")].concat();
        assert_eq!(gunzip(&two, 100).unwrap(), b"{\"batch\":[]}");
        assert_eq!(gunzip(&gz(b""), 100).unwrap(), b"");
        // Zero padding, or garbage, after the last member.
        for tail in [&[0u8; 512][..], b"\n", b"garbage", &[0x1f]] {
            let body = [gz(b"{}"), tail.to_vec()].concat();
            match gunzip(&body, 100) {
                Err(Gunzip::Invalid(why)) => {
                    assert!(why.contains("data after the last member"), "{why}")
                }
                other => panic!("{tail:?}: {other:?}"),
            }
        }
        // A second member cut short is said to be that.
        let cut = [gz(b"{}"), gz(b"more")[..12].to_vec()].concat();
        match gunzip(&cut, 100) {
            Err(Gunzip::Invalid(why)) => assert!(why.starts_with("member 2: "), "{why}"),
            other => panic!("{other:?}"),
        }
        // The limit counts every member, to the byte.
        let body = [gz(&[b' '; 60]), gz(&[b' '; 40])].concat();
        assert_eq!(gunzip(&body, 100).unwrap().len(), 100);
        assert_eq!(gunzip(&body, 99), Err(Gunzip::TooLarge));
        assert_eq!(
            gunzip(b"", 100),
            Err(Gunzip::Invalid("the body is empty".into()))
        );
    }

    fn version(n: u64) -> Option<Version> {
        Some((n, (1, 1)))
    }

    #[test]
    fn health_counts_once_for_concurrent_calls_and_at_most_once_an_interval() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let rows = RowCount::new(Duration::from_millis(300));
            let ours = AtomicU64::new(0);
            let counts = Arc::new(AtomicUsize::new(0));
            let count = |n: u64| {
                let counts = counts.clone();
                move || {
                    counts.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    Some(n)
                }
            };
            // Two calls at once: one count, both answered with it.
            let (a, b) = tokio::join!(
                rows.get(version(1), &ours, count(10)),
                rows.get(version(1), &ours, count(11))
            );
            assert_eq!((a, b), (Some(10), Some(10)));
            assert_eq!(counts.load(Ordering::SeqCst), 1);
            // The same version: no count.
            assert_eq!(rows.get(version(1), &ours, count(12)).await, Some(10));
            // A new version within the interval: the last count is served.
            assert_eq!(rows.get(version(2), &ours, count(13)).await, Some(10));
            assert_eq!(rows.get(None, &ours, count(14)).await, Some(10));
            assert_eq!(counts.load(Ordering::SeqCst), 1);
            // This process's own inserts show at once, without a count.
            ours.fetch_add(3, Ordering::SeqCst);
            assert_eq!(rows.get(version(2), &ours, count(15)).await, Some(13));
            assert_eq!(counts.load(Ordering::SeqCst), 1);
            // After it: counted again, once for three calls.
            tokio::time::sleep(Duration::from_millis(350)).await;
            let (a, b, c) = tokio::join!(
                rows.get(version(2), &ours, count(20)),
                rows.get(version(2), &ours, count(21)),
                rows.get(None, &ours, count(22))
            );
            assert_eq!(counts.load(Ordering::SeqCst), 2);
            assert_eq!((a, b, c), (Some(20), Some(20), Some(20)));
            // A failed count serves the last one (with this process's rows
            // since), and is not kept; with no count yet, None (the caller's
            // own count instead).
            tokio::time::sleep(Duration::from_millis(350)).await;
            assert_eq!(rows.get(version(3), &ours, || None).await, Some(20));
            assert_eq!(rows.get(version(2), &ours, count(30)).await, Some(20));
            let fresh = RowCount::new(Duration::from_millis(300));
            assert_eq!(fresh.get(version(1), &ours, || None).await, None);
        });
    }

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn write_keys_are_classified_by_digest() {
        let trusted = keys(&["edge-secret-key", "backend-secret"]);
        let client = keys(&["demo-write-key", "site-key"]);
        let class = |k: &str| key_class_of(k, &trusted, &client);
        assert_eq!(class("edge-secret-key"), Some(true));
        assert_eq!(class("backend-secret"), Some(true), "the last trusted key");
        assert_eq!(class("demo-write-key"), Some(false));
        assert_eq!(class("site-key"), Some(false), "the last client key");
        // Prefixes, extensions, case and whitespace variants are not keys.
        for wrong in [
            "",
            "edge-secret-ke",
            "edge-secret-keyy",
            "EDGE-SECRET-KEY",
            " edge-secret-key",
            "demo-write-key\0",
            "site-key:",
        ] {
            assert_eq!(class(wrong), None, "{wrong:?}");
        }
        assert_eq!(key_class_of("demo-write-key", &[], &[]), None);
        assert_eq!(key_class_of("x", &keys(&["x"]), &[]), Some(true));
    }

    #[test]
    fn digests_are_compared_whole() {
        let a = key_digest("edge-secret-key");
        assert!(digests_equal(&a, &key_digest("edge-secret-key")));
        assert!(!digests_equal(&a, &key_digest("edge-secret-kez")));
        // A difference in the last byte only is still a difference.
        let mut b = a;
        b[31] ^= 1;
        assert!(!digests_equal(&a, &b));
        let mut c = a;
        c[0] ^= 0x80;
        assert!(!digests_equal(&a, &c));
        // Keys of any length compare as 32-byte digests.
        assert_eq!(key_digest("").len(), 32);
        assert_eq!(key_digest(&"k".repeat(10_000)).len(), 32);
    }
}
