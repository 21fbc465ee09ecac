//! Reading a Segment request body: the batch envelope, the checks every event
//! must pass (each failure with its reason), and the clock-skew correction.

use super::iso;
use super::store::Row;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

/// Segment's limit for one request.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Segment's limit for one event (a bigger event is rejected, the rest of the batch lands).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Longest `messageId`, ids, event names and account domains accepted.
const MAX_ID: usize = 256;
/// How far after its arrival an event's time may be (clocks drift; a day is
/// far more than any): later, it would move the views' "now" (their default
/// time is the latest signal's).
pub const MAX_FUTURE_MS: i64 = 24 * 3_600_000;
/// The earliest time an event may have: 2000-01-01T00:00:00Z (no web signal
/// is older; a wild `sentAt` could otherwise correct a time to before 1970).
pub const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;

/// The event types of the Segment spec.
pub const TYPES: [&str; 6] = ["track", "identify", "page", "screen", "group", "alias"];

/// An event that did not pass, with where it was and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub index: usize,
    pub message_id: Option<String>,
    pub problems: Vec<Problem>,
}

impl Rejected {
    /// Every problem in one line (`field: what is wrong; ...`).
    pub fn reason(&self) -> String {
        let all: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        all.join("; ")
    }
}

/// One thing wrong with an event: a code to branch on, the field it is
/// about (none: the event as a whole), what is wrong, and how to fix it
/// where the message alone does not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub message: String,
    pub hint: Option<&'static str>,
}

impl Problem {
    fn at(code: &'static str, field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            field: Some(field),
            message: message.into(),
            hint: None,
        }
    }

    fn whole(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            field: None,
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: &'static str) -> Problem {
        self.hint = Some(hint);
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A request body, read: its write key (if it carries one), the events that
/// passed and the ones that did not.
#[derive(Debug, Default)]
pub struct Parsed {
    pub write_key: Option<String>,
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
}

/// A request refused as a whole (400), with the write key its body carried
/// as far as the body could be read: a key in the body (sendBeacon) vouches
/// for the answer as a header key does.
#[derive(Debug)]
pub struct Refused {
    pub reason: String,
    pub write_key: Option<String>,
    /// The body was read as JSON to its end: a key it does not show is not
    /// in it (else the key may be in the part that could not be read).
    pub whole: bool,
}

/// The batch envelope, less its `writeKey` (read on the side: see [`EnvelopeReader`]).
#[derive(Default)]
struct Envelope<'a> {
    batch: Option<Vec<&'a RawValue>>,
    sent_at: Option<Value>,
    context: Option<Value>,
}

/// Reads the envelope's fields in their order, putting `writeKey` in `key`
/// as soon as it is read: a body that breaks further on (truncated, a bad
/// field) still says whose it is.
struct EnvelopeReader<'k> {
    key: &'k mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for EnvelopeReader<'_> {
    type Value = Envelope<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Envelope<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeReader<'_> {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON batch object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut env = Envelope::default();
        let (mut batch, mut sent_at, mut key, mut context) = (false, false, false, false);
        let once = |seen: &mut bool, name: &'static str| {
            if std::mem::replace(seen, true) {
                Err(de::Error::duplicate_field(name))
            } else {
                Ok(())
            }
        };
        while let Some(name) = map.next_key::<String>()? {
            match name.as_str() {
                "batch" => {
                    once(&mut batch, "batch")?;
                    env.batch = map.next_value()?;
                }
                "sentAt" => {
                    once(&mut sent_at, "sentAt")?;
                    env.sent_at = map.next_value()?;
                }
                "writeKey" => {
                    once(&mut key, "writeKey")?;
                    *self.key = key_of(Some(&map.next_value::<Value>()?));
                }
                "context" => {
                    once(&mut context, "context")?;
                    env.context = map.next_value()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

/// Reads a `/v1/batch` (or `/v1/import`) body. `Err` is why the whole request is refused (400).
pub fn batch(body: &[u8], received_at: i64) -> Result<Parsed, Refused> {
    // Only an object is a batch (serde would also read the struct from an
    // array of its fields, and say so in its own terms).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(Refused {
            reason: "the body is not a JSON batch: expected an object {\"batch\": [...], \"sentAt\": ...}"
                .into(),
            write_key: None,
            whole: is_json(body),
        });
    }
    let mut write_key = None;
    let read = read_to_end(
        body,
        EnvelopeReader {
            key: &mut write_key,
        },
    );
    let env = match read {
        Ok(env) => env,
        Err(e) => {
            return Err(Refused {
                reason: format!(
                    "the body is not a JSON batch ({{\"batch\": [...], \"sentAt\": ...}}): {e}"
                ),
                write_key,
                whole: false,
            })
        }
    };
    match read_batch(env, body, received_at) {
        Ok(parsed) => Ok(Parsed {
            write_key,
            ..parsed
        }),
        Err(reason) => Err(Refused {
            reason,
            write_key,
            whole: true,
        }),
    }
}

