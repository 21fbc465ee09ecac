//! Reading a Segment request body: the batch envelope, the checks every event
//! must pass (each failure with its reason), and the clock-skew correction.

use super::iso;
use super::store::Row;
use buyerpath::json::compact_len;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// Segment's limit for one request.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Segment's limit for one event (a bigger event is rejected, the rest of the batch lands).
/// It applies to the event as stored: with a batch-level `context` merged in.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Most bytes one request may store (its events with the batch-level
/// `context` merged into each): 4 × the request limit. The events alone are
/// at most the body, so this leaves 1.5 MB for the context's copies (a 3 KB
/// context on 500 events) where a client sends one; without it, one 500 KB
/// request of 2,300 tiny events and a 300 KB context stored 690 MB.
pub const MAX_STORED_BYTES: usize = 4 * MAX_BATCH_BYTES;
/// Rejected events listed one by one in an answer (the rest are counted): a
/// 500 KB body of `{}` is 170,000 rejected events, whose reasons made a
/// 93 MB answer (1.4 GB to build).
pub const MAX_LISTED_REJECTIONS: usize = 100;
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
    /// A field (`anonymousId`), or a path into the event
    /// (`properties.slots[0].id`, `["a key"]`).
    pub field: Option<Cow<'static, str>>,
    pub message: String,
    pub hint: Option<&'static str>,
}

impl Problem {
    fn at(code: &'static str, field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            field: Some(Cow::Borrowed(field)),
            message: message.into(),
            hint: None,
        }
    }

    /// A problem at a path found while reading (not a fixed field).
    fn at_path(code: &'static str, path: String, message: impl Into<String>) -> Problem {
        Problem {
            code,
            field: Some(Cow::Owned(path)),
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
        match &self.field {
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
    /// The first [`MAX_LISTED_REJECTIONS`] rejected events, in order.
    pub rejected: Vec<Rejected>,
    /// Every rejected event, listed or not.
    pub rejected_count: usize,
}

impl Parsed {
    /// Counts a rejected event, and keeps it for the answer while the list
    /// is short (the rest are only counted: the answer stays small, and so
    /// does what building it holds in memory).
    fn reject(&mut self, r: Rejected) {
        self.rejected_count += 1;
        if self.rejected.len() < MAX_LISTED_REJECTIONS {
            self.rejected.push(r);
        }
    }
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
    /// Refused for what it would store (413), not for what it says (400).
    pub too_large: bool,
    /// Where in the body (`$`, `$.sentAt`...), and what to send instead.
    pub path: &'static str,
    pub hint: &'static str,
}

/// The hint for a body that is not the JSON an endpoint reads: a gzip body
/// sent without its `Content-Encoding` says so.
fn body_hint(body: &[u8], shape: &'static str) -> &'static str {
    if body.starts_with(&[0x1f, 0x8b]) {
        "the body is gzip-compressed: send it with `Content-Encoding: gzip`"
    } else {
        shape
    }
}

/// What a batch body is.
const BATCH_SHAPE: &str =
    "send one JSON object: {\"batch\": [events...], \"sentAt\": \"<ISO 8601>\"}";
/// What a single-event body is.
const EVENT_SHAPE: &str =
    "send one event as a JSON object: {\"event\": \"...\", \"anonymousId\": \"...\", ...}";

/// A body without the UTF-8 byte order mark some writers put first (it is
/// not JSON; RFC 8259 lets a reader ignore it).
fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
}

/// Why a batch read as JSON is refused as a whole.
enum BatchError {
    /// Its envelope is wrong (400): why, where, what to send.
    Invalid(String, &'static str, &'static str),
    /// It would store more than [`MAX_STORED_BYTES`] (413).
    TooLarge(String),
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
    let body = without_bom(body);
    // Only an object is a batch (serde would also read the struct from an
    // array of its fields, and say so in its own terms).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(Refused {
            reason: "the body is not a JSON batch: expected an object {\"batch\": [...], \"sentAt\": ...}"
                .into(),
            write_key: None,
            whole: is_json(body),
            too_large: false,
            path: "$",
            hint: body_hint(body, BATCH_SHAPE),
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
                too_large: false,
                path: "$",
                hint: body_hint(body, BATCH_SHAPE),
            })
        }
    };
    match read_batch(env, body, received_at) {
        Ok(parsed) => Ok(Parsed {
            write_key,
            ..parsed
        }),
        Err(e) => {
            let (reason, too_large, path, hint) = match e {
                BatchError::Invalid(reason, path, hint) => (reason, false, path, hint),
                BatchError::TooLarge(reason) => (
                    reason,
                    true,
                    "$.batch",
                    "send fewer events per request, or a smaller batch-level context (it is copied into each event)",
                ),
            };
            Err(Refused {
                reason,
                write_key,
                whole: true,
                too_large,
                path,
                hint,
            })
        }
    }
}

/// Whether a body is JSON (whatever it holds).
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(body).is_ok()
}

