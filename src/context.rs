//! What the host knows at decision time: consent, firmographics, the person's
//! own answers, the account snapshot, the page and the campaign.

use crate::error::{Error, Issue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest context accepted, in bytes of JSON.
pub const MAX_CONTEXT_BYTES: usize = 16 * 1024;

/// Consent level, which gates what is stored and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// Nothing stored, nothing sent (the default: privacy first).
    #[default]
    None,
    /// Anonymous classification signals only; no person-derived data.
    Anonymous,
    /// Everything the playbook allows, still never personal data.
    Full,
}

impl Consent {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::None => "none",
            Consent::Anonymous => "anonymous",
            Consent::Full => "full",
        }
    }
}

/// Fields the visitor gave about themself. Only the job title and the
/// department are read; no e-mail, name or phone is accepted at all.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Job title as typed (normalised before matching, never sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Department as given (`Procurement`, `IT`): read like the title, for the
    /// role when the title names none, and never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// The page being decided for.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Catalogue id of the page's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// URL path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The referring site's host (`www.g2.com`): a URL given is read down to
    /// its host, as its path and query may carry personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// A referrer (a URL or a host) as its host name, lower-cased, without
/// user, port, path, query or fragment; `None` when nothing is left or the
/// host looks personal (an IP address, an e-mail).
fn referrer_host(s: &str) -> Option<String> {
    let rest = s.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        // A port, not part of an IPv6 address (which looks personal anyway).
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.').to_lowercase();
    let personal = authority.contains('@') || crate::signals::looks_personal(&host);
    (!host.is_empty() && !personal).then_some(host)
}

/// Campaign (UTM) parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// utm_source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// utm_medium.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// utm_campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Campaign {
    /// True when no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.source.is_none() && self.medium.is_none() && self.name.is_none()
    }
}

/// The decision context.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Consent level (default `none`).
    #[serde(default)]
    pub consent: Consent,
    /// Firmographics and technographics (enrichment, reverse-IP, edge geo).
    #[serde(default)]
    pub company: Map<String, Value>,
    /// What the person told us.
    #[serde(default)]
    pub person: Person,
    /// The central store's account snapshot.
    #[serde(default)]
    pub account: Map<String, Value>,
    /// The page.
    #[serde(default)]
    pub page: Page,
    /// Campaign parameters.
    #[serde(default)]
    pub campaign: Campaign,
    /// The host believes this is a bot (user agent, headless...).
    #[serde(default)]
    pub bot: bool,
}

/// The issue of a request's `now` past the end of 9999, if it is: `check`'s,
/// and `decide`'s for a request built without it (a state valued there
/// would never decay, and is not read back).
pub(crate) fn now_out_of_range(now: u64) -> Option<Issue> {
    (now > crate::event::MAX_TS).then(|| {
        Issue::new("out_of_range", "$.now", "time out of range")
            .expected(format!(
                "milliseconds since 1970, at most {} (the end of 9999)",
                crate::event::MAX_TS
            ))
            .found(now.to_string())
            .hint("pass `now` in milliseconds (`Date.now()`)")
    })
}

/// One `decide` call's input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// Current time, milliseconds since the epoch.
    pub now: u64,
    /// Slots to fill (ids from the playbook): all when absent, none when
    /// empty (a page without slots is classified and reports no picks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<Vec<String>>,
    /// Context.
    #[serde(default)]
    pub context: Context,
    /// How much of the decision the answer writes (`full` when absent).
    #[serde(default, skip_serializing_if = "Detail::is_full")]
    pub detail: Detail,
}

/// How much of a decision its text holds. The decision is the same either
/// way (`explain()` reports it all); `brief` leaves out the lists that explain
/// its numbers, which a page showing the picks does not read: the gates, the
/// fit criteria, the top engagement rules, the stage and role distributions,
/// the role's evidence and each pick's reasons (more than half of the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Everything (the default).
    #[default]
    Full,
    /// Without the explaining lists.
    Brief,
}