/// Whether a body is JSON (whatever it holds).
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(body).is_ok()
}

/// The events of a batch read as JSON.
fn read_batch(env: Envelope<'_>, body: &[u8], received_at: i64) -> Result<Parsed, String> {
    let sent_at = match &env.sent_at {
        None | Some(Value::Null) => None,
        Some(v) => Some(timestamp(v).map_err(|e| format!("sentAt: {e}"))?),
    };
    let batch_context = match env.context {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("context: must be an object".into()),
    };
    let Some(events) = env.batch else {
        return Err("batch: missing (expected {\"batch\": [events...]})".into());
    };
    let mut out = Parsed::default();
    for (index, raw) in events.into_iter().enumerate() {
        let text = raw.get();
        // The batch was read as JSON already; what fails here is what the
        // event's own reading refuses (nesting past serde_json's 128 levels,
        // a lone surrogate, a number out of range), said as it is, at its
        // line and column in the request body.
        let read = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => Err(Problem::whole(
                "invalid_event",
                format!(
                    "expected an event (a JSON object), found {}",
                    kind_of(&other)
                ),
            )),
            Err(e) => Err(Problem::whole(
                "unreadable_event",
                format!("the event cannot be read: {}", in_body(&e, body, text)),
            )),
        };
        let mut obj = match read {
            Ok(m) => m,
            Err(problem) => {
                out.rejected.push(Rejected {
                    index,
                    message_id: None,
                    problems: vec![problem],
                });
                continue;
            }
        };
        let mut modified = obj.remove("writeKey").is_some();
        if let Some(bc) = &batch_context {
            modified |= merge_context(&mut obj, bc);
        }
        match check(&obj, text.len(), None, sent_at, received_at) {
            Ok(mut row) => {
                row.payload = if modified {
                    Value::Object(obj).to_string()
                } else {
                    text.to_string()
                };
                out.rows.push(row);
            }
            Err(problems) => out.rejected.push(Rejected {
                index,
                message_id: message_id_of(&obj),
                problems,
            }),
        }
    }
    Ok(out)
}

