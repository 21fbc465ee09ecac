//! Journeys: a visitor's events and decision points, replayed through the
//! engine. The example journeys and the shared test vectors use this format,
//! and every runtime replays them the same way.

use crate::context::DecideRequest;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::{Error, Issue};
use crate::event::Event;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A recorded journey.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Journey {
    /// Journey id.
    pub id: String,
    /// Who this is, for people.
    #[serde(default)]
    pub description: String,
    /// What a marketer expects, for people.
    #[serde(default)]
    pub expect: String,
    /// Anonymous visitor id.
    pub visitor_id: String,
    /// Context shared by every decide step (a step's context keys override it).
    #[serde(default)]
    pub context: Map<String, Value>,
    /// Events and decision points, in order.
    pub steps: Vec<Step>,
}

/// One step of a journey.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// An event.
    Observe(Value),
    /// A decision point: `{ now, slots, context }`.
    Decide(Value),
}

/// The decide request of a step: the journey's context with the step's keys laid over it.
///
/// A step may not ask for a brief answer: a journey's stored hashes are of
/// full answers, and every runtime must replay it to the same bytes.
pub fn request(j: &Journey, step: &Value, path: &str) -> Result<DecideRequest, Error> {
    if step.get("detail").is_some() {
        return Err(Error::one(
            Issue::new(
                "unknown_field",
                format!("{path}.detail"),
                "unknown field `detail`",
            )
            .expected("one of now, slots, context")
            .hint("a journey replays full answers; ask for `detail` when you call decide"),
        ));
    }
    let mut req = step.clone();
    let mut ctx = j.context.clone();
    if let Some(over) = step.get("context").and_then(Value::as_object) {
        for (k, v) in over {
            ctx.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = req.as_object_mut() {
        m.insert("context".into(), Value::Object(ctx));
    }
    DecideRequest::from_value(&req).map_err(|e| prefix(e, path))
}

/// Replays a journey on a fresh visitor and returns its decisions.
pub fn replay(engine: &Engine, j: &Journey) -> Result<Vec<Decision>, Error> {
    let mut v = engine.visitor(&j.visitor_id)?;
    let mut out = Vec::new();
    for (i, step) in j.steps.iter().enumerate() {
        let path = format!("$.steps[{i}]");
        match step {
            Step::Observe(e) => {
                let ev = Event::from_value(e).map_err(|e| prefix(e, &format!("{path}.observe")))?;
                engine.observe(&mut v, &ev);
            }
            Step::Decide(d) => {
                let req = request(j, d, &format!("{path}.decide"))?;
                out.push(engine.decide(&mut v, &req)?);
            }
        }
    }
    Ok(out)
}

/// Parses a journey from JSON text.
pub fn parse(text: &str) -> Result<Journey, Error> {
    crate::json::from_str_at(text, "$")
}

fn prefix(mut e: Error, path: &str) -> Error {
    for i in &mut e.issues {
        i.path = i.path.replacen('$', path, 1);
    }
    e
}
