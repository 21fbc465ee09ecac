//! Segment-compatible `track` events for what a decision changed. Consent
//! gates them: `none` produces nothing; `anonymous` leaves out everything
//! derived from what the person typed (role from title, seniority, BANT).
//! No IP, e-mail, name or free text is ever put in a signal.

use crate::context::{Consent, Context};
use crate::decision::Decision;
use crate::engine::{bit32, Engine};
use crate::text::Text;
use crate::time::iso8601;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Every signal the engine can emit.
pub const ALL_SIGNALS: [&str; 6] = [
    "Visitor Classified",
    "Stage Changed",
    "Content Recommended",
    "MQL Reached",
    "SQL Reached",
    "Sales Trigger Fired",
];

/// The library name and version stamped on every signal.
pub const LIBRARY: (&str, &str) = ("buyerpath", env!("CARGO_PKG_VERSION"));

/// A deterministic message id: the first 128 bits of SHA-256 over the
/// visitor (its id and the time of its first event), the decision and the
/// signal, formatted as a UUID. The first event's time tells a state started
/// again under a host's reused visitor id from the one before: its decisions
/// count from 1 again, and ids of the visitor and number alone would repeat
/// the earlier signals' (a store deduplicating by id kept only the first).
///
/// The page (its content id, else its URL; empty for none) goes in too when
/// not empty: the signals of one state decided on two pages at once (two tabs
/// opened from one) differ by their page, and a replay of the same request is
/// the same signal. `d` is the [`message_digest`].
pub(crate) fn message_id(mut d: [u8; 32]) -> String {
    // A UUID version 8 (RFC 9562, §5.8: the name-based SHA-256 layout of its
    // appendix B.2): the first 16 bytes, with the version (8) and the variant
    // (0b10) set, in hex grouped 8-4-4-4-12, so that a store's strict UUID
    // column or validator takes it.
    if let Some(b) = d.get_mut(6) {
        *b = (*b & 0x0f) | 0x80;
    }
    if let Some(b) = d.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let mut id = String::with_capacity(36);
    for (i, b) in d.iter().take(16).enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        id.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    id
}

/// SHA-256 of the visitor, a zero byte, its first event's time, the
/// decision's sequence number, the event name, the signal's position
/// (integers little-endian) and the page, if any.
fn message_digest(
    visitor: &str,
    first_seen: u64,
    seq: u32,
    event: &str,
    n: usize,
    page: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(visitor.as_bytes());
    h.update([0]);
    h.update(first_seen.to_le_bytes());
    h.update(seq.to_le_bytes());
    h.update(event.as_bytes());
    h.update((n as u32).to_le_bytes());
    h.update(page.as_bytes());
    h.finalize().into()
}

/// The tenth of an engagement score (0–100) as text: `0` to `10`.
fn engagement_band(score: f64) -> &'static str {
    const BANDS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
    // (A NaN clamps to NaN, and becomes 0 as an integer.)
    let i = (score / 10.0).floor().clamp(0.0, 10.0) as usize;
    BANDS.get(i).copied().unwrap_or("0")
}

/// Whether the decision's classification differs from the one last signalled.
pub fn classification_digest(d: &Decision, consent: Consent) -> u32 {
    let role = if consent == Consent::Full {
        d.role.id.as_str()
    } else {
        ""
    };
    // FNV-1a of `qualified|tier|stage|role|lifecycle|band`, read in one pass
    // without building the text. The band is the engagement score's tenth
    // (0–9 is 0, ..., 100 is 10): a visitor who reads on in one stage is
    // classified again as their engagement grows, so the account view's
    // engagement (and its surges) follows them.
    let qualified = if d.qualified { "true" } else { "false" };
    let parts = [
        qualified,
        d.fit.tier.as_str(),
        d.stage.id.as_str(),
        role,
        d.lifecycle.stage.as_str(),
        engagement_band(d.engagement.score),
    ];
    let bytes = parts
        .iter()
        .enumerate()
        .flat_map(|(i, p)| (if i > 0 { "|" } else { "" }).bytes().chain(p.bytes()));
    crate::hash::fnv1a32_of(bytes).max(1)
}

/// A Segment `track` event. Fields are declared in alphabetical order, so the
/// JSON is the same as a sorted map's, on every runtime and whatever serde_json's
/// features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// The anonymous visitor id.
    #[serde(rename = "anonymousId")]
    pub anonymous_id: Text,
    /// Library, consent, playbook, page, campaign.
    pub context: SignalContext,
    /// One of `ALL_SIGNALS`.
    pub event: &'static str,
    /// Deterministic id (dedupe key).
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// ISO 8601 time of the decision.
    #[serde(rename = "originalTimestamp")]
    pub original_timestamp: Text,
    /// What happened.
    pub properties: Properties,
    /// Always `track`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The Segment `context` of a signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalContext {
    /// Campaign parameters, with full consent only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignRef>,
    /// Consent level.
    pub consent: &'static str,
    /// `buyerpath` and its version.
    pub library: NameVersion,
    /// The page's path (scrubbed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<PagePath>,
    /// Playbook id and revision the decision was made with.
    pub playbook: crate::decision::PlaybookRef,
}