/// A parse error of an event (`event`, a part of `body`) with its position
/// in the request body: serde_json counts from the start of the event's own text.
fn in_body(e: &serde_json::Error, body: &[u8], event: &str) -> String {
    let full = e.to_string();
    let own = format!(" at line {} column {}", e.line(), e.column());
    let Some(message) = full.strip_suffix(&own) else {
        return full;
    };
    // The event's text is borrowed from the body (a `RawValue`): its offset
    // is the distance between the two.
    let start = (event.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    let end = start.checked_add(event.len());
    let Some(before) = body
        .get(..start)
        .filter(|_| end.and_then(|end| body.get(start..end)) == Some(event.as_bytes()))
    else {
        return full;
    };
    let lines_before = before.iter().filter(|b| **b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let (line, column) = if e.line() <= 1 {
        (lines_before + 1, start - line_start + e.column())
    } else {
        (lines_before + e.line(), e.column())
    };
    format!("{message} at line {line} column {column}")
}

/// Reads a single-event body (`/v1/track`, `/v1/identify`...); the endpoint implies the type.
pub fn single(body: &[u8], kind: &'static str, received_at: i64) -> Result<Parsed, Refused> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        let json = serde_json::from_slice::<IgnoredAny>(body);
        return Err(Refused {
            whole: json.is_ok(),
            reason: match json {
                Ok(_) => "the body must be one JSON object (an event)".into(),
                Err(e) => format!("the body is not JSON: {e}"),
            },
            write_key: None,
        });
    }
    let mut write_key = None;
    let read = read_to_end(
        body,
        EventReader {
            key: &mut write_key,
        },
    );
    match read {
        Ok(obj) => Ok(Parsed {
            write_key,
            ..check_single(obj, body.len(), kind, received_at)
        }),
        Err(e) => Err(Refused {
            reason: format!("the body is not JSON: {e}"),
            write_key,
            whole: false,
        }),
    }
}

/// An event object, its `writeKey` taken out into `key` as soon as it is read.
struct EventReader<'k> {
    key: &'k mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for EventReader<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Map<String, Value>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventReader<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one JSON object (an event)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map<String, Value>, A::Error> {
        let mut obj = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            if name == "writeKey" {
                *self.key = key_of(Some(&value));
            } else {
                obj.insert(name, value);
            }
        }
        Ok(obj)
    }
}

/// Checks the event of a single-event body (`size`: the body's).
fn check_single(
    mut obj: Map<String, Value>,
    size: usize,
    kind: &'static str,
    received_at: i64,
) -> Parsed {
    // The body is the event itself: its size is the request's.
    obj.entry("type").or_insert_with(|| Value::from(kind));
    let mut out = Parsed::default();
    match check(&obj, size, Some(kind), None, received_at) {
        Ok(mut row) => {
            row.payload = Value::Object(obj).to_string();
            out.rows.push(row);
        }
        Err(problems) => out.rejected.push(Rejected {
            index: 0,
            message_id: message_id_of(&obj),
            problems,
        }),
    }
    out
}

fn key_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn message_id_of(obj: &Map<String, Value>) -> Option<String> {
    obj.get("messageId")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(MAX_ID).collect())
}

