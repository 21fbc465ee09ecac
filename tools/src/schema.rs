//! `buyerpath schema`: the playbook JSON Schema an editor validates with.
//!
//! schemars writes the shape (the types, their fields and docs); this adds
//! the value rules of `check` that a schema can state: id syntax, ranges,
//! counts, the names an event type, signal or list kind may have, dates, the
//! conditions' being objects, a gate's one condition. So an editor marks
//! `"priority": 1.5` as it is typed, not only `buyerpath check` later. What a
//! schema cannot state stays `check`'s alone: references between sections,
//! unique ids, falling tier minimums, calendar days, lengths in bytes (a
//! schema counts characters). `tests/js/schema.test.mjs` checks every rule
//! here against the engine at its bounds: the schema never refuses a
//! playbook the engine takes (but for an object written as the array of its
//! fields, which serde's reader takes), and refuses what each rule says.

use anyhow::{anyhow, Context as _, Result};
use buyerpath::event::EventKind;
use buyerpath::lists::ListKind;
use buyerpath::playbook::limits;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::ExitCode;

/// `buyerpath schema [-o FILE]`.
pub fn run(output: Option<&Path>) -> Result<ExitCode> {
    let text = schema_text()?;
    match output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The playbook JSON Schema, pretty-printed.
pub fn schema_text() -> Result<String> {
    let mut schema = serde_json::to_value(schemars::schema_for!(buyerpath::playbook::Playbook))?;
    constrain(&mut schema)?;
    // Back through schemars' types: their order (title, description, type,
    // properties...) reads better than a JSON object's sorted keys.
    let schema: schemars::schema::RootSchema = serde_json::from_value(schema)?;
    Ok(serde_json::to_string_pretty(&schema)? + "\n")
}

/// The largest magnitude `check` takes for a number (`validate.rs`).
const BIG: f64 = 1e9;

/// Adds `check`'s value rules to the schema schemars wrote.
fn constrain(schema: &mut Value) -> Result<()> {
    let id = json!({ "pattern": format!("^[A-Za-z0-9_.-]{{1,{}}}$", limits::ID_LEN) });
    let finite = json!({ "minimum": -BIG, "maximum": BIG });
    let non_negative = json!({ "minimum": 0, "maximum": BIG });
    let positive = json!({ "exclusiveMinimum": 0, "maximum": BIG });
    let weight = json!({ "minimum": 0, "maximum": 10 });
    let share = json!({ "minimum": 0, "maximum": 1 });
    let percent = json!({ "minimum": 0, "maximum": 100 });
    let at_least_one = json!({ "minimum": 1 });
    let mut events: Vec<&str> = EventKind::names();
    events.push("*");
    let event = json!({ "enum": events });
    // `YYYY-MM-DD` from 1970 (the calendar's days are `check`'s).
    let date = json!({
        "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
    });
    let items = |min: usize, max: usize| json!({ "minItems": min, "maxItems": max });
    // Not blank as Rust's `trim` reads it: JavaScript's `\S` would also call
    // U+FEFF blank, which Rust keeps.
    let non_blank = json!({
        "pattern": "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    });
    let small = items(0, limits::SMALL_SECTION);

    // (definition, "" for the playbook itself; property; keywords to add).
    let rules: Vec<(&str, &str, Value)> = vec![
        (
            "",
            "version",
            json!({ "const": buyerpath::playbook::FORMAT_VERSION }),
        ),
        ("", "id", id.clone()),
        ("", "name", json!({ "maxLength": 200 })),
        ("", "stages", items(1, limits::STAGES)),
        ("", "roles", items(1, limits::ROLES)),
        ("", "content", items(1, limits::CONTENT)),
        ("", "slots", items(1, limits::SLOTS)),
        ("", "gates", small.clone()),
        ("", "triggers", small.clone()),
        ("", "actions", small.clone()),
        ("", "bant", small.clone()),
        (
            "",
            "lists",
            json!({ "maxProperties": limits::LISTS, "propertyNames": non_blank.clone() }),
        ),
        ("BandSpec", "points", finite.clone()),
        ("BantDimensionSpec", "options", json!({ "minItems": 1 })),
        // Fewer than `state.recent_events` (at most 64), which the engine checks.
        (
            "BurstSpec",
            "max_events",
            json!({ "minimum": 1, "maximum": limits::RECENT_EVENTS - 1 }),
        ),
        ("BurstSpec", "window_seconds", positive.clone()),
        ("ContentSpec", "format", id.clone()),
        ("ContentSpec", "priority", share.clone()),
        ("ContentSpec", "start", date.clone()),
        ("ContentSpec", "end", date),
        ("ContentSpec", "title", json!({ "maxLength": 300 })),
        ("ContentSpec", "topics", json!({ "uniqueItems": true })),
        ("ContentSpec", "url", json!({ "maxLength": 500 })),
        (
            "CriterionSpec",
            "weight",
            json!({ "minimum": 0, "maximum": 1000 }),
        ),
        ("CriterionSpec", "otherwise", finite.clone()),
        ("CriterionSpec", "bands", items(1, limits::BANDS)),
        ("EngagementRuleSpec", "event", event.clone()),
        ("EngagementRuleSpec", "points", finite),
        ("EngagementRuleSpec", "half_life_days", positive.clone()),
        ("EngagementRuleSpec", "daily_cap", positive.clone()),
        (
            "EngagementRuleSpec",
            "traits",
            json!({ "items": id.clone() }),
        ),
        ("EngagementSpec", "half_life_days", positive.clone()),
        ("EngagementSpec", "saturation", positive.clone()),
        ("EngagementSpec", "rules", items(0, limits::RULES)),
        ("ExplorationSpec", "weight", weight.clone()),
        (
            "ExplorationSpec",
            "shortlist",
            json!({ "minimum": 1, "maximum": limits::SHORTLIST }),
        ),
        ("FitSpec", "criteria", items(0, limits::CRITERIA)),
        ("FitSpec", "tiers", items(1, 26)),
        ("HandRaiseSpec", "event", event.clone()),
        (
            "HoldoutSpec",
            "percent",
            json!({ "minimum": 0, "maximum": 50 }),
        ),
        ("LifecycleSpec", "engaged_min", non_negative.clone()),
        (
            "LifecycleSpec",
            "mql",
            json!({ "additionalProperties": percent }),
        ),
        ("LifecycleSpec", "hand_raise", small.clone()),
        (
            "ListSpec",
            "kind",
            json!({ "enum": ListKind::NAMES.iter().map(|k| Value::from(*k)).chain([Value::Null]).collect::<Vec<_>>() }),
        ),
        ("ListSpec", "salt", json!({ "minLength": 1 })),
        // A member that is blank is nothing once normalised (`check` also
        // refuses those that normalise to nothing, such as `http://`).
        (
            "ListSpec",
            "values",
            json!({ "minItems": 0, "maxItems": limits::LIST_MEMBERS, "items": non_blank }),
        ),
        ("PriorSpec", "alpha", positive.clone()),
        ("PriorSpec", "beta", positive.clone()),
        ("RecommendSpec", "max_per_format", at_least_one.clone()),
        ("RecommendSpec", "max_per_topic", at_least_one),
        ("RoleModelSpec", "content_view_weight", non_negative.clone()),
        ("RoleModelSpec", "title_weight", non_negative.clone()),
        ("RoleModelSpec", "half_life_days", positive.clone()),
        ("RoleModelSpec", "min_confidence", share),
        ("RoleSpec", "prior", non_negative.clone()),
        (
            "SenioritySpec",
            "multiplier",
            json!({ "minimum": 0, "maximum": limits::SENIORITY_MULTIPLIER }),
        ),
        (
            "SignalsSpec",
            "emit",
            json!({ "items": { "enum": buyerpath::signals::ALL_SIGNALS } }),
        ),
        (
            "SlotSpec",
            "count",
            json!({ "minimum": 1, "maximum": limits::SLOT_COUNT }),
        ),
        (
            "StageModelSpec",
            "account_prior_weight",
            non_negative.clone(),
        ),
        (
            "StageModelSpec",
            "content_view_weight",
            non_negative.clone(),
        ),
        ("StageModelSpec", "half_life_days", positive.clone()),
        ("StageModelSpec", "hysteresis", weight.clone()),
        ("StageModelSpec", "rules", small),
        ("StageRuleSpec", "event", event),
        ("StageRuleSpec", "weight", positive),
        ("StageSpec", "prior", non_negative.clone()),
        (
            "StateSpec",
            "consumed_limit",
            json!({ "minimum": 1, "maximum": limits::CONSUMED }),
        ),
        (
            "StateSpec",
            "recent_events",
            json!({ "minimum": 2, "maximum": limits::RECENT_EVENTS }),
        ),
        (
            "StateSpec",
            "consumed_min_dwell_seconds",
            json!({ "minimum": 0, "maximum": 86_400 }),
        ),
        ("TierSpec", "min", percent),
    ];
    for (definition, property, keywords) in rules {
        add(property_mut(schema, definition, property)?, keywords);
    }
    for (definition, property) in [
        ("RecommendSpec", "action_weight"),
        ("RecommendSpec", "industry_weight"),
        ("RecommendSpec", "next_stage_weight"),
        ("RecommendSpec", "priority_weight"),
        ("RecommendSpec", "role_weight"),
        ("RecommendSpec", "stage_weight"),
        ("RecommendSpec", "topic_weight"),
    ] {
        add(property_mut(schema, definition, property)?, weight.clone());
    }
    // Every section with ids checks them (`validate.rs`, `unique`).
    for definition in [
        "ActionSpec",
        "BantDimensionSpec",
        "BantOptionSpec",
        "ContentSpec",
        "CriterionSpec",
        "EngagementRuleSpec",
        "GateSpec",
        "HandRaiseSpec",
        "RoleSpec",
        "SenioritySpec",
        "SlotSpec",
        "StageRuleSpec",
        "StageSpec",
        "TierSpec",
        "TriggerSpec",
    ] {
        add(property_mut(schema, definition, "id")?, id.clone());
    }
    conditions(schema)?;
    // A hashed list's members are what `hash-list` writes.
    let list = definition_mut(schema, "ListSpec")?;
    list.insert(
        "if".into(),
        json!({ "properties": { "salt": { "type": "string" } }, "required": ["salt"] }),
    );
    list.insert(
        "then".into(),
        json!({ "properties": { "values": { "items": { "pattern": "^[0-9a-f]{64}$" } } } }),
    );
    whole_numbers(schema);
    describe(schema)?;
    Ok(())
}

/// The conditions (free JSON in the types: `ConditionDoc`) are objects; an
/// optional one may be `null`. A gate has exactly one of `require` and
/// `exclude`. A field the types leave free that is not named here is an
/// error, so a new condition field cannot go without its rule.
fn conditions(schema: &mut Value) -> Result<()> {
    let optional = [
        ("ActionSpec", "when"),
        ("BandSpec", "when"),
        ("ContentSpec", "when"),
        ("EngagementRuleSpec", "when"),
        ("EngagementRuleSpec", "only_if"),
        ("GateSpec", "require"),
        ("GateSpec", "exclude"),
        ("HandRaiseSpec", "when"),
        ("RecommendSpec", "gated_requires"),
        ("StageRuleSpec", "when"),
        ("StageSpec", "requires"),
    ];
    for (definition, property) in optional {
        add(
            property_mut(schema, definition, property)?,
            json!({ "type": ["object", "null"] }),
        );
    }
    add(
        property_mut(schema, "TriggerSpec", "when")?,
        json!({ "type": "object" }),
    );
    let one = |p: &str| json!({ "required": [p], "properties": { p: { "type": "object" } } });
    definition_mut(schema, "GateSpec")?
        .insert("oneOf".into(), json!([one("require"), one("exclude")]));
    let definitions = schema
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("the schema has no definitions"))?;
    for (name, d) in definitions {
        for (property, s) in d
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let typed = ["type", "$ref", "allOf", "anyOf", "oneOf", "enum", "const"]
                .iter()
                .any(|k| s.get(k).is_some());
            if !typed {
                return Err(anyhow!(
                    "{name}.{property} takes any JSON: give it a rule in schema.rs"
                ));
            }
        }
    }
    Ok(())
}

/// schemars bounds a `u32` below only (`format` is not checked by editors).
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("format").and_then(Value::as_str) == Some("uint32")
                && !m.contains_key("maximum")
            {
                m.insert("maximum".into(), json!(u32::MAX));
            }
            m.values_mut().for_each(whole_numbers);
        }
        Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Descriptions the types' docs leave short of the rules.
