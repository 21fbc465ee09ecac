//! Matching an event against a rule: type, content format, and an optional
//! condition over the event document.

use super::{Content, Engine};
use crate::condition::{Condition, Doc, Path, NULL};
use crate::event::{Event, EventKind};
use serde_json::{json, Value};
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

/// The fields of the document conditions see, by name: `type`, `name`,
/// `cta`, `form`, `dwell_seconds`, `content`.
pub(crate) const FIELDS: [&str; 6] = ["type", "name", "cta", "form", "dwell_seconds", "content"];

/// The keys of an event's `content` document (as `content_doc` writes them).
pub(crate) const CONTENT_FIELDS: [&str; 7] = [
    "id",
    "format",
    "stages",
    "roles",
    "topics",
    "industries",
    "gated",
];

/// An event with its catalogue content, seen by conditions as the document
/// `{type, name, cta, form, dwell_seconds, content: {id, format, stages,
/// roles, topics, industries, gated}}`. Each field's value is built the first
/// time a condition reads it (most rules read one scalar field; the content
/// document, with its label lists, is the costly one).
pub(crate) struct EventView<'a> {
    pub event: &'a Event,
    pub content: Option<&'a Content>,
    engine: &'a Engine,
    fields: [OnceCell<Value>; 6],
}

impl<'a> EventView<'a> {
    pub fn new(engine: &'a Engine, event: &'a Event) -> Self {
        EventView {
            event,
            content: engine.content_named(event.input.content_id.as_deref()),
            engine,
            fields: Default::default(),
        }
    }

    /// The value of field `FIELDS[i]` (`null` when the event has none).
    fn field(&self, i: usize) -> Value {
        let e = &self.event.input;
        let text = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        match i {
            0 => Value::from(self.event.kind.as_str()),
            1 => text(&e.name),
            2 => text(&e.cta),
            3 => text(&e.form),
            4 => e.dwell_seconds.map_or(Value::Null, |d| json!(d)),
            5 => self.content_doc(),
            _ => Value::Null,
        }
    }

    fn content_doc(&self) -> Value {
        let engine = self.engine;
        let Some(c) = self.content else {
            return match &self.event.input.content_id {
                Some(id) => json!({ "id": id }),
                None => Value::Null,
            };
        };
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
        json!({
            "id": c.id,
            "format": engine.formats.get(c.format).cloned().unwrap_or_default(),
            "stages": stages,
            "roles": roles,
            "topics": topics,
            "industries": c.industries,
            "gated": c.gated,
        })
    }
}

impl Doc for EventView<'_> {
    fn at(&self, path: &Path) -> &Value {
        let cell = path
            .seg(0)
            .and_then(|k| FIELDS.iter().position(|f| *f == k))
            .and_then(|i| self.fields.get(i).map(|c| (i, c)));
        match cell {
            Some((i, c)) => path.walk(c.get_or_init(|| self.field(i)), 1, true),
            None => &NULL,
        }
    }
}

impl EventMatcher {
    /// Whether the event matches.
    pub(crate) fn matches(&self, view: &EventView<'_>) -> bool {
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
            Some(cond) => cond.holds(view, &view.engine.lists),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::CompileCtx;

    fn engine() -> Engine {
        Engine::from_json(include_str!("../../examples/acme/playbook.json")).unwrap()
    }

    fn event(json: Value) -> Event {
        Event::from_value(&json).unwrap()
    }

    /// Each condition holds on the view exactly when it holds on the document
    /// the view stands for, written out by hand.
    fn same_answers(engine: &Engine, ev: &Event, doc: &Value) {
        let view = EventView::new(engine, ev);
        let conditions = [
            json!({"type": "download"}),
            json!({"type": {"$in": ["page_view", "cta_click"]}}),
            json!({"name": {"$exists": true}}),
            json!({"name": "roi_calculated"}),
            json!({"cta": "pricing"}),
            json!({"form": {"$exists": false}}),
            json!({"dwell_seconds": {"$gte": 60}}),
            json!({"dwell_seconds": null}),
            json!({"content.id": "guide-rfp-template"}),
            json!({"content": {"$exists": true}}),
            json!({"content.format": "guide"}),
            json!({"content.stages": "requirements_building"}),
            json!({"content.stages": {"$size": 1}}),
            json!({"content.stages.0": "requirements_building"}),
            json!({"content.topics": {"$elemMatch": {"$in": ["security", "x"]}}}),
            json!({"content": {"$type": "object"}}),
            json!({"content.id": {"$type": "string"}}),
            json!({"content.roles": {"$all": ["technical_evaluator", "procurement_legal"]}}),
            json!({"content.topics": {"$elemMatch": {"$eq": "security"}}}),
            json!({"content.industries": {"$size": 0}}),
            json!({"content.gated": true}),
            json!({"content.id.length": {"$exists": true}}),
            json!({"type.0": {"$exists": true}}),
            json!({"url": {"$exists": true}}),
            json!({"": {"$exists": true}}),
            json!({"$or": [{"content.gated": false}, {"type": "custom"}]}),
            json!({"$not": {"content.format": "webinar"}}),
        ];
        for c in conditions {
            let (cond, issues) = Condition::compile(&c, "$", &CompileCtx::default());
            assert!(issues.is_empty(), "{c}: {issues:?}");
            assert_eq!(
                cond.holds(&view, &engine.lists),
                cond.eval(doc, &engine.lists),
                "{c} on {doc}"
            );
        }
    }

    #[test]
    fn the_view_answers_as_the_document_it_stands_for() {
        let engine = engine();
        // The catalogue item both downloads name, as the playbook lists it.
        let rfp = json!({
            "id": "guide-rfp-template",
            "format": "guide",
            "stages": ["requirements_building"],
            "roles": ["technical_evaluator", "procurement_legal"],
            "topics": ["observability", "security"],
            "industries": [],
            "gated": true
        });
        let download = event(
            json!({"type": "download", "ts": 1, "content_id": "guide-rfp-template",
            "dwell_seconds": 75, "url": "/resources/rfp-template"}),
        );
        same_answers(
            &engine,
            &download,
            &json!({
                "type": "download",
                "dwell_seconds": 75.0,
                "content": rfp,
            }),
        );
        let custom = event(
            json!({"type": "custom", "ts": 1, "name": "roi_calculated", "cta": "pricing",
            "content_id": "not-in-the-catalogue"}),
        );
        same_answers(
            &engine,
            &custom,
            &json!({
                "type": "custom", "name": "roi_calculated", "cta": "pricing",
                "content": {"id": "not-in-the-catalogue"}
            }),
        );
        let no_dwell =
            event(json!({"type": "download", "ts": 1, "content_id": "guide-rfp-template"}));
        same_answers(
            &engine,
            &no_dwell,
            &json!({
                "type": "download",
                "content": rfp,
            }),
        );
        let bare = event(json!({"type": "page_view", "ts": 1}));
        same_answers(&engine, &bare, &json!({"type": "page_view"}));
    }
}