/// The events of a batch read as JSON.
fn read_batch(env: Envelope<'_>, body: &[u8], received_at: i64) -> Result<Parsed, BatchError> {
    let sent_at = match &env.sent_at {
        None | Some(Value::Null) => None,
        Some(v) => Some(timestamp(v).map_err(|e| {
            BatchError::Invalid(
                format!("sentAt: {e}"),
                "$.sentAt",
                "an ISO 8601 date-time with a zone (\"2026-11-23T10:00:00.000Z\"), or leave it out",
            )
        })?),
    };
    let batch_context = match env.context {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(BatchContext::new(m)),
        Some(other) => {
            return Err(BatchError::Invalid(
                format!("context: must be an object, found {}", kind_of(&other)),
                "$.context",
                "a JSON object (copied into each event's context), or leave it out",
            ))
        }
    };
    let Some(events) = env.batch else {
        return Err(BatchError::Invalid(
            "batch: missing or null (expected {\"batch\": [events...]})".into(),
            "$.batch",
            BATCH_SHAPE,
        ));
    };
    let mut out = Parsed::default();
    let mut stored = 0usize;
    for (index, raw) in events.into_iter().enumerate() {
        match read_event(
            raw.get(),
            body,
            batch_context.as_ref(),
            sent_at,
            received_at,
        ) {
            Ok(row) => {
                stored = stored.saturating_add(row.payload.len());
                if stored > MAX_STORED_BYTES {
                    return Err(BatchError::TooLarge(format!(
                        "the batch would store more than {MAX_STORED_BYTES} bytes (4 × the 500 KiB request limit): \
                         its batch-level `context` is copied into each of its events; send smaller batches, or the context in each event"
                    )));
                }
                out.rows.push(row);
            }
            Err((message_id, problems)) => out.reject(Rejected {
                index,
                message_id,
                problems,
            }),
        }
    }
    Ok(out)
}

/// A batch-level `context`, with what merging it adds to an event's stored
/// JSON, measured once for the batch: an event it would take past
/// [`MAX_EVENT_BYTES`] is refused without a copy of it being made.
struct BatchContext {
    map: Map<String, Value>,
    /// The compact length of `map` (`{...}`).
    len: usize,
    /// `"key":value` (no comma) for each key of `map`.
    entries: std::collections::HashMap<String, usize>,
    /// The sum of `entries`.
    total: usize,
}

/// `"context":` as stored.
const CONTEXT_KEY_LEN: usize = "\"context\":".len();

impl BatchContext {
    fn new(map: Map<String, Value>) -> BatchContext {
        let entries: std::collections::HashMap<String, usize> = map
            .iter()
            .map(|(k, v)| {
                let len = compact_len(k)
                    .saturating_add(1)
                    .saturating_add(compact_len(v));
                (k.clone(), len)
            })
            .collect();
        let total = entries.values().fold(0usize, |a, n| a.saturating_add(*n));
        BatchContext {
            len: compact_len(&map),
            map,
            entries,
            total,
        }
    }

    /// Exactly the length of `event`'s compact JSON once [`merge_context`]
    /// merged this context into it, without merging. Its cost is the
    /// event's size (its own context's keys are looked up), not the batch
    /// context's: a context of 25,000 keys costs no more per event than one of one.
    /// `None`: the merge adds nothing (the event is stored as it is, and
    /// measured as it is stored).
    fn merged_len(&self, event: &Map<String, Value>) -> Option<usize> {
        let own = || compact_len(event);
        match event.get("context") {
            // `"context":{...}`, and a comma unless it is the only key.
            None => {
                let comma = usize::from(!event.is_empty());
                Some(
                    own()
                        .saturating_add(CONTEXT_KEY_LEN)
                        .saturating_add(self.len)
                        .saturating_add(comma),
                )
            }
            // `null` (its key and comma counted already) becomes the object.
            Some(Value::Null) => Some(own().saturating_sub("null".len()).saturating_add(self.len)),
            Some(Value::Object(ctx)) => {
                // The batch's keys the event lacks: all of them, less the
                // ones it has (the event's keys win in the merge).
                let (mut bytes, mut keys) = (self.total, self.entries.len());
                for k in ctx.keys() {
                    if let Some(len) = self.entries.get(k) {
                        bytes = bytes.saturating_sub(*len);
                        keys = keys.saturating_sub(1);
                    }
                }
                if keys == 0 {
                    return None;
                }
                // A comma before each entry added after the event's own
                // ones; between them only, in an empty `{}`.
                let commas = if ctx.is_empty() {
                    keys.saturating_sub(1)
                } else {
                    keys
                };
                Some(own().saturating_add(bytes).saturating_add(commas))
            }
            // Left as it is (the check refuses it).
            Some(_) => None,
        }
    }
}

/// One event of a batch (`text`, a part of `body`), read, merged with the
/// batch's context and checked: its row, or its messageId and problems.
fn read_event(
    text: &str,
    body: &[u8],
    batch_context: Option<&BatchContext>,
    sent_at: Option<i64>,
    received_at: i64,
) -> Result<Row, (Option<String>, Vec<Problem>)> {
    let mut duplicate = None;
    // The batch was read as JSON already; what fails here is what the
    // event's own reading refuses (nesting past serde_json's 128 levels,
    // a lone surrogate, a number out of range), said as it is, at its
    // line and column in the request body.
    let mut obj = match read_strict(text, &mut duplicate) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            return Err((
                None,
                vec![Problem::whole(
                    "invalid_event",
                    format!(
                        "expected an event (a JSON object), found {}",
                        kind_of(&other)
                    ),
                )],
            ))
        }
        Err(e) => {
            return Err((
                None,
                vec![Problem::whole(
                    "unreadable_event",
                    format!("the event cannot be read: {}", in_body(&e, body, text)),
                )],
            ))
        }
    };
    let mut modified = obj.remove("writeKey").is_some();
    // The limit is on what is stored: with the batch's context merged in.
    // An event the merge would take past it is measured, not merged.
    let merged_size = batch_context.and_then(|bc| bc.merged_len(&obj));
    let checked = match merged_size {
        // Refused for its size (and anything else wrong with it).
        Some(size) if size > MAX_EVENT_BYTES => Err(check(&obj, size, None, sent_at, received_at)
            .err()
            .unwrap_or_else(|| vec![too_large(size)])),
        _ => {
            if let Some(bc) = batch_context {
                modified |= merge_context(&mut obj, &bc.map);
            }
            let payload = if modified {
                serde_json::to_string(&obj).map_err(|e| {
                    vec![Problem::whole(
                        "unreadable_event",
                        format!("the event cannot be written back as JSON: {e}"),
                    )]
                })
            } else {
                Ok(text.to_string())
            };
            payload.and_then(|payload| {
                check(&obj, payload.len(), None, sent_at, received_at).map(|row| (row, payload))
            })
        }
    };
    let problems = match (checked, duplicate) {
        (Ok((row, payload)), None) => return Ok(Row { payload, ..row }),
        (Ok(_), Some(path)) => vec![duplicate_key(&path)],
        (Err(problems), None) => problems,
        (Err(problems), Some(path)) => std::iter::once(duplicate_key(&path))
            .chain(problems)
            .collect(),
    };
    Err((message_id_of(&obj), problems))
}