/// Campaign parameters (each left out when absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignRef {
    /// utm_medium.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// utm_campaign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// utm_source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Library name and version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameVersion {
    /// Name.
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
}

/// A page path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PagePath {
    /// Path without query string.
    pub path: Text,
}

/// The properties of each kind of signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Properties {
    /// `Visitor Classified`.
    Classified(Classified),
    /// `Stage Changed`.
    StageChanged(StageChanged),
    /// `Content Recommended`.
    Recommended(Recommended),
    /// `MQL Reached`.
    Mql(Qualified),
    /// `SQL Reached`.
    Sql(Qualified),
    /// `Sales Trigger Fired`.
    Trigger(TriggerProps),
}

/// `Visitor Classified` properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classified {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<Text>,
    pub(crate) engagement_score: f64,
    pub(crate) failed_gates: Vec<Text>,
    pub(crate) fit_reasons: Vec<String>,
    pub(crate) fit_score: f64,
    pub(crate) fit_tier: Text,
    pub(crate) lifecycle: Text,
    pub(crate) qualified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role_confidence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seniority: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seniority_weight: Option<f64>,
    pub(crate) stage: Text,
    pub(crate) stage_confidence: f64,
}

/// `Stage Changed` properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageChanged {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<Text>,
    pub(crate) confidence: f64,
    pub(crate) from: Option<Text>,
    pub(crate) moved_back: bool,
    pub(crate) to: Text,
}

/// `Content Recommended` properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<Text>,
    pub(crate) action: Text,
    pub(crate) explored: bool,
    pub(crate) holdout: bool,
    pub(crate) slots: Vec<SlotIds>,
    pub(crate) stage: Text,
}

/// The content ids shown in one slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotIds {
    pub(crate) content_ids: Vec<Text>,
    pub(crate) default: bool,
    pub(crate) slot: Text,
}

/// `MQL Reached` / `SQL Reached` properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualified {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) engagement_score: Option<f64>,
    pub(crate) fit_tier: Text,
    pub(crate) reason: Text,
}

/// `Sales Trigger Fired` properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerProps {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<Text>,
    pub(crate) fit_tier: Text,
    pub(crate) label: Text,
    pub(crate) stage: Text,
    pub(crate) trigger: Text,
}

impl Signal {
    /// The signal's properties as the collector sees them, for tests and tools.
    pub fn properties_json(&self) -> Value {
        serde_json::to_value(&self.properties).unwrap_or(Value::Null)
    }
}