/// Fills the event's `context` with the batch-level keys it does not have (Segment's rule).
fn merge_context(obj: &mut Map<String, Value>, batch: &Map<String, Value>) -> bool {
    match obj.get_mut("context") {
        None | Some(Value::Null) => {
            obj.insert("context".into(), Value::Object(batch.clone()));
            true
        }
        Some(Value::Object(ctx)) => {
            let mut changed = false;
            for (k, v) in batch {
                if !ctx.contains_key(k) {
                    ctx.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
            changed
        }
        // Left as it is: the check reports that context must be an object.
        Some(_) => false,
    }
}

fn timestamp(v: &Value) -> Result<i64, String> {
    let Some(s) = v.as_str() else {
        return Err(format!(
            "expected an ISO 8601 date-time string, found {}",
            kind_of(v)
        ));
    };
    iso::parse_ms(s).ok_or_else(|| {
        format!(
            "`{}` is not an ISO 8601 date-time with a time zone (such as 2026-11-02T09:00:00.000Z)",
            s.chars().take(64).collect::<String>()
        )
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks one event and computes its timestamps. Every problem is reported.
/// The returned row's `payload` is left empty for the caller to fill.
pub fn check(
    obj: &Map<String, Value>,
    size: usize,
    endpoint: Option<&'static str>,
    batch_sent_at: Option<i64>,
    received_at: i64,
) -> Result<Row, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    if size > MAX_EVENT_BYTES {
        problems.push(
            Problem::whole(
                "event_too_large",
                format!("the event is {size} bytes; the limit is {MAX_EVENT_BYTES} (32 KB)"),
            )
            .hint("send large values by reference (an id, a URL), not in the event"),
        );
    }
    let kind = match obj.get("type") {
        None => {
            problems.push(Problem::at(
                "missing",
                "type",
                format!("missing (one of {})", TYPES.join(", ")),
            ));
            None
        }
        Some(v) => match v.as_str().and_then(|t| TYPES.iter().find(|x| **x == t)) {
            Some(t) => Some(*t),
            None => {
                problems.push(Problem::at(
                    "invalid_value",
                    "type",
                    format!("{} is not one of {}", short(v), TYPES.join(", ")),
                ));
                None
            }
        },
    };
    if let (Some(k), Some(e)) = (kind, endpoint) {
        if k != e {
            problems.push(
                Problem::at(
                    "wrong_endpoint",
                    "type",
                    format!("`{k}` sent to the /v1/{e} endpoint"),
                )
                .hint("send it to /v1/batch, or to the endpoint named after its type"),
            );
        }
    }
    let text = |field: &'static str,
                required: bool,
                problems: &mut Vec<Problem>|
     -> Option<String> {
        match obj.get(field) {
            None | Some(Value::Null) => {
                if required {
                    problems.push(Problem::at("missing", field, "missing"));
                }
                None
            }
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                let (at, c) = s
                    .char_indices()
                    .find(|(_, c)| c.is_control())
                    .unwrap_or((0, '\0'));
                problems.push(
                    Problem::at(
                        "invalid_value",
                        field,
                        format!("contains a control character (U+{:04X} at byte {at})", c as u32),
                    )
                    .hint("ids and event names are shown in the dashboard and logs: send printable text"),
                );
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                // A string, but no id: the value is wrong, not its type.
                let what = if s.is_empty() {
                    "empty"
                } else {
                    "only whitespace"
                };
                problems.push(Problem::at(
                    "invalid_value",
                    field,
                    format!("is {what}: expected a non-empty string"),
                ));
                None
            }
            Some(Value::String(s)) if s.len() <= MAX_ID => Some(s.clone()),
            Some(Value::String(s)) if s.len() > MAX_ID => {
                problems.push(Problem::at(
                    "too_long",
                    field,
                    format!("longer than {MAX_ID} bytes"),
                ));
                None
            }
            Some(v) => {
                problems.push(Problem::at(
                    "invalid_type",
                    field,
                    format!("expected a non-empty string, found {}", short(v)),
                ));
                None
            }
        }
    };
    let message_id = text("messageId", true, &mut problems);
    let anonymous_id = text("anonymousId", false, &mut problems);
    let user_id = text("userId", false, &mut problems);
    // An id given as null, "" or blanks is no id: without another, the event
    // has no visitor (its own field's problem, if any, is reported too).
    let given = |field: &str| {
        obj.get(field)
            .is_some_and(|v| v.as_str().map_or(!v.is_null(), |s| !s.trim().is_empty()))
    };
    if anonymous_id.is_none() && user_id.is_none() && !given("anonymousId") && !given("userId") {
        problems.push(
            Problem::whole("missing", "anonymousId or userId: one is required")
                .hint("the browser layer sends anonymousId; a backend may send userId"),
        );
    }
    let event = text("event", kind == Some("track"), &mut problems);
    if kind == Some("group") {
        text("groupId", true, &mut problems);
    }
    if kind == Some("alias") {
        text("previousId", true, &mut problems);
    }
    for field in ["properties", "context", "traits", "integrations"] {
        match obj.get(field) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(v) => problems.push(Problem::at(
                "invalid_type",
                field,
                format!("must be an object, found {}", kind_of(v)),
            )),
        }
    }
    let time = |field: &'static str, problems: &mut Vec<Problem>| -> Option<i64> {
        match obj.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => match timestamp(v) {
                Ok(ms) => Some(ms),
                Err(e) => {
                    problems.push(Problem::at("invalid_timestamp", field, e));
                    None
                }
            },
        }
    };
    let props = obj.get("properties").and_then(Value::as_object);
    let account = match props
        .and_then(|p| p.get("account"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
    {
        Some(a) if a.len() > MAX_ID => {
            problems.push(Problem::at(
                "too_long",
                "properties.account",
                format!("longer than {MAX_ID} bytes"),
            ));
            None
        }
        a => a.filter(|a| !a.is_empty()),
    };
    let original = time("originalTimestamp", &mut problems);
    let client_timestamp = time("timestamp", &mut problems);
    let sent_at = time("sentAt", &mut problems).or(batch_sent_at);
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(kind), Some(message_id)) = (kind, message_id) else {
        // Unreachable: both were checked above.
        return Err(vec![Problem::whole("invalid_event", "invalid event")]);
    };
    let (timestamp, field, from) = correction(received_at, sent_at, original, client_timestamp);
    if far_ahead(received_at, timestamp) || timestamp < MIN_TIMESTAMP_MS {
        let message = if timestamp < MIN_TIMESTAMP_MS {
            format!("the event's time ({from}) is before 2000-01-01T00:00:00Z")
        } else {
            format!(
                "the event's time ({from}, {}) is more than a day after the server received it ({}): {}",
                iso::format(timestamp),
                iso::format(received_at),
                if sent_at.is_some() {
                    "fix the client's clock"
                } else {
                    "fix the client's clock, or send sentAt (the time it was sent, on the same clock) to have it corrected"
                }
            )
        };
        return Err(vec![Problem::at("timestamp_out_of_range", field, message)]);
    }
    let playbook = obj.get("context").and_then(|c| c.get("playbook"));
    Ok(Row {
        message_id,
        kind,
        event,
        anonymous_id,
        user_id,
        account,
        playbook_id: playbook
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string),
        playbook_revision: playbook
            .and_then(|p| p.get("revision"))
            .and_then(Value::as_i64),
        received_at,
        sent_at,
        original_timestamp: original.or(client_timestamp),
        timestamp,
        payload: String::new(),
        trusted: false,
    })
}