/// A step of a path into an event.
#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// An event's text read as a JSON value, as serde_json reads one (the last
/// copy of a repeated key kept), noting in `duplicate` the path of the first
/// key found twice in one object.
fn read_strict(text: &str, duplicate: &mut Option<Vec<Step>>) -> Result<Value, serde_json::Error> {
    read_to_end(text.as_bytes(), Strict { duplicate })
}

/// The problem of a key found twice: validation and the indexed columns
/// read the last copy (serde_json), SQLite's `json_extract` on the stored
/// payload the first, so an id checked as printable could be stored beside
/// one that is not.
fn duplicate_key(path: &[Step]) -> Problem {
    let key = match path.first() {
        Some(Step::Key(k)) => shortened(k),
        _ => Cow::Borrowed(""),
    };
    Problem::at_path(
        "duplicate_key",
        path_text(path),
        format!("the key `{key}` appears more than once in one object"),
    )
    .hint("send each key once: JSON readers disagree on which copy counts (this collector reads the last, SQLite's json_extract the first)")
}

/// A path (innermost step first, as collected) as `a.b[0]["c d"]`.
fn path_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps.iter().rev() {
        match step {
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) if is_plain_key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&shortened(k));
            }
            Step::Key(k) => {
                out.push('[');
                out.push_str(&Value::String(shortened(k).into_owned()).to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Longest key shown in a path or a message, in characters.
const KEY_SHOWN: usize = 64;

/// A key as shown: its first [`KEY_SHOWN`] characters and `…` if it is longer.
fn shortened(k: &str) -> Cow<'_, str> {
    match k.char_indices().nth(KEY_SHOWN) {
        None => Cow::Borrowed(k),
        Some((end, _)) => Cow::Owned(format!("{}…", k.get(..end).unwrap_or(k))),
    }
}

/// Whether a key can follow a `.` in a path (letters, digits, `_`, `$`; not a digit first).
fn is_plain_key(k: &str) -> bool {
    k.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Reads any JSON value into a `Value`, noting the first repeated key.
struct Strict<'d> {
    duplicate: &'d mut Option<Vec<Step>>,
}

impl Strict<'_> {
    /// The same reader for a nested value.
    fn nested(&mut self) -> Strict<'_> {
        Strict {
            duplicate: &mut *self.duplicate,
        }
    }

    /// A duplicate first found inside the value just read (`before`: none
    /// was known before it) is inside this step.
    fn inside(&mut self, before: bool, step: impl FnOnce() -> Step) {
        if before {
            if let Some(path) = self.duplicate.as_mut() {
                path.push(step());
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let before = self.duplicate.is_none();
            let Some(v) = seq.next_element_seed(self.nested())? else {
                break;
            };
            let index = out.len();
            self.inside(before, || Step::Index(index));
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let before = self.duplicate.is_none();
            let v = map.next_value_seed(self.nested())?;
            self.inside(before, || Step::Key(key.clone()));
            if out.contains_key(&key) && self.duplicate.is_none() {
                *self.duplicate = Some(vec![Step::Key(key.clone())]);
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
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
    let body = without_bom(body);
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
            too_large: false,
            path: "$",
            hint: body_hint(body, EVENT_SHAPE),
        });
    }
    let mut write_key = None;
    let mut duplicate = None;
    let read = read_to_end(
        body,
        EventReader {
            key: &mut write_key,
            duplicate: &mut duplicate,
        },
    );
    match read {
        Ok(obj) => Ok(Parsed {
            write_key,
            ..check_single(obj, body.len(), kind, received_at, duplicate)
        }),
        Err(e) => Err(Refused {
            reason: format!("the body is not JSON: {e}"),
            write_key,
            whole: false,
            too_large: false,
            path: "$",
            hint: body_hint(body, EVENT_SHAPE),
        }),
    }
}

/// An event object, its `writeKey` taken out into `key` as soon as it is
/// read, the path of its first repeated key (at any depth) in `duplicate`.
struct EventReader<'k> {
    key: &'k mut Option<String>,
    duplicate: &'k mut Option<Vec<Step>>,
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
        let mut key_seen = false;
        while let Some(name) = map.next_key::<String>()? {
            let mut strict = Strict {
                duplicate: &mut *self.duplicate,
            };
            let before = strict.duplicate.is_none();
            let value = map.next_value_seed(strict.nested())?;
            strict.inside(before, || Step::Key(name.clone()));
            let repeated = if name == "writeKey" {
                std::mem::replace(&mut key_seen, true)
            } else {
                obj.contains_key(&name)
            };
            if repeated && self.duplicate.is_none() {
                *self.duplicate = Some(vec![Step::Key(name.clone())]);
            }
            if name == "writeKey" {
                *self.key = key_of(Some(&value));
            } else {
                obj.insert(name, value);
            }
        }
        Ok(obj)
    }
}