impl Detail {
    /// True for `Full`.
    pub fn is_full(&self) -> bool {
        *self == Detail::Full
    }
}

impl DecideRequest {
    /// Parses and checks a request from JSON text.
    pub fn from_json(text: &str) -> Result<DecideRequest, Error> {
        if text.len() > MAX_CONTEXT_BYTES {
            return Err(
                Issue::new("context_too_large", "$", "the decide request is too large")
                    .expected(format!("at most {MAX_CONTEXT_BYTES} bytes"))
                    .found(format!("{} bytes", text.len()))
                    .hint("pass only the company and account attributes the playbook reads")
                    .into(),
            );
        }
        let r = crate::json::from_str_fast(text, crate::request_read::read_simple)?;
        r.check()
    }
    /// Parses and checks a request from a JSON value.
    pub fn from_value(v: &Value) -> Result<DecideRequest, Error> {
        let r: DecideRequest = crate::json::from_value_at(v, "$")?;
        r.check()
    }
    /// Checks bounds that serde cannot express.
    pub fn check(self) -> Result<DecideRequest, Error> {
        let mut issues = Vec::new();
        issues.extend(now_out_of_range(self.now));
        let slots = self.slots.as_deref().unwrap_or_default();
        if slots.len() > 16 {
            issues.push(
                Issue::new("too_many", "$.slots", "too many slots")
                    .expected("at most 16")
                    .found(slots.len().to_string())
                    .hint("ask for the slots the page shows"),
            );
        }
        for (name, map) in [
            ("company", &self.context.company),
            ("account", &self.context.account),
        ] {
            if map.len() > 64 {
                issues.push(
                    Issue::new(
                        "too_many",
                        format!("$.context.{name}"),
                        "too many attributes",
                    )
                    .expected("at most 64")
                    .found(map.len().to_string())
                    .hint("pass only the attributes the playbook reads"),
                );
            }
            for (k, v) in map {
                if k.len() > 64 || crate::json::depth(v) > 5 || crate::json::longer_than(v, 4096) {
                    issues.push(
                        Issue::new(
                            "invalid_value",
                            crate::error::key_path(
                                &format!("$.context.{name}"),
                                &crate::error::truncate(k, 64),
                            ),
                            "attribute too large or too deep",
                        )
                        .expected("a name ≤ 64 bytes and a value ≤ 4 KB, ≤ 4 levels deep")
                        .hint("pass only the part of the attribute the playbook reads"),
                    );
                }
            }
        }
        let c = &self.context;
        for (path, s) in [
            ("$.context.person.title", &c.person.title),
            ("$.context.person.department", &c.person.department),
            ("$.context.page.content_id", &c.page.content_id),
            ("$.context.page.url", &c.page.url),
            ("$.context.page.referrer", &c.page.referrer),
            ("$.context.campaign.source", &c.campaign.source),
            ("$.context.campaign.medium", &c.campaign.medium),
            ("$.context.campaign.name", &c.campaign.name),
        ] {
            if s.as_ref().map(|s| s.len() > 256).unwrap_or(false) {
                issues.push(
                    Issue::new("too_long", path, "value too long")
                        .expected("at most 256 bytes")
                        .hint("cut the value to 256 bytes"),
                );
            }
        }
        if issues.is_empty() {
            let mut r = self;
            // UTM values are free text a link can carry anything in (a mail tool's
            // `utm_source=jane@...`): one that looks personal is dropped.
            for v in [
                &mut r.context.campaign.source,
                &mut r.context.campaign.medium,
                &mut r.context.campaign.name,
            ] {
                if v.as_deref().is_some_and(crate::signals::looks_personal) {
                    *v = None;
                }
            }
            r.context.page.referrer = r.context.page.referrer.as_deref().and_then(referrer_host);
            Ok(r)
        } else {
            Err(Error { issues })
        }
    }
}