/// [`correction`]'s time alone (the tests' name for it).
#[cfg(test)]
pub fn corrected(
    received_at: i64,
    sent_at: Option<i64>,
    original: Option<i64>,
    client_timestamp: Option<i64>,
) -> i64 {
    correction(received_at, sent_at, original, client_timestamp).0
}

/// The event's time on the server's clock. A `timestamp` the client set
/// itself is kept as it is (that is how libraries import history: an event
/// exported with its `timestamp`, `originalTimestamp` and `sentAt` keeps its
/// time when replayed), unless it is more than a day ahead of the server and
/// `sentAt` came with it (analytics.js sends `timestamp` and `sentAt` from a
/// clock that may be wrong): then it is corrected as an `originalTimestamp`.
/// With the client's `sentAt` and `originalTimestamp` (both on the client's
/// clock) the client's offset cancels out: `receivedAt − (sentAt −
/// originalTimestamp)`, never later than `receivedAt`; otherwise
/// `originalTimestamp`, else `receivedAt`.
/// Also the field the time came from and how it was read (for the error
/// that refuses it).
fn correction(
    received_at: i64,
    sent_at: Option<i64>,
    original: Option<i64>,
    client_timestamp: Option<i64>,
) -> (i64, &'static str, &'static str) {
    let skew = |s: i64, t: i64| {
        received_at
            .saturating_sub(s.saturating_sub(t))
            .min(received_at)
    };
    match (sent_at, original, client_timestamp) {
        (Some(s), _, Some(t)) if far_ahead(received_at, t) => {
            (skew(s, t), "timestamp", "timestamp corrected by sentAt")
        }
        (_, _, Some(t)) => (t, "timestamp", "timestamp"),
        (Some(s), Some(o), None) => (
            skew(s, o),
            "originalTimestamp",
            "originalTimestamp corrected by sentAt",
        ),
        (None, Some(o), None) => (o, "originalTimestamp", "originalTimestamp"),
        (_, None, None) => (received_at, "originalTimestamp", "originalTimestamp"),
    }
}

