//! Reading a Segment request body: the batch envelope, the checks every event
//! must pass (each failure with its reason), and the clock-skew correction.

use super::iso;
use super::store::Row;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

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

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "sentAt")]
    sent_at: Option<Value>,
    #[serde(rename = "writeKey")]
    write_key: Option<Value>,
    context: Option<Value>,
}

/// Reads a `/v1/batch` (or `/v1/import`) body. `Err` is why the whole request is refused (400).
pub fn batch(body: &[u8], received_at: i64) -> Result<Parsed, String> {
    // Only an object is a batch (serde would also read the struct from an
    // array of its fields, and say so in its own terms).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(
            "the body is not a JSON batch: expected an object {\"batch\": [...], \"sentAt\": ...}"
                .into(),
        );
    }
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        format!("the body is not a JSON batch ({{\"batch\": [...], \"sentAt\": ...}}): {e}")
    })?;
    let write_key = key_of(env.write_key.as_ref());
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
    let mut out = Parsed {
        write_key,
        ..Parsed::default()
    };
    for (index, raw) in events.into_iter().enumerate() {
        let text = raw.get();
        // The batch was read as JSON already; what fails here is what the
        // event's own reading refuses (nesting past serde_json's 128 levels,
        // a lone surrogate, a number out of range), said as it is.
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
                format!("the event cannot be read: {e}"),
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

/// Reads a single-event body (`/v1/track`, `/v1/identify`...); the endpoint implies the type.
pub fn single(body: &[u8], kind: &'static str, received_at: i64) -> Result<Parsed, String> {
    let mut obj = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("the body must be one JSON object (an event)".into()),
        Err(e) => return Err(format!("the body is not JSON: {e}")),
    };
    let write_key = key_of(obj.remove("writeKey").as_ref());
    // The body is the event itself: its size is the request's.
    let size = body.len();
    obj.entry("type").or_insert_with(|| Value::from(kind));
    let mut out = Parsed {
        write_key,
        ..Parsed::default()
    };
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
    Ok(out)
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
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_ID => Some(s.clone()),
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
    if anonymous_id.is_none()
        && user_id.is_none()
        && !obj.contains_key("anonymousId")
        && !obj.contains_key("userId")
    {
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
    let timestamp = corrected(received_at, sent_at, original, client_timestamp);
    if timestamp > received_at.saturating_add(MAX_FUTURE_MS) || timestamp < MIN_TIMESTAMP_MS {
        let (field, from) = match (sent_at, original, client_timestamp) {
            (Some(_), Some(_), _) => ("originalTimestamp", "originalTimestamp corrected by sentAt"),
            (_, _, Some(_)) => ("timestamp", "timestamp"),
            _ => ("originalTimestamp", "originalTimestamp"),
        };
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
    let props = obj.get("properties").and_then(Value::as_object);
    let account = props
        .and_then(|p| p.get("account"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s.len() <= MAX_ID);
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

/// The event's time on the server's clock. With the client's `sentAt` and
/// `originalTimestamp` (both on the client's clock) the client's offset
/// cancels out: `receivedAt − (sentAt − originalTimestamp)`, never later than
/// `receivedAt`. A `timestamp` the client set itself is kept as it is (that
/// is how libraries import history); otherwise `originalTimestamp`, else
/// `receivedAt`.
pub fn corrected(
    received_at: i64,
    sent_at: Option<i64>,
    original: Option<i64>,
    client_timestamp: Option<i64>,
) -> i64 {
    let skew = |s: i64, t: i64| {
        received_at
            .saturating_sub(s.saturating_sub(t))
            .min(received_at)
    };
    match (sent_at, original, client_timestamp) {
        (Some(s), Some(o), _) => skew(s, o),
        // A set `timestamp` on a clock far ahead (analytics.js sends
        // `timestamp` and `sentAt`): corrected as an `originalTimestamp`.
        (Some(s), None, Some(t)) if t > received_at.saturating_add(MAX_FUTURE_MS) => skew(s, t),
        (_, _, Some(t)) => t,
        (_, Some(o), None) => o,
        (_, None, None) => received_at,
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{}`", s.chars().take(40).collect::<String>()),
        other => kind_of(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(e) => assert!(e.contains("recursion limit"), "{e}"),
        }
        let e = batch(br#"[{"batch":[]}]"#, NOW).err().unwrap();
        assert!(e.contains("expected an object"), "{e}");
        assert!(!e.contains("Envelope"), "{e}");
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
