//! Matching an event against a rule: type, content format, and an optional
//! condition over the event document.

use super::{Content, Engine};
use crate::condition::Condition;
use crate::event::{Event, EventKind};
use serde_json::{json, Map, Value};
use std::cell::OnceCell;

/// A compiled event matcher.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub struct EventMatcher {
    /// `None` matches every kind (`*`).
    pub(crate) kind: Option<EventKind>,
    /// Bit mask of content formats; `None` matches any (and events without content).
    pub(crate) formats: Option<u64>,
    pub(crate) when: Option<Condition>,
}

/// An event with its catalogue content and a lazily built condition document.
pub(crate) struct EventView<'a> {
    pub event: &'a Event,
    pub content: Option<&'a Content>,
    doc: OnceCell<Value>,
}

impl<'a> EventView<'a> {
    pub fn new(engine: &'a Engine, event: &'a Event) -> Self {
        let content = event
            .input
            .content_id
            .as_deref()
            .and_then(|id| engine.content_by_id(id))
            .and_then(|i| engine.content.get(i));
        EventView {
            event,
            content,
            doc: OnceCell::new(),
        }
    }

    /// The document conditions see: `type`, `name`, `content.*`, `cta`, `form`, `dwell_seconds`.
    fn doc(&self, engine: &Engine) -> &Value {
        self.doc.get_or_init(|| {
            let e = &self.event.input;
            let mut m = Map::new();
            m.insert("type".into(), Value::from(self.event.kind.as_str()));
            for (k, v) in [("name", &e.name), ("cta", &e.cta), ("form", &e.form)] {
                if let Some(v) = v {
                    m.insert(k.into(), Value::from(v.as_str()));
                }
            }
            if let Some(d) = e.dwell_seconds {
                m.insert("dwell_seconds".into(), json!(d));
            }
            if let Some(c) = self.content {
                let names = |mask: u32, all: &dyn Fn(usize) -> Option<String>| -> Vec<Value> {
                    (0..32usize)
                        .filter(|i| mask & super::bit32(*i) != 0)
                        .filter_map(|i| all(i).map(Value::from))
                        .collect()
                };
                let stages = names(c.stage_mask, &|i| {
                    engine.stages.get(i).map(|s| s.id.to_string())
                });
                let roles = names(c.role_mask, &|i| {
                    engine.roles.get(i).map(|r| r.id.to_string())
                });
                let topics: Vec<Value> = c
                    .topics
                    .iter()
                    .filter_map(|t| engine.topics.get(*t).map(|s| Value::from(s.as_str())))
                    .collect();
                m.insert(
                    "content".into(),
                    json!({
                        "id": c.id,
                        "format": engine.formats.get(c.format).cloned().unwrap_or_default(),
                        "stages": stages,
                        "roles": roles,
                        "topics": topics,
                        "industries": c.industries,
                        "gated": c.gated,
                    }),
                );
            } else if let Some(id) = &e.content_id {
                m.insert("content".into(), json!({ "id": id }));
            }
            Value::Object(m)
        })
    }
}

impl EventMatcher {
    /// Whether the event matches.
    pub(crate) fn matches(&self, engine: &Engine, view: &EventView<'_>) -> bool {
        if let Some(k) = self.kind {
            if k != view.event.kind {
                return false;
            }
        }
        if let Some(mask) = self.formats {
            match view.content {
                Some(c) if mask & super::bit64(c.format) != 0 => {}
                _ => return false,
            }
        }
        match &self.when {
            Some(cond) => cond.eval(view.doc(engine), &engine.lists),
            None => true,
        }
    }
}