/// Builds the signals for a decision. `classified_changed` says whether the
/// classification differs from the last one signalled.
pub(crate) fn build(
    engine: &Engine,
    d: &Decision,
    ctx: &Context,
    classified_changed: bool,
    first_seen: u64,
) -> Vec<Signal> {
    let consent = ctx.consent;
    if consent == Consent::None {
        return Vec::new();
    }
    let full = consent == Consent::Full;
    let account = ctx
        .company
        .get("domain")
        .and_then(Value::as_str)
        .map(crate::lists::domain_key)
        .filter(|d| is_host_name(d))
        .map(|d| Text::from(&*d));
    let context = signal_context(engine, ctx);
    // The visitor id and the time, made once for all the signals (and only
    // when there is one).
    let mut shared: Option<(Text, Text)> = None;
    let mut out: Vec<Signal> = Vec::with_capacity(ALL_SIGNALS.len());
    // The page an impression was on (see `message_id`).
    let shown_on = ctx.page.content_id.as_deref().or(ctx.page.url.as_deref());
    let mut push = |event: &'static str, properties: Properties| {
        let Some(ix) = ALL_SIGNALS.iter().position(|s| *s == event) else {
            return;
        };
        if engine.signals_mask & bit32(ix) == 0 {
            return;
        }
        let page = match event {
            "Content Recommended" => shown_on.unwrap_or_default(),
            _ => "",
        };
        let (visitor, timestamp) = shared
            .get_or_insert_with(|| {
                (
                    Text::from(d.visitor_id.as_str()),
                    Text::from(iso8601(d.now)),
                )
            })
            .clone();
        out.push(Signal {
            anonymous_id: visitor,
            context: context.clone(),
            event,
            message_id: message_id(message_digest(
                &d.visitor_id,
                first_seen,
                d.seq,
                event,
                out.len(),
                page,
            )),
            original_timestamp: timestamp,
            properties,
            kind: "track",
        });
    };
    if classified_changed {
        let person_derived = d
            .role
            .evidence
            .iter()
            .any(|e| e == "title" || e == "department" || e == "bant");
        let show_role = full || !person_derived;
        let seniority = if full { d.role.seniority.clone() } else { None };
        // The account view weights engagement by seniority (Demandbase-style).
        let seniority_weight = seniority
            .as_ref()
            .and_then(|s| engine.role_model.seniority.iter().find(|x| x.id == *s))
            .map(|x| x.multiplier);
        push(
            "Visitor Classified",
            Properties::Classified(Classified {
                account: account.clone(),
                engagement_score: d.engagement.score,
                failed_gates: d
                    .gates
                    .iter()
                    .filter(|g| g.status == "fail")
                    .map(|g| g.id.clone())
                    .collect(),
                fit_reasons: d
                    .fit
                    .criteria
                    .iter()
                    .take(5)
                    .map(|c| format!("{}:{}", c.id, c.points))
                    .collect(),
                fit_score: d.fit.score,
                fit_tier: d.fit.tier.clone(),
                lifecycle: d.lifecycle.stage.clone(),
                qualified: d.qualified,
                role: show_role.then(|| d.role.id.clone()),
                role_confidence: show_role.then_some(d.role.confidence),
                seniority,
                seniority_weight,
                stage: d.stage.id.clone(),
                stage_confidence: d.stage.confidence,
            }),
        );
    }
    if d.stage.changed {
        push(
            "Stage Changed",
            Properties::StageChanged(StageChanged {
                account: account.clone(),
                confidence: d.stage.confidence,
                from: d.stage.previous.clone(),
                moved_back: d.stage.moved_back,
                to: d.stage.id.clone(),
            }),
        );
    }
    if !d.slots.is_empty() {
        push(
            "Content Recommended",
            Properties::Recommended(Recommended {
                account: account.clone(),
                action: d.action.id.clone(),
                explored: d.explored,
                holdout: d.holdout,
                slots: d
                    .slots
                    .iter()
                    .map(|s| SlotIds {
                        content_ids: s.picks.iter().map(|p| p.id.clone()).collect(),
                        default: s.default,
                        slot: s.slot.clone(),
                    })
                    .collect(),
                stage: d.stage.id.clone(),
            }),
        );
    }
    if d.lifecycle.changed && d.lifecycle.stage == "mql" {
        push(
            "MQL Reached",
            Properties::Mql(Qualified {
                account: account.clone(),
                engagement_score: Some(d.engagement.score),
                fit_tier: d.fit.tier.clone(),
                reason: Text::from(d.lifecycle.reason.as_str()),
            }),
        );
    }
    if d.lifecycle.changed && d.lifecycle.stage == "sql" {
        push(
            "SQL Reached",
            Properties::Sql(Qualified {
                account: account.clone(),
                engagement_score: None,
                fit_tier: d.fit.tier.clone(),
                reason: if full {
                    Text::from(d.lifecycle.reason.as_str())
                } else {
                    Text::lit("hand-raise or BANT")
                },
            }),
        );
    }
    for t in &d.triggers {
        push(
            "Sales Trigger Fired",
            Properties::Trigger(TriggerProps {
                account: account.clone(),
                fit_tier: d.fit.tier.clone(),
                label: t.label.clone(),
                stage: d.stage.id.clone(),
                trigger: t.id.clone(),
            }),
        );
    }
    out
}

fn signal_context(engine: &Engine, ctx: &Context) -> SignalContext {
    // The catalogue's URL for the page's content; otherwise the path, scrubbed:
    // no query string, and no segment that could carry personal data.
    let catalogue = engine.content_named(ctx.page.content_id.as_deref());
    let path = match (catalogue, &ctx.page.url) {
        (Some(c), _) => Some(c.url.clone()),
        (None, Some(url)) => Some(Text::from(scrub_path(url))),
        (None, None) => None,
    };
    let c = &ctx.campaign;
    SignalContext {
        campaign: (ctx.consent == Consent::Full && !c.is_empty()).then(|| CampaignRef {
            medium: c.medium.clone(),
            name: c.name.clone(),
            source: c.source.clone(),
        }),
        consent: ctx.consent.as_str(),
        library: NameVersion {
            name: LIBRARY.0,
            version: LIBRARY.1,
        },
        page: path.map(|path| PagePath { path }),
        playbook: crate::decision::PlaybookRef {
            id: engine.id.clone(),
            revision: engine.revision,
        },
    }
}

