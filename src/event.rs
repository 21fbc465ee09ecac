//! Events the host reports (page views, clicks, forms...), checked strictly:
//! every field is bounded, and free text never enters the visitor state.

use crate::error::{Error, Issue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest event accepted, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 8 * 1024;
/// Latest timestamp accepted: the last millisecond of the year 9999, the
/// last one ISO 8601 writes with four year digits (a signal's
/// `originalTimestamp`; JavaScript writes later years as `+010000-…`).
pub const MAX_TS: u64 = 253_402_300_799_999;

/// Kinds of event the engine understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub enum EventKind {
    /// A page (content) was viewed.
    PageView = 1,
    /// A call to action was clicked.
    CtaClick = 2,
    /// A form was submitted.
    FormSubmit = 3,
    /// A file was downloaded.
    Download = 4,
    /// A video was played.
    VideoPlay = 5,
    /// A site search.
    Search = 6,
    /// The chat was opened.
    ChatOpen = 7,
    /// A trial was started.
    TrialStart = 8,
    /// A named custom event.
    Custom = 9,
}

/// Every kind, in code order.
pub const EVENT_KINDS: [EventKind; 9] = [
    EventKind::PageView,
    EventKind::CtaClick,
    EventKind::FormSubmit,
    EventKind::Download,
    EventKind::VideoPlay,
    EventKind::Search,
    EventKind::ChatOpen,
    EventKind::TrialStart,
    EventKind::Custom,
];

impl EventKind {
    /// The wire name, e.g. `page_view`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::CtaClick => "cta_click",
            EventKind::FormSubmit => "form_submit",
            EventKind::Download => "download",
            EventKind::VideoPlay => "video_play",
            EventKind::Search => "search",
            EventKind::ChatOpen => "chat_open",
            EventKind::TrialStart => "trial_start",
            EventKind::Custom => "custom",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<EventKind> {
        EVENT_KINDS.iter().copied().find(|k| k.as_str() == s)
    }
    /// The one-byte code used in the state encoding.
    pub fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of `code`.
    pub fn from_code(c: u8) -> Option<EventKind> {
        EVENT_KINDS.iter().copied().find(|k| k.code() == c)
    }
    /// The names of all kinds, for error messages.
    pub fn names() -> Vec<&'static str> {
        EVENT_KINDS.iter().map(|k| k.as_str()).collect()
    }
}

/// An event as the host reports it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Event type, e.g. `page_view`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened, milliseconds since the epoch.
    pub ts: u64,
    /// Catalogue id of the content concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// URL path (not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Seconds spent on the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwell_seconds: Option<f64>,
    /// Kind of call to action clicked (`demo`, `trial`, `contact_sales`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    /// Form id for `form_submit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// Form answers; only BANT answers are read, and only as buckets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Name of a custom event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A checked event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Kind.
    pub kind: EventKind,
    /// Timestamp (ms).
    pub ts: u64,
    /// The input fields.
    pub input: EventInput,
}

impl Event {
    /// Parses and checks an event from JSON text.
    pub fn from_json(text: &str) -> Result<Event, Error> {
        if text.len() > MAX_EVENT_BYTES {
            return Err(Issue::new("event_too_large", "$", "the event is too large")
                .expected(format!("at most {MAX_EVENT_BYTES} bytes"))
                .found(format!("{} bytes", text.len()))
                .hint("send less in the event: its properties, form fields and URL")
                .into());
        }
        let input = crate::json::from_str_fast(text, crate::event_read::read_simple)?;
        Event::check(input)
    }
    /// Checks an event from a JSON value.
    pub fn from_value(v: &serde_json::Value) -> Result<Event, Error> {
        let input: EventInput = crate::json::from_value_at(v, "$")?;
        Event::check(input)
    }
    /// Checks the fields of a parsed event.
    pub fn check(input: EventInput) -> Result<Event, Error> {
        let mut issues = Vec::new();
        let kind = EventKind::parse(&input.kind);
        if kind.is_none() {
            issues.push(
                Issue::new(
                    "unknown_event_type",
                    "$.type",
                    format!(
                        "unknown event type `{}`",
                        crate::error::truncate(&input.kind, 40)
                    ),
                )
                .expected(format!("one of {}", EventKind::names().join(", ")))
                .hint_or(
                    crate::suggest::did_you_mean(&input.kind, EventKind::names()),
                    crate::error::ONE_OF_EXPECTED,
                ),
            );
        }
        if input.ts > MAX_TS {
            issues.push(
                Issue::new("out_of_range", "$.ts", "timestamp out of range")
                    .expected(format!(
                        "milliseconds since 1970, at most {MAX_TS} (the end of 9999)"
                    ))
                    .found(input.ts.to_string())
                    .hint("send `ts` in milliseconds (`Date.now()`), not micro- or nanoseconds"),
            );
        }
        for (path, s, max) in [
            ("$.content_id", &input.content_id, 128),
            ("$.url", &input.url, 2048),
            ("$.cta", &input.cta, 64),
            ("$.form", &input.form, 64),
            ("$.name", &input.name, 64),
        ] {
            if let Some(s) = s {
                if s.len() > max {
                    issues.push(
                        Issue::new("too_long", path, "value too long")
                            .expected(format!("at most {max} bytes"))
                            .found(format!("{} bytes", s.len()))
                            .hint(if path == "$.url" {
                                "cut the URL to the limit (its query string first)"
                            } else {
                                "cut the value to the limit"
                            }),
                    );
                }
            }
        }
        if let Some(d) = input.dwell_seconds {
            if !(d.is_finite() && (0.0..=86_400.0).contains(&d)) {
                issues.push(
                    Issue::new("out_of_range", "$.dwell_seconds", "dwell out of range")
                        .expected("0 to 86400 seconds")
                        .found(d.to_string())
                        .hint("send the seconds the page was visible, at most a day"),
                );
            }
        }
        if input.fields.len() > 32 {
            issues.push(
                Issue::new("too_many", "$.fields", "too many form fields")
                    .expected("at most 32")
                    .hint("send only the fields the playbook reads (its BANT answers)"),
            );
        }
        for (k, v) in &input.fields {
            if k.len() > 64 || v.len() > 256 {
                issues.push(
                    Issue::new(
                        "too_long",
                        crate::error::key_path("$.fields", &crate::error::truncate(k, 64)),
                        "form field too long",
                    )
                    .expected("name ≤ 64 and value ≤ 256 bytes")
                    .hint("leave the field out, or cut its value"),
                );
            }
        }
        match (kind, issues.is_empty()) {
            (Some(kind), true) => Ok(Event {
                kind,
                ts: input.ts,
                input,
            }),
            _ => Err(Error { issues }),
        }
    }
}
