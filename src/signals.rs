//! Segment-compatible `track` events for what a decision changed. Consent
//! gates them: `none` produces nothing; `anonymous` leaves out everything
//! derived from what the person typed (role from title, seniority, BANT).
//! No IP, e-mail, name or free text is ever put in a signal.

use crate::context::{Consent, Context};
use crate::decision::Decision;
use crate::engine::{bit32, Engine};
use crate::time::iso8601;
use serde_json::{json, Map, Value};
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
/// visitor, the decision and the signal, formatted as a UUID.
pub fn message_id(visitor: &str, seq: u32, event: &str, n: usize) -> String {
    let mut h = Sha256::new();
    h.update(visitor.as_bytes());
    h.update([0]);
    h.update(seq.to_le_bytes());
    h.update(event.as_bytes());
    h.update((n as u32).to_le_bytes());
    let d = h.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// Whether the decision's classification differs from the one last signalled.
pub fn classification_digest(d: &Decision, consent: Consent) -> u32 {
    let role = if consent == Consent::Full {
        d.role.id.as_str()
    } else {
        ""
    };
    let key = format!(
        "{}|{}|{}|{}|{}",
        d.qualified, d.fit.tier, d.stage.id, role, d.lifecycle.stage
    );
    crate::hash::fnv1a32(key.as_bytes()).max(1)
}

/// Builds the signals for a decision. `classified_changed` says whether the
/// classification differs from the last one signalled.
pub fn build(engine: &Engine, d: &Decision, ctx: &Context, classified_changed: bool) -> Vec<Value> {
    let consent = ctx.consent;
    if consent == Consent::None {
        return Vec::new();
    }
    let full = consent == Consent::Full;
    let mut out = Vec::new();
    let domain = ctx
        .company
        .get("domain")
        .and_then(Value::as_str)
        .map(crate::lists::normalize_domain);
    let mut push = |name: &str, props: Value| {
        let Some(ix) = ALL_SIGNALS.iter().position(|s| *s == name) else {
            return;
        };
        if engine.signals_mask & bit32(ix) == 0 {
            return;
        }
        let mut props = props;
        if let (Some(m), Some(dom)) = (props.as_object_mut(), &domain) {
            m.insert("account".into(), Value::from(dom.as_str()));
        }
        let n = out.len();
        out.push(envelope(engine, d, ctx, name, n, props));
    };
    if classified_changed {
        let mut p = json!({
            "qualified": d.qualified,
            "fit_score": d.fit.score,
            "fit_tier": d.fit.tier,
            "engagement_score": d.engagement.score,
            "stage": d.stage.id,
            "stage_confidence": d.stage.confidence,
            "lifecycle": d.lifecycle.stage,
            "failed_gates": d.gates.iter().filter(|g| g.status == "fail").map(|g| g.id.as_str()).collect::<Vec<_>>(),
            "fit_reasons": d.fit.criteria.iter().take(5).map(|c| format!("{}:{}", c.id, c.points)).collect::<Vec<_>>(),
        });
        if let Some(m) = p.as_object_mut() {
            let person_derived = d.role.evidence.iter().any(|e| e == "title" || e == "bant");
            if full || !person_derived {
                m.insert("role".into(), Value::from(d.role.id.as_str()));
                m.insert("role_confidence".into(), json!(d.role.confidence));
            }
            if full {
                if let Some(s) = &d.role.seniority {
                    m.insert("seniority".into(), Value::from(s.as_str()));
                    // The account view weights engagement by seniority (Demandbase-style).
                    if let Some(x) = engine.role_model.seniority.iter().find(|x| x.id == *s) {
                        m.insert("seniority_weight".into(), json!(x.multiplier));
                    }
                }
            }
        }
        push("Visitor Classified", p);
    }
    if d.stage.changed {
        push(
            "Stage Changed",
            json!({ "from": d.stage.previous, "to": d.stage.id, "moved_back": d.stage.moved_back, "confidence": d.stage.confidence }),
        );
    }
    if !d.slots.is_empty() {
        let slots: Vec<Value> = d
            .slots
            .iter()
            .map(|s| json!({ "slot": s.slot, "content_ids": s.picks.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), "default": s.default }))
            .collect();
        push(
            "Content Recommended",
            json!({ "slots": slots, "holdout": d.holdout, "explored": d.explored, "stage": d.stage.id, "action": d.action.id }),
        );
    }
    if d.lifecycle.changed && d.lifecycle.stage == "mql" {
        push(
            "MQL Reached",
            json!({ "fit_tier": d.fit.tier, "engagement_score": d.engagement.score, "reason": d.lifecycle.reason }),
        );
    }
    if d.lifecycle.changed && d.lifecycle.stage == "sql" {
        push(
            "SQL Reached",
            json!({ "fit_tier": d.fit.tier, "reason": if full { d.lifecycle.reason.as_str() } else { "hand-raise or BANT" } }),
        );
    }
    for t in &d.triggers {
        push(
            "Sales Trigger Fired",
            json!({ "trigger": t.id, "label": t.label, "fit_tier": d.fit.tier, "stage": d.stage.id }),
        );
    }
    out
}

fn envelope(
    engine: &Engine,
    d: &Decision,
    ctx: &Context,
    name: &str,
    n: usize,
    props: Value,
) -> Value {
    let mut context = Map::new();
    context.insert(
        "library".into(),
        json!({ "name": LIBRARY.0, "version": LIBRARY.1 }),
    );
    context.insert("consent".into(), Value::from(ctx.consent.as_str()));
    context.insert(
        "playbook".into(),
        json!({ "id": engine.id, "revision": engine.revision }),
    );
    // The catalogue's URL for the page's content; otherwise the path, scrubbed:
    // no query string, and no segment that could carry personal data.
    let catalogue = ctx
        .page
        .content_id
        .as_deref()
        .and_then(|id| engine.content_by_id(id))
        .and_then(|i| engine.content.get(i));
    let path = match (catalogue, &ctx.page.url) {
        (Some(c), _) => Some(c.url.clone()),
        (None, Some(url)) => Some(scrub_path(url)),
        (None, None) => None,
    };
    if let Some(path) = path {
        context.insert("page".into(), json!({ "path": path }));
    }
    if ctx.consent == Consent::Full && !ctx.campaign.is_empty() {
        context.insert("campaign".into(), json!({ "source": ctx.campaign.source, "medium": ctx.campaign.medium, "name": ctx.campaign.name }));
    }
    json!({
        "type": "track",
        "event": name,
        "anonymousId": d.visitor_id,
        "messageId": message_id(&d.visitor_id, d.seq, name, n),
        "originalTimestamp": iso8601(d.now),
        "properties": props,
        "context": Value::Object(context),
    })
}

/// A URL's path without query or fragment, with segments that could be personal
/// (an `@`, or six or more digits: e-mails, phone or account numbers) replaced by `:redacted`.
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
            let digits = seg.chars().filter(char::is_ascii_digit).count();
            if seg.contains('@') || seg.contains("%40") || digits >= 6 {
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
    use super::scrub_path;
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
    }
}
