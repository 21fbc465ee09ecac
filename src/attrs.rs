//! The attribute document conditions see at decision time. Built in two
//! steps: what is known before classification (company, person, account,
//! BANT, campaign, page), then the classification itself (fit, engagement,
//! stage, role, lifecycle, traits), so later conditions can use it.

use crate::context::{Consent, Context};
use crate::engine::Engine;
use crate::state::VisitorState;
use crate::time::DAY_MS;
use serde_json::{json, Map, Value};

/// Looks up a dotted path (pre-split); `null` counts as absent.
pub fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = cur.as_object()?.get(seg)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// The pre-classification attributes.
pub fn base(
    engine: &Engine,
    s: &VisitorState,
    ctx: &Context,
    now: u64,
    seniority: Option<&str>,
) -> Value {
    let mut m = Map::new();
    m.insert("company".into(), Value::Object(ctx.company.clone()));
    m.insert("account".into(), Value::Object(ctx.account.clone()));
    let mut person = Map::new();
    if ctx.consent == Consent::Full {
        if let Some(t) = &ctx.person.title {
            person.insert("title".into(), Value::from(t.as_str()));
        }
    }
    if let Some(sen) = seniority {
        person.insert("seniority".into(), Value::from(sen));
    }
    m.insert("person".into(), Value::Object(person));
    let mut bant = Map::new();
    for (dim, opt) in s
        .bant
        .iter()
        .filter_map(|(d, o)| engine.bant_option(*d, *o))
    {
        bant.insert(dim.id.clone(), Value::from(opt.id.as_str()));
    }
    m.insert("bant".into(), Value::Object(bant));
    let c = &ctx.campaign;
    m.insert(
        "campaign".into(),
        json!({ "source": c.source, "medium": c.medium, "name": c.name }),
    );
    let mut page = Map::new();
    if let Some(id) = &ctx.page.content_id {
        page.insert("content_id".into(), Value::from(id.as_str()));
        if let Some(item) = engine.content_by_id(id).and_then(|i| engine.content.get(i)) {
            if let Some(f) = engine.formats.get(item.format) {
                page.insert("format".into(), Value::from(f.as_str()));
            }
        }
    }
    if let Some(u) = &ctx.page.url {
        page.insert("url".into(), Value::from(u.as_str()));
    }
    m.insert("page".into(), Value::Object(page));
    m.insert("consent".into(), Value::from(ctx.consent.as_str()));
    let days = if s.first_seen > 0 {
        now.saturating_sub(s.first_seen) / DAY_MS
    } else {
        0
    };
    m.insert(
        "visitor".into(),
        json!({ "events": s.events, "days_since_first": days }),
    );
    Value::Object(m)
}

/// Adds one top-level entry to an attribute document.
pub fn set(doc: &mut Value, key: &str, v: Value) {
    if let Some(m) = doc.as_object_mut() {
        m.insert(key.to_string(), v);
    }
}