fn describe(schema: &mut Value) -> Result<()> {
    let notes = [
        ("", "id", "Stable identifier of the playbook: 1–64 letters, digits, `_`, `-` and `.`."),
        ("", "name", "Human name, at most 200 bytes of UTF-8 (`check` counts bytes: 200 letters of English, fewer with accents)."),
        (
            "BantDimensionSpec",
            "id",
            "Dimension id, e.g. `budget`, `authority`, `need` or `timeline` (any id is allowed).",
        ),
    ];
    for (definition, property, text) in notes {
        property_mut(schema, definition, property)?.insert("description".into(), text.into());
    }
    for (property, bytes) in [("title", 300), ("url", 500)] {
        let p = property_mut(schema, "ContentSpec", property)?;
        let doc = p
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = format!("{doc} At most {bytes} bytes of UTF-8.")
            .trim()
            .to_string();
        p.insert("description".into(), text.into());
    }
    Ok(())
}

/// `keywords` merged into `target`, object into object (an `items` rule
/// keeps the items' `type`).
fn add(target: &mut Map<String, Value>, keywords: Value) {
    let Value::Object(keywords) = keywords else {
        return;
    };
    for (k, v) in keywords {
        match (target.get_mut(&k), v) {
            (Some(Value::Object(inner)), v @ Value::Object(_)) => add(inner, v),
            (_, v) => {
                target.insert(k, v);
            }
        }
    }
}

fn definition_mut<'a>(schema: &'a mut Value, name: &str) -> Result<&'a mut Map<String, Value>> {
    let s = if name.is_empty() {
        Some(schema)
    } else {
        schema.get_mut("definitions").and_then(|d| d.get_mut(name))
    };
    s.and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("the schema has no definition {name}"))
}

fn property_mut<'a>(
    schema: &'a mut Value,
    definition: &str,
    property: &str,
) -> Result<&'a mut Map<String, Value>> {
    definition_mut(schema, definition)?
        .get_mut("properties")
        .and_then(|p| p.get_mut(property))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("the schema has no property {definition}.{property}"))
}