/// Whether a normalised domain names a host: dot-separated labels of ASCII
/// letters, digits and hyphens, or of an internationalised name's characters
/// (anything but spaces and controls), and not an IP address. Whatever else a
/// host puts in the company "domain" (a visitor's IP, an e-mail, `%40`-encoded
/// or not, a name, a phone number) could be personal data and is never
/// reported.
pub(crate) fn is_host_name(d: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| {
                if c.is_ascii() {
                    c.is_ascii_alphanumeric() || c == '-'
                } else {
                    !c.is_whitespace() && !c.is_control()
                }
            })
    };
    d.contains('.')
        && d.split('.').all(label)
        && d.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_err()
}

/// Whether free text could be personal: an `@` (e-mail), six or more digits
/// (phone, account or order numbers, IPv4) or an IP address.
pub(crate) fn looks_personal(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    s.contains('@')
        || s.to_ascii_lowercase().contains("%40")
        || digits >= 6
        || s.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
}

/// A URL's path without query or fragment, each segment without its
/// parameters (`;jsessionid=...`: a session token), and segments that could
/// be personal (an `@`, or six or more digits: e-mails, phone or account
/// numbers) replaced by `:redacted`.
pub fn scrub_path(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or("");
    let path = match no_query.find("://") {
        Some(i) => no_query
            .get(i + 3..)
            .and_then(|rest| rest.find('/').and_then(|j| rest.get(j..)))
            .unwrap_or("/"),
        None => no_query,
    };
    path.split('/')
        .map(|seg| {
            let seg = seg.split(';').next().unwrap_or("");
            if looks_personal(seg) {
                ":redacted"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::{classification_digest, message_id, scrub_path};
    use crate::context::Consent;
    #[test]
    fn the_classification_digest_hashes_the_joined_fields() {
        let engine =
            crate::Engine::from_json(include_str!("../examples/acme/playbook.json")).unwrap();
        let mut v = engine.visitor("v-digest").unwrap();
        for (i, consent) in [Consent::Full, Consent::Anonymous, Consent::None]
            .into_iter()
            .enumerate()
        {
            let mut req = crate::DecideRequest {
                now: 1_793_610_000_000 + i as u64,
                ..Default::default()
            };
            req.context.consent = consent;
            let d = engine.decide(&mut v, &req).unwrap();
            let role = if consent == Consent::Full {
                d.role.id.as_str()
            } else {
                ""
            };
            let key = format!(
                "{}|{}|{}|{}|{}|{}",
                d.qualified,
                d.fit.tier,
                d.stage.id,
                role,
                d.lifecycle.stage,
                (d.engagement.score / 10.0).floor().clamp(0.0, 10.0)
            );
            let want = crate::hash::fnv1a32(key.as_bytes()).max(1);
            assert_eq!(classification_digest(&d, consent), want, "{key}");
        }
    }
    #[test]
    fn message_ids_are_uuids_version_8_of_the_digest() {
        let reference = |visitor: &str, seq: u32, event: &str, n: usize| {
            let mut d = super::message_digest(visitor, 7, seq, event, n, "");
            d[6] = 0x80 | (d[6] & 0x0f);
            d[8] = 0x80 | (d[8] & 0x3f);
            let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
        };
        for (i, visitor) in ["", "v-1", "w-7", "a visitor id with spaces é"]
            .iter()
            .enumerate()
        {
            for seq in [0, 1, 7, u32::MAX] {
                for event in ["Content Recommended", "Visitor Classified"] {
                    let n = i * 3;
                    let id = message_id(super::message_digest(visitor, 7, seq, event, n, ""));
                    assert_eq!(id, reference(visitor, seq, event, n));
                    // Version 8, variant 0b10 (8, 9, a or b).
                    assert_eq!(&id[14..15], "8", "{id}");
                    assert!("89ab".contains(&id[19..20]), "{id}");
                }
            }
        }
    }
    /// One state decided on two pages at once (two tabs): the impressions
    /// are two signals; the same page again is the same one.
    #[test]
    fn impressions_on_two_pages_have_two_ids() {
        let id = |page: &str| {
            message_id(super::message_digest(
                "v-1",
                7,
                3,
                "Content Recommended",
                1,
                page,
            ))
        };
        assert_ne!(id("pricing"), id("/blog/post"));
        assert_eq!(id("pricing"), id("pricing"));
        assert_ne!(id("pricing"), id(""));
    }
    #[test]
    fn scrubs_personal_segments() {
        assert_eq!(
            scrub_path("/unsubscribe/jane.doe@example.com?x=1"),
            "/unsubscribe/:redacted"
        );
        assert_eq!(
            scrub_path("https://acme.com/orders/12345678#top"),
            "/orders/:redacted"
        );
        assert_eq!(
            scrub_path("/blog/2026/why-observability"),
            "/blog/2026/why-observability"
        );
        assert_eq!(
            scrub_path("/blog/why;jsessionid=ABC123/x;v=1?q"),
            "/blog/why/x"
        );
    }
}