/// Whether a time is more than a day after the server received it.
fn far_ahead(received_at: i64, t: i64) -> bool {
    t > received_at.saturating_add(MAX_FUTURE_MS)
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{}`", s.chars().take(40).collect::<String>()),
        other => kind_of(other).to_string(),
    }
}

/// `body` read whole by `seed` (a reader that notes the body's write key
/// as it passes it, so that the key is known even when a later part fails).
fn read_to_end<'de, S: serde::de::DeserializeSeed<'de>>(
    body: &'de [u8],
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_793_610_000_000;

    #[test]
    fn skew_is_corrected() {
        // The client's clock is one hour behind; the event happened 10 s before sending.
        let sent = NOW - 3_600_000;
        assert_eq!(
            corrected(NOW, Some(sent), Some(sent - 10_000), None),
            NOW - 10_000
        );
        assert_eq!(corrected(NOW, None, Some(5), None), 5);
        assert_eq!(corrected(NOW, Some(5), None, Some(7)), 7);
        assert_eq!(corrected(NOW, None, None, None), NOW);
        // An event "after" its own sending time cannot be later than its arrival.
        assert_eq!(corrected(NOW, Some(0), Some(10), None), NOW);
    }

    #[test]
    fn every_problem_is_reported() {
        let body = br#"{"sentAt":"2026-11-02T09:00:00Z","batch":[
            {"type":"track","event":"A","messageId":"m1","anonymousId":"v"},
            {"type":"track","messageId":"m2","properties":[1],"originalTimestamp":"now"},
            {"type":"shout","messageId":"m3","userId":"u"},
            7
        ]}"#;
        let p = batch(body, NOW).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert!(p.rows[0].payload.contains("\"m1\""));
        let r = &p.rejected;
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].index, 1);
        assert_eq!(r[0].message_id.as_deref(), Some("m2"));
        for part in [
            "anonymousId or userId",
            "event: missing",
            "properties",
            "originalTimestamp",
        ] {
            assert!(r[0].reason().contains(part), "{}", r[0].reason());
        }
        assert!(r[1].reason().contains("`shout`"), "{}", r[1].reason());
        assert_eq!(
            r[2].reason(),
            "expected an event (a JSON object), found a number"
        );
    }

    #[test]
    fn control_characters_in_ids_and_names_are_refused() {
        let body = br#"{"batch":[
            {"type":"track","event":"Page\u0000Viewed","messageId":"m1","anonymousId":"v"},
            {"type":"track","event":"Page Viewed","messageId":"m2","anonymousId":"v\u001b[31m"},
            {"type":"track","event":"Seite \u00e4 Viewed","messageId":"m3","anonymousId":"v"}
        ]}"#;
        let p = batch(body, NOW).unwrap();
        assert_eq!(p.rows.len(), 1, "the printable (non-ASCII) name is kept");
        assert!(p.rows[0].payload.contains("\"m3\""));
        let r = &p.rejected;
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].problems[0].code, "invalid_value");
        assert!(
            r[0].reason().contains("U+0000 at byte 4"),
            "{}",
            r[0].reason()
        );
        assert!(
            r[1].reason()
                .contains("anonymousId: contains a control character (U+001B at byte 1)"),
            "{}",
            r[1].reason()
        );
    }

    #[test]
    fn an_event_serde_json_cannot_read_says_why_and_an_array_is_no_batch() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let body = format!(
            r#"{{"batch":[{{"type":"track","event":"A","messageId":"d","anonymousId":"v","properties":{{"x":{deep}}}}}]}}"#
        );
        // The batch's RawValue read skips the event; the event's own read stops at 128 levels.
        match batch(body.as_bytes(), NOW) {
            Ok(p) => {
                assert_eq!(p.rows.len(), 0);
                let reason = &p.rejected[0].reason();
                assert!(
                    reason.starts_with("the event cannot be read: recursion limit"),
                    "{reason}"
                );
            }
            Err(e) => assert!(e.reason.contains("recursion limit"), "{}", e.reason),
        }
        let e = batch(br#"[{"batch":[]}]"#, NOW).err().unwrap().reason;
        assert!(e.contains("expected an object"), "{e}");
        assert!(!e.contains("Envelope"), "{e}");
    }

    /// The codes of an event's problems, with their fields.
    fn codes(r: &Rejected) -> Vec<(&'static str, Option<&'static str>)> {
        r.problems.iter().map(|p| (p.code, p.field)).collect()
    }

    #[test]
    fn null_or_blank_ids_are_no_visitor() {
        let body = br#"{"batch":[
            {"type":"track","event":"E","messageId":"n1","anonymousId":null,"userId":null},
            {"type":"track","event":"E","messageId":"n2","anonymousId":null},
            {"type":"track","event":"E","messageId":"n3","anonymousId":"  ","userId":""},
            {"type":"track","event":"E","messageId":"n4","anonymousId":null,"userId":"u"},
            {"type":"track","event":"E","messageId":"n5","userId":7}
        ]}"#;
        let p = batch(body, NOW).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].user_id.as_deref(), Some("u"));
        let r = &p.rejected;
        assert_eq!(r.len(), 4);
        let required = ("missing", None);
        assert_eq!(codes(&r[0]), vec![required]);
        assert_eq!(r[0].reason(), "anonymousId or userId: one is required");
        assert_eq!(codes(&r[1]), vec![required]);
        assert_eq!(
            codes(&r[2]),
            vec![
                ("invalid_value", Some("anonymousId")),
                ("invalid_value", Some("userId")),
                required
            ]
        );
        // An id of the wrong type is that id's problem only.
        assert_eq!(codes(&r[3]), vec![("invalid_type", Some("userId"))]);
    }

    #[test]
    fn a_blank_string_id_is_an_invalid_value_not_an_invalid_type() {
        let body = br#"{"batch":[
            {"type":"track","event":"E","messageId":"   ","anonymousId":"v"},
            {"type":"track","event":"","messageId":"m2","anonymousId":"v"},
            {"type":"track","event":"E","messageId":5,"anonymousId":"v"}
        ]}"#;
        let p = batch(body, NOW).unwrap();
        let r = &p.rejected;
        assert_eq!(codes(&r[0]), vec![("invalid_value", Some("messageId"))]);
        assert_eq!(
            r[0].reason(),
            "messageId: is only whitespace: expected a non-empty string"
        );
        assert_eq!(codes(&r[1]), vec![("invalid_value", Some("event"))]);
        assert_eq!(
            r[1].reason(),
            "event: is empty: expected a non-empty string"
        );
        assert_eq!(codes(&r[2]), vec![("invalid_type", Some("messageId"))]);
    }

    #[test]
    fn an_account_domain_over_256_bytes_is_refused() {
        let long = format!("{}.com", "a".repeat(253));
        let ok = format!("{}.com", "a".repeat(252));
        let body = json!({"batch": [
            {"type":"track","event":"E","messageId":"a1","anonymousId":"v","properties":{"account": long}},
            {"type":"track","event":"E","messageId":"a2","anonymousId":"v","properties":{"account": format!("  {}  ", ok.to_uppercase())}},
        ]})
        .to_string();
        let p = batch(body.as_bytes(), NOW).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].account.as_deref(), Some(ok.as_str()));
        assert_eq!(p.rejected.len(), 1);
        assert_eq!(p.rejected[0].index, 0);
        assert_eq!(
            codes(&p.rejected[0]),
            vec![("too_long", Some("properties.account"))]
        );
    }

    #[test]
    fn a_body_refused_as_a_whole_still_says_its_write_key() {
        let refused = |body: &[u8]| batch(body, NOW).err().unwrap();
        for body in [
            &br#"{"writeKey":"k","sentAt":"yesterday","batch":[]}"#[..],
            br#"{"writeKey":"k","context":[],"batch":[]}"#,
            br#"{"writeKey":"k"}"#,
            br#"{"batch":[],"writeKey":"k","sentAt":5}"#,
        ] {
            let r = refused(body);
            assert_eq!(r.write_key.as_deref(), Some("k"), "{}", r.reason);
            assert!(r.whole, "{}", r.reason);
        }
        // Broken after the key: the key is known, the rest cannot be read.
        let r = refused(br#"{"writeKey":"k","batch":["#);
        assert_eq!(r.write_key.as_deref(), Some("k"));
        assert!(!r.whole);
        assert!(r.reason.contains("EOF"), "{}", r.reason);
        // Broken before it: no key, and no telling.
        let r = refused(br#"{"batch":[,"writeKey":"k"}"#);
        assert_eq!((r.write_key, r.whole), (None, false));
        // Whole, without a key.
        let r = refused(br#"{"sentAt":"yesterday","batch":[]}"#);
        assert_eq!((r.write_key, r.whole), (None, true));
        let r = refused(br#"[{"writeKey":"k"}]"#);
        assert_eq!((r.write_key, r.whole), (None, true));
        assert!(!refused(b"hello").whole);
        // A single-event body, the same.
        let r = single(br#"{"writeKey":"k","messageId":"#, "track", NOW)
            .err()
            .unwrap();
        assert_eq!((r.write_key.as_deref(), r.whole), (Some("k"), false));
        // And a duplicated envelope field is still refused, as serde's derive did.
        let r = refused(br#"{"batch":[],"batch":[]}"#);
        assert!(r.reason.contains("duplicate field `batch`"), "{}", r.reason);
    }

    #[test]
    fn an_unreadable_event_is_placed_in_the_request_body() {
        // serde_json's own position for the whole body is the reference.
        let event = r#"{"type":"track","event":"E","messageId":"s1","anonymousId":"v","properties":{"x":"\ud800"}}"#;
        for body in [
            format!(r#"{{"batch":[{event}]}}"#),
            format!("{{\n  \"sentAt\": null,\n  \"batch\": [\n    {{\"type\":\"page\",\"messageId\":\"p\",\"anonymousId\":\"v\"}},\n    {event}\n  ]\n}}"),
            format!("{{\"batch\":[{}]}}", event.replace(",\"properties\"", ",\n\"properties\"")),
        ] {
            let whole = serde_json::from_str::<Value>(&body).err().unwrap();
            let at = format!(" at line {} column {}", whole.line(), whole.column());
            let p = batch(body.as_bytes(), NOW).unwrap();
            let r = p.rejected.last().unwrap();
            assert_eq!(r.problems[0].code, "unreadable_event");
            assert!(r.reason().ends_with(&at), "{} / {at}\n{body}", r.reason());
            assert!(r.reason().contains("hex escape"), "{}", r.reason());
        }
    }

    #[test]
    fn a_timestamp_the_client_set_is_kept_beside_original_timestamp_and_sent_at() {
        let year_ago = NOW - 365 * 86_400_000;
        // An exported event replayed through /v1/import: all its times are history.
        assert_eq!(
            corrected(
                NOW,
                Some(year_ago + 5_000),
                Some(year_ago - 1_000),
                Some(year_ago)
            ),
            year_ago
        );
        // Far ahead, with sentAt: corrected as an originalTimestamp.
        let ahead = NOW + 2 * 86_400_000;
        assert_eq!(
            corrected(NOW, Some(ahead), Some(ahead - 9_000), Some(ahead - 5_000)),
            NOW - 5_000
        );
        let body = json!({"sentAt": iso::format(year_ago + 5_000), "batch": [
            {"type":"track","event":"E","messageId":"h1","anonymousId":"v",
             "timestamp": iso::format(year_ago), "originalTimestamp": iso::format(year_ago - 1_000)},
        ]})
        .to_string();
        let p = batch(body.as_bytes(), NOW).unwrap();
        assert_eq!(p.rows[0].timestamp, year_ago);
        assert_eq!(p.rows[0].original_timestamp, Some(year_ago - 1_000));
    }

    #[test]
    fn single_endpoints_imply_the_type_and_drop_the_key() {
        let p = single(
            br#"{"writeKey":"k","event":"E","messageId":"m","anonymousId":"a"}"#,
            "track",
            NOW,
        )
        .unwrap();
        assert_eq!(p.write_key.as_deref(), Some("k"));
        assert_eq!(p.rows[0].kind, "track");
        assert!(!p.rows[0].payload.contains("writeKey"));
        let p = single(
            br#"{"type":"identify","messageId":"m","userId":"u"}"#,
            "track",
            NOW,
        )
        .unwrap();
        assert!(p.rejected[0].reason().contains("/v1/track"));
    }
}