/// Checks the event of a single-event body (`size`: the body's; the event
/// is held to the longer of it and the event as stored).
fn check_single(
    mut obj: Map<String, Value>,
    size: usize,
    kind: &'static str,
    received_at: i64,
    duplicate: Option<Vec<Step>>,
) -> Parsed {
    obj.entry("type").or_insert_with(|| Value::from(kind));
    let mut out = Parsed::default();
    // The limit is on the event as stored: written again (its `type` added,
    // its `writeKey` out, numbers as serde_json writes them: `1e15` is
    // `1000000000000000.0`), which can be much longer than the body.
    let payload = Value::Object(obj.clone()).to_string();
    let checked = check(&obj, payload.len().max(size), Some(kind), None, received_at);
    let problems = match (checked, duplicate) {
        (Ok(mut row), None) => {
            row.payload = payload;
            out.rows.push(row);
            return out;
        }
        (Ok(_), Some(path)) => vec![duplicate_key(&path)],
        (Err(problems), None) => problems,
        (Err(problems), Some(path)) => std::iter::once(duplicate_key(&path))
            .chain(problems)
            .collect(),
    };
    out.reject(Rejected {
        index: 0,
        message_id: message_id_of(&obj),
        problems,
    });
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

/// An event over [`MAX_EVENT_BYTES`] as it would be stored (`size`).
fn too_large(size: usize) -> Problem {
    Problem::whole(
        "event_too_large",
        format!("the event is {size} bytes as stored; the limit is {MAX_EVENT_BYTES} (32 KiB)"),
    )
    .hint("send large values by reference (an id, a URL), not in the event; a batch-level context is copied into each event and counts in its size")
}

/// The id of an event sent without a `messageId` (Segment's HTTP API makes
/// one up too): `bp-` and 32 hex digits of the SHA-256 of the event as sent
/// but its `sentAt` (a retry sends it anew), so a retried copy gets the same
/// id and is stored once. An event with no time of its own cannot be told
/// from its retry anyway, so it gets an id of its own: its arrival (the time,
/// and the count of such events this process has read) is hashed too, so
/// that two clicks alike, in one batch or in one millisecond, are not taken
/// for one.
fn derived_message_id(obj: &Map<String, Value>, timed: bool, received_at: i64) -> String {
    use sha2::{Digest as _, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static UNTIMED: AtomicU64 = AtomicU64::new(0);
    let mut event = obj.clone();
    event.remove("sentAt");
    let mut h = Sha256::new();
    h.update(Value::Object(event).to_string().as_bytes());
    if !timed {
        h.update(received_at.to_be_bytes());
        h.update(std::process::id().to_be_bytes());
        h.update(UNTIMED.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("bp-{hex}")
}

/// The account an event names, as the views group by it, lowercased: a
/// host name or a web address is the host, as the engine's signals name it
/// (`www.Initech.com.` and `https://initech.com/about` are `initech.com`),
/// so one company is one account whoever sends it. Anything else is only
/// trimmed and lowercased: a CRM id, and what a host name alone does not
/// say (`acme.com/eu`, `team.one#2`, an e-mail: one person's workspace is
/// not their mail provider's account).
fn account_key(given: &str) -> String {
    // Lowercased as the engine lowercases a domain (`ÄCME.de` is `äcme.de`).
    let lower = given.trim().to_lowercase();
    let host = match lower.split_once("://") {
        Some(("http" | "https", rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            // A port is not part of the host; a user is not a company.
            let host = match authority.rsplit_once(':') {
                Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => authority,
            };
            (!host.contains('@')).then_some(host)
        }
        Some(_) => None,
        // A host name alone, or with the slash of its root (`acme.com/`).
        None => Some(lower.strip_suffix('/').unwrap_or(&lower)),
    };
    host.map(|h| h.trim_end_matches('.'))
        .map(|h| h.strip_prefix("www.").unwrap_or(h))
        .filter(|h| buyerpath::lists::is_host_name(h))
        .map_or_else(|| given.trim().to_ascii_lowercase(), str::to_string)
}

/// What is wrong with an account taken from `at` (`properties.account`,
/// `context.groupId`): as for ids, at most `MAX_ID` bytes of printable text.
fn account_problem(at: &'static str, account: &str) -> Option<Problem> {
    if account.len() > MAX_ID {
        return Some(Problem::at(
            "too_long",
            at,
            format!("longer than {MAX_ID} bytes"),
        ));
    }
    control_character(at, account)
        .map(|p| p.hint("accounts are shown in the dashboard and logs: send printable text"))
}

/// `invalid_value` at `field` when `s` holds a control character (where).
fn control_character(field: &'static str, s: &str) -> Option<Problem> {
    let (i, c) = s.char_indices().find(|(_, c)| c.is_control())?;
    Some(Problem::at(
        "invalid_value",
        field,
        format!(
            "contains a control character (U+{:04X} at byte {i})",
            c as u32
        ),
    ))
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
        problems.push(too_large(size));
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
                if let Some(p) = control_character(field, s) {
                    problems.push(p.hint(
                        "ids and event names are shown in the dashboard and logs: send printable text",
                    ));
                }
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
    let message_id = text("messageId", false, &mut problems);
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
    let group_id = if kind == Some("group") {
        text("groupId", true, &mut problems)
    } else {
        None
    };
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
    // The account: a group call's own `groupId` (what the call says, checked
    // above), else ours in `properties.account`, else Segment's B2B place for
    // it, `context.groupId`.
    let props = obj.get("properties").and_then(Value::as_object);
    let account = match group_id {
        Some(g) => Some(account_key(&g)),
        None => [
            ("properties.account", props.and_then(|p| p.get("account"))),
            (
                "context.groupId",
                obj.get("context").and_then(|c| c.get("groupId")),
            ),
        ]
        .into_iter()
        .find_map(|(at, v)| {
            let a = v?.as_str()?.trim();
            (!a.is_empty()).then_some((at, a))
        })
        .and_then(|(at, a)| match account_problem(at, a) {
            Some(p) => {
                problems.push(p);
                None
            }
            None => Some(account_key(a)),
        }),
    };
    let original = time("originalTimestamp", &mut problems);
    let client_timestamp = time("timestamp", &mut problems);
    let sent_at = time("sentAt", &mut problems).or(batch_sent_at);
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(kind) = kind else {
        // Unreachable: checked above.
        return Err(vec![Problem::whole("invalid_event", "invalid event")]);
    };
    let message_id = message_id.unwrap_or_else(|| {
        derived_message_id(
            obj,
            original.is_some() || client_timestamp.is_some(),
            received_at,
        )
    });
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
/// with a `sentAt` of the last day (either way) is corrected as Segment
/// does, as an `originalTimestamp` (analytics-node and analytics.js send
/// `timestamp` and `sentAt` from a clock that may be hours off). With an
/// older `sentAt` (an exported event replayed with its times) or none, it is
/// kept as it is, unless it is more than a day ahead of the server and
/// `sentAt` came with it: then it is corrected too.
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
        (Some(s), _, Some(t)) if far_ahead(received_at, t) || live(received_at, s) => {
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

/// Whether a `sentAt` is within a day of the server's clock either way: sent
/// just now by a client whose clock may be some hours off, not an exported
/// event's old `sentAt` replayed with it.
fn live(received_at: i64, sent_at: i64) -> bool {
    received_at.abs_diff(sent_at) <= MAX_FUTURE_MS.unsigned_abs()
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
        // A live send from a clock an hour fast (analytics-node: `timestamp`
        // and `sentAt`, 2 s apart), and one two hours slow.
        for off in [3_600_000, -7_200_000] {
            let sent = NOW + off;
            assert_eq!(
                corrected(NOW, Some(sent), None, Some(sent - 2_000)),
                NOW - 2_000
            );
        }
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
    fn codes(r: &Rejected) -> Vec<(&'static str, Option<&str>)> {
        r.problems
            .iter()
            .map(|p| (p.code, p.field.as_deref()))
            .collect()
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
    fn a_repeated_key_is_refused_at_its_path_and_the_batch_lands() {
        let body = br#"{"batch":[
            {"type":"track","event":"E","messageId":"d0","anonymousId":"v\u001b[31mEVIL","anonymousId":"ok"},
            {"type":"track","event":"E","messageId":"d1","anonymousId":"v","properties":{"x":[0,{"a":1,"a":2}]},"context":{"k":1,"k":1}},
            {"type":"track","event":"E","messageId":"d2","anonymousId":"v","properties":{"0":1,"0":2}},
            {"type":"track","event":"E","messageId":"d3","anonymousId":"v","properties":{"a":{"b":1},"c":{"b":1}}}
        ]}"#;
        let p = batch(body, NOW).unwrap();
        assert_eq!(
            p.rows.len(),
            1,
            "keys repeated only across objects are fine"
        );
        assert_eq!(p.rows[0].message_id, "d3");
        let r = &p.rejected;
        assert_eq!(codes(&r[0]), vec![("duplicate_key", Some("anonymousId"))]);
        assert_eq!(r[0].message_id.as_deref(), Some("d0"));
        // The first repeat found is the one reported.
        assert_eq!(
            codes(&r[1]),
            vec![("duplicate_key", Some("properties.x[1].a"))]
        );
        assert_eq!(
            codes(&r[2]),
            vec![("duplicate_key", Some("properties[\"0\"]"))]
        );
        // Other problems are reported beside it.
        let body =
            br#"{"batch":[{"type":"track","type":"track","messageId":"d4","anonymousId":"v"}]}"#;
        let p = batch(body, NOW).unwrap();
        assert_eq!(
            codes(&p.rejected[0]),
            vec![("duplicate_key", Some("type")), ("missing", Some("event"))]
        );
    }

    /// An event without a `messageId` (Segment's HTTP API docs show none) is
    /// stored under an id made from it: the same again for a retried copy,
    /// another for an event alike without a time of its own.
    #[test]
    fn a_missing_message_id_is_made_from_the_event() {
        let timed = br#"{"batch":[{"type":"track","event":"E","anonymousId":"v","timestamp":"2026-11-01T10:00:00Z"}]}"#;
        let a = batch(timed, NOW).unwrap();
        let retried = br#"{"batch":[{"type":"track","event":"E","anonymousId":"v","timestamp":"2026-11-01T10:00:00Z","sentAt":"2026-11-01T10:00:09Z"}]}"#;
        let b = batch(retried, NOW + 5_000).unwrap();
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        let id = &a.rows[0].message_id;
        assert!(id.starts_with("bp-") && id.len() == 35, "{id}");
        assert_eq!(id, &b.rows[0].message_id, "a retried copy is one event");
        let untimed = br#"{"batch":[{"type":"track","event":"E","anonymousId":"v"}]}"#;
        let c = batch(untimed, NOW).unwrap();
        let d = batch(untimed, NOW + 1).unwrap();
        assert_ne!(c.rows[0].message_id, d.rows[0].message_id);
        assert_ne!(c.rows[0].message_id, *id);
        // Alike and untimed in one batch, or in one millisecond: each its own.
        let again = batch(untimed, NOW).unwrap();
        assert_ne!(c.rows[0].message_id, again.rows[0].message_id);
        let twice = br#"{"batch":[{"type":"track","event":"E","anonymousId":"v"},{"type":"track","event":"E","anonymousId":"v"}]}"#;
        let t = batch(twice, NOW).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_ne!(t.rows[0].message_id, t.rows[1].message_id);
        // Given, it is kept.
        let e = batch(
            br#"{"batch":[{"type":"track","event":"E","anonymousId":"v","messageId":"m-1"}]}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(e.rows[0].message_id, "m-1");
    }

    /// The account of Segment's B2B events: `context.groupId`, and a group
    /// call's `groupId`; ours (`properties.account`) first.
    #[test]
    fn the_account_is_read_from_segments_group_ids() {
        let body = br#"{"batch":[
            {"type":"track","event":"Trial Started","messageId":"g1","anonymousId":"v","context":{"groupId":"Initech.com"}},
            {"type":"group","groupId":"initech.com","messageId":"g2","anonymousId":"v"},
            {"type":"track","event":"E","messageId":"g3","anonymousId":"v","properties":{"account":"acme.com"},"context":{"groupId":"other.com"}},
            {"type":"track","event":"E","messageId":"g4","anonymousId":"v","groupId":"not-a-group-call.com"}
        ]}"#;
        let p = batch(body, NOW).unwrap();
        let accounts: Vec<Option<&str>> = p.rows.iter().map(|r| r.account.as_deref()).collect();
        assert_eq!(
            accounts,
            vec![
                Some("initech.com"),
                Some("initech.com"),
                Some("acme.com"),
                None
            ]
        );
    }

    #[test]
    fn the_batch_context_counts_in_each_events_size() {
        let event = |id: &str, pad: usize| json!({"type":"track","event":"E","messageId":id,"anonymousId":"v","properties":{"p":"y".repeat(pad)}});
        let ctx = "x".repeat(20_000);
        let body = json!({"context": {"pad": ctx}, "batch": [
            event("c0", 10), event("c1", 13_000), event("c2", 12_000),
        ]})
        .to_string();
        let p = batch(body.as_bytes(), NOW).unwrap();
        let kept: Vec<&str> = p.rows.iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(kept, ["c0", "c2"]);
        assert!(p.rows.iter().all(|r| r.payload.len() <= MAX_EVENT_BYTES));
        assert!(
            p.rows[1].payload.len() > 32_000,
            "{}",
            p.rows[1].payload.len()
        );
        assert_eq!(codes(&p.rejected[0]), vec![("event_too_large", None)]);
        assert_eq!(p.rejected[0].index, 1);
    }

    /// The event merged with `bc`, as stored.
    fn merged_len(obj: &Map<String, Value>, bc: &BatchContext) -> usize {
        let mut merged = obj.clone();
        merge_context(&mut merged, &bc.map);
        Value::Object(merged).to_string().len()
    }

    #[test]
    fn the_growth_before_merging_is_exactly_what_merging_adds() {
        let contexts = [
            json!({"a": 1, "b": {"c": "d"}, "k\"q": "\u{00e9}\n\u{1}"}),
            json!({"a": 1}),
            json!({}),
        ];
        let events = [
            json!({"type": "track", "messageId": "m"}),
            json!({}),
            json!({"type": "track", "context": null}),
            json!({"context": null}),
            json!({"type": "track", "context": {}}),
            json!({"context": {}}),
            json!({"type": "track", "context": {"a": 0}}),
            json!({"type": "track", "context": {"z": [1, 2]}}),
            json!({"type": "track", "context": {"a": 0, "b": 0, "k\"q": 0}}),
            json!({"type": "track", "context": {"a": 0, "b": 0, "k\"q": 0, "z": 1}}),
            json!({"type": "track", "context": "a string"}),
        ];
        for ctx in &contexts {
            let bc = BatchContext::new(ctx.as_object().unwrap().clone());
            for e in &events {
                let obj = e.as_object().unwrap();
                let exact = merged_len(obj, &bc);
                match bc.merged_len(obj) {
                    Some(n) => assert_eq!(n, exact, "{e} with {ctx}"),
                    // Nothing to add: the event is stored as it is.
                    None => assert_eq!(compact_len(obj), exact, "{e} with {ctx}"),
                }
            }
        }
    }

    #[test]
    fn an_event_exactly_at_the_limit_as_stored_is_kept_and_one_byte_more_is_not() {
        let ctx = json!({"library": {"name": "hand"}, "pad": "x".repeat(1_000)});
        let bc = BatchContext::new(ctx.as_object().unwrap().clone());
        let own: [Option<Value>; 4] = [
            None,
            Some(Value::Null),
            Some(json!({})),
            Some(json!({"page": {"path": "/p"}, "library": {"name": "own"}})),
        ];
        for (n, own) in own.into_iter().enumerate() {
            let event = |pad: usize| {
                let mut e = json!({"type": "track", "event": "E", "messageId": format!("b{n}-{pad}"),
                    "anonymousId": "v", "properties": {"p": "y".repeat(pad)}});
                if let Some(c) = &own {
                    e["context"] = c.clone();
                }
                e
            };
            let at = |pad: usize| merged_len(event(pad).as_object().unwrap(), &bc);
            let pad = 20_000 + MAX_EVENT_BYTES - at(20_000);
            assert_eq!(at(pad), MAX_EVENT_BYTES, "{own:?}");
            let body = json!({"context": ctx, "batch": [event(pad), event(pad + 1)]}).to_string();
            let p = batch(body.as_bytes(), NOW).unwrap();
            assert_eq!(p.rows.len(), 1, "{own:?}: {:?}", p.rejected);
            assert_eq!(p.rows[0].payload.len(), MAX_EVENT_BYTES, "{own:?}");
            assert_eq!(p.rejected.len(), 1, "{own:?}");
            assert_eq!(p.rejected[0].index, 1);
            assert_eq!(codes(&p.rejected[0]), vec![("event_too_large", None)]);
            assert!(
                p.rejected[0]
                    .reason()
                    .contains(&format!("is {} bytes", MAX_EVENT_BYTES + 1)),
                "{own:?}: {}",
                p.rejected[0].reason()
            );
        }
    }

    #[test]
    fn an_event_the_batch_context_adds_nothing_to_is_measured_as_sent() {
        // Its own context has every batch key: stored as sent, `1E2` and
        // all (5 bytes once written back as `100.0`, 3 as sent).
        let head = r#"{"type":"track","event":"E","messageId":"as-sent","anonymousId":"v","context":{"a":0},"properties":{"n":["#;
        let numbers = vec!["1E2"; 2_000].join(",");
        let tail = r#"],"p":""}}"#;
        let pad = MAX_EVENT_BYTES - head.len() - numbers.len() - tail.len();
        let event = format!(r#"{head}{numbers}],"p":"{}"}}}}"#, "y".repeat(pad));
        assert_eq!(event.len(), MAX_EVENT_BYTES);
        let body = format!(r#"{{"context":{{"a":1}},"batch":[{event}]}}"#);
        let p = batch(body.as_bytes(), NOW).unwrap();
        assert_eq!(p.rejected, vec![]);
        assert_eq!(p.rows[0].payload, event);
    }

    /// `n` distinct short keys.
    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:x}")).collect()
    }

    /// A body of `events` × `{"context":{}}` and a batch context of `keys` keys.
    fn wide_context_body(keys_in_context: usize, events: usize) -> String {
        let ctx: Map<String, Value> = keys(keys_in_context)
            .into_iter()
            .map(|k| (k, json!(0)))
            .collect();
        let batch = vec![json!({"context": {}}); events];
        json!({"context": ctx, "batch": batch}).to_string()
    }

    #[test]
    fn a_wide_batch_context_costs_each_event_nothing_more() {
        // 25,000 keys of context and 16,000 events in one body under 500 KB:
        // each event's growth looked at the batch context's keys (2.8 s).
        let wide = wide_context_body(25_000, 16_000);
        let narrow = wide_context_body(1, 16_000);
        assert!(wide.len() <= MAX_BATCH_BYTES, "{}", wide.len());
        let time = |body: &str| {
            (0..2)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let p = batch(body.as_bytes(), NOW).unwrap();
                    assert_eq!(p.rejected_count, 16_000);
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let (wide_t, narrow_t) = (time(&wide), time(&narrow));
        // Release-agnostic: the wide context costs about what the narrow one
        // does (reading its keys once), not 16,000 walks of them.
        assert!(
            wide_t < narrow_t * 3 + std::time::Duration::from_millis(300),
            "{wide_t:?} with 25,000 keys vs {narrow_t:?} with one"
        );
        // Every event is refused for its size as stored, and measured exactly.
        let p = batch(wide.as_bytes(), NOW).unwrap();
        let bc = BatchContext::new(
            serde_json::from_str::<Value>(&wide).unwrap()["context"]
                .as_object()
                .unwrap()
                .clone(),
        );
        let size = merged_len(json!({"context": {}}).as_object().unwrap(), &bc);
        assert!(
            p.rejected[0].reason().contains(&format!("is {size} bytes")),
            "{}",
            p.rejected[0].reason()
        );
    }

    #[test]
    fn a_long_repeated_key_is_shortened_in_the_path_and_the_message() {
        let long = "k".repeat(200_000);
        let body = format!(
            r#"{{"batch":[{{"type":"track","event":"E","messageId":"l1","anonymousId":"v","properties":{{"{long}":1,"{long}":2}}}},
            {{"type":"track","event":"E","messageId":"l2","anonymousId":"v","properties":{{"{long} x":{{"a":1,"a":2}}}}}}]}}"#
        );
        let p = batch(body.as_bytes(), NOW).unwrap();
        let shown = format!("{}…", "k".repeat(64));
        let r = &p.rejected[0].problems[0];
        assert_eq!(
            r.field.as_deref(),
            Some(format!("properties.{shown}").as_str())
        );
        assert_eq!(
            r.message,
            format!("the key `{shown}` appears more than once in one object")
        );
        let r = &p.rejected[1].problems[0];
        assert_eq!(
            r.field.as_deref(),
            Some(format!("properties[\"{shown}\"].a").as_str())
        );
        assert!(
            p.rejected[0].reason().len() < 300,
            "{}",
            p.rejected[0].reason().len()
        );
        // A key of 64 characters is shown whole.
        assert_eq!(shortened(&"k".repeat(64)), "k".repeat(64));
        assert_eq!(shortened(&"é".repeat(65)), format!("{}…", "é".repeat(64)));
    }

    #[test]
    fn only_the_first_rejections_are_kept_and_all_are_counted() {
        let body = format!("{{\"batch\":[{}{{}}]}}", "{},".repeat(499));
        let p = batch(body.as_bytes(), NOW).unwrap();
        assert_eq!(p.rejected_count, 500);
        assert_eq!(p.rejected.len(), MAX_LISTED_REJECTIONS);
        assert_eq!(
            p.rejected[MAX_LISTED_REJECTIONS - 1].index,
            MAX_LISTED_REJECTIONS - 1
        );
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

    /// An account given as a URL, with `www.` or in capitals is the domain
    /// the engine's signals name (one company, one account); a CRM id is
    /// only trimmed and lowercased.
    #[test]
    fn accounts_are_grouped_by_their_domain() {
        let p = batch(
            br#"{"batch":[
                {"type":"track","event":"E","messageId":"1","anonymousId":"a","properties":{"account":"initech.com"}},
                {"type":"group","messageId":"2","anonymousId":"a","groupId":"www.Initech.com"},
                {"type":"track","event":"E","messageId":"3","anonymousId":"a","context":{"groupId":"https://initech.com/about"}},
                {"type":"track","event":"E","messageId":"4","anonymousId":"a","properties":{"account":" 0015g00000ABCde "}},
                {"type":"track","event":"E","messageId":"5","anonymousId":"a","properties":{"account":"alice@gmail.com"}},
                {"type":"track","event":"E","messageId":"6","anonymousId":"a","properties":{"account":"Acme.com/EU"}},
                {"type":"track","event":"E","messageId":"7","anonymousId":"a","properties":{"account":"team.one#2"}},
                {"type":"track","event":"E","messageId":"8","anonymousId":"a","properties":{"account":"https://bob@acme.com/"}},
                {"type":"track","event":"E","messageId":"9","anonymousId":"a","properties":{"account":"HTTPS://Acme.com:443/x?y"}},
                {"type":"track","event":"E","messageId":"10","anonymousId":"a","properties":{"account":"\u00c4CME.de/"}}]}"#,
            NOW,
        )
        .unwrap();
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        let accounts: Vec<_> = p.rows.iter().map(|r| r.account.as_deref()).collect();
        assert_eq!(
            accounts,
            [
                Some("initech.com"),
                Some("initech.com"),
                Some("initech.com"),
                Some("0015g00000abcde"),
                Some("alice@gmail.com"),
                Some("acme.com/eu"),
                Some("team.one#2"),
                Some("https://bob@acme.com/"),
                Some("acme.com"),
                Some("äcme.de")
            ]
        );
        // A control character is refused as sent, not stripped with a path.
        let p = batch(
            b"{\"batch\":[{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"1\",\"anonymousId\":\"a\",\"properties\":{\"account\":\"https://acme.com/\\u0007x\"}}]}",
            NOW,
        )
        .unwrap();
        assert_eq!(p.rejected.len(), 1, "{:?}", p.rows);
    }

    /// A body refused as a whole says where and what to send; a byte order
    /// mark before the JSON is read past.
    #[test]
    fn a_refused_body_gives_its_path_and_a_hint_and_a_bom_is_read_past() {
        let refused = |body: &[u8]| batch(body, NOW).err().unwrap();
        let r = refused(br#"{"batch":[],"sentAt":"yesterday"}"#);
        assert_eq!(
            (r.path, r.reason.starts_with("sentAt:")),
            ("$.sentAt", true)
        );
        assert!(r.hint.contains("ISO 8601"), "{}", r.hint);
        let r = refused(br#"{"batch":[],"context":[1]}"#);
        assert_eq!(r.path, "$.context");
        assert!(r.reason.contains("found an array"), "{}", r.reason);
        let r = refused(br#"{"batch":null}"#);
        assert_eq!(r.path, "$.batch");
        let r = refused(&[0x1f, 0x8b, 8, 0, 0, 0]);
        assert_eq!(r.path, "$");
        assert!(r.hint.contains("Content-Encoding: gzip"), "{}", r.hint);
        let r = single(&[0x1f, 0x8b, 8, 0], "track", NOW).err().unwrap();
        assert!(r.hint.contains("Content-Encoding: gzip"), "{}", r.hint);
        let bom = b"\xEF\xBB\xBF{\"batch\":[{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"m\",\"anonymousId\":\"a\"}]}";
        let p = batch(bom, NOW).unwrap();
        assert_eq!(p.rows.len(), 1, "{:?}", p.rejected);
        let p = single(
            &bom[..3]
                .iter()
                .chain(br#"{"event":"E","messageId":"m","anonymousId":"a"}"#)
                .copied()
                .collect::<Vec<u8>>(),
            "track",
            NOW,
        )
        .unwrap();
        assert_eq!(p.rows.len(), 1, "{:?}", p.rejected);
    }

    /// The 32 KiB limit holds for the event as stored: a single-event body
    /// under it whose numbers serde_json writes longer (`1e15` as
    /// `1000000000000000.0`) is refused, not stored at four times the limit.
    #[test]
    fn a_single_event_is_measured_as_stored() {
        let numbers = vec!["1e15"; 6_000].join(",");
        let body = format!(
            r#"{{"event":"E","messageId":"m","anonymousId":"a","properties":{{"n":[{numbers}]}}}}"#
        );
        assert!(body.len() < MAX_EVENT_BYTES);
        let p = single(body.as_bytes(), "track", NOW).unwrap();
        assert!(
            p.rows.is_empty(),
            "stored {} bytes",
            p.rows[0].payload.len()
        );
        assert_eq!(p.rejected[0].problems[0].code, "event_too_large");
        // A body under the limit as stored is stored whole.
        let small = vec!["1e15"; 100].join(",");
        let body = format!(
            r#"{{"event":"E","messageId":"m","anonymousId":"a","properties":{{"n":[{small}]}}}}"#
        );
        let p = single(body.as_bytes(), "track", NOW).unwrap();
        assert_eq!(p.rows.len(), 1);
    }
}
