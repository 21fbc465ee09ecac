//! Reading a playbook: JSON text → `Playbook`, collecting every structural
//! problem (per array element, with its JSON path) before semantic validation.

use super::{validate, Playbook};
use crate::error::{truncate, At, Error, Issue};
use crate::json::{depth, path_below, serde_issue, syntax_issue};
use crate::json_path::ReadError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The only playbook format version this engine reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest playbook accepted, in bytes of JSON.
pub const MAX_PLAYBOOK_BYTES: usize = 4 * 1024 * 1024;
/// Deepest JSON nesting accepted in a playbook.
pub const MAX_DEPTH: usize = 24;

/// Top-level sections whose elements are checked one by one.
const ARRAY_SECTIONS: &[&str] = &[
    "stages", "roles", "gates", "bant", "triggers", "content", "slots", "actions",
];
/// Nested arrays checked one by one: (section, field).
const NESTED_ARRAYS: &[(&str, &str)] = &[
    ("fit", "criteria"),
    ("engagement", "rules"),
    ("stage_model", "rules"),
    ("lifecycle", "hand_raise"),
];

/// What reading a playbook gave: the document (unless a whole section was
/// unreadable), the structural issues, and the ids of removed broken elements.
pub struct Parsed {
    /// The document without its broken elements.
    pub playbook: Option<Playbook>,
    /// Structural problems found.
    pub issues: Vec<Issue>,
    /// Ids of elements removed because they were broken (not reported again as unknown references).
    pub removed_ids: Vec<String>,
}

/// The error for a playbook over [`MAX_PLAYBOOK_BYTES`] (`found`: its size,
/// as `5000000 bytes`): a reader that stops at the limit gives it too.
pub fn too_large(found: String) -> Error {
    Issue::new("playbook_too_large", "$", "the playbook is too large")
        .expected(format!("at most {MAX_PLAYBOOK_BYTES} bytes"))
        .found(found)
        .hint("move long lists to hashed lists or split the catalogue")
        .into()
}

/// Reads playbook JSON text into a JSON value, checking size and syntax.
pub fn parse_json(text: &str) -> Result<Value, Error> {
    if text.len() > MAX_PLAYBOOK_BYTES {
        return Err(too_large(format!("{} bytes", text.len())));
    }
    crate::json::value_from_str(text).map_err(|e| {
        // serde_json stops at 128 levels, before `parse_value` can count them:
        // report it as the same limit, not as a syntax error.
        if crate::json::past_nesting_limit(&e) {
            let inner = crate::json_path::deeper_than(text, MAX_DEPTH).unwrap_or_default();
            return too_deep(
                &path_below("$", &inner),
                format!("more than 128 levels (line {})", e.line()),
            );
        }
        syntax_issue(text, "$", &e, "playbook_too_deep").into()
    })
}

/// Reads a playbook JSON value, collecting every structural problem.
/// Fails outright only when the value cannot be a playbook at all.
pub fn parse_value(mut value: Value) -> Result<Parsed, Error> {
    let mut issues = Vec::new();
    if let Some(path) = deeper_value(&value, &At::Root("$"), 1) {
        return Err(too_deep(&path, format!("{} levels", depth(&value))));
    }
    let Some(root) = value.as_object_mut() else {
        return Err(
            Issue::new("invalid_type", "$", "a playbook is a JSON object")
                .expected("an object")
                .found(crate::error::kind_of(&value))
                .hint("a playbook is one JSON object: `{\"version\": 1, ...}`")
                .into(),
        );
    };
    match root.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
        Some(v) => issues.push(
            Issue::new(
                "unsupported_version",
                "$.version",
                "unsupported playbook format version",
            )
            .expected(FORMAT_VERSION.to_string())
            .found(truncate(&v.to_string(), 40))
            .hint("this engine reads format version 1"),
        ),
        None => {}
    }
    // Element-wise checks: a broken element is reported and removed so the
    // rest can still be validated; its id is remembered for references.
    let mut removed_ids = Vec::new();
    for section in ARRAY_SECTIONS {
        if let Some(Value::Array(items)) = root.get_mut(*section) {
            check_elements(
                items,
                &format!("$.{section}"),
                section,
                &mut issues,
                &mut removed_ids,
            );
        }
    }
    for (section, field) in NESTED_ARRAYS {
        if let Some(Value::Array(items)) = root
            .get_mut(*section)
            .and_then(|s| s.as_object_mut())
            .and_then(|s| s.get_mut(*field))
        {
            check_elements(
                items,
                &format!("$.{section}.{field}"),
                section,
                &mut issues,
                &mut removed_ids,
            );
        }
    }
    let playbook = match from_value_tracked::<Playbook>(&value) {
        Ok(p) => {
            validate::validate(&p, &mut issues);
            Some(p)
        }
        Err(e) => {
            issues.push(serde_issue("$", &e.path, &e.inner));
            None
        }
    };
    Ok(Parsed {
        playbook,
        issues,
        removed_ids,
    })
}

/// Deserializes each element of an array section on its own, reporting and
/// removing the broken ones.
fn check_elements(
    items: &mut Vec<Value>,
    path: &str,
    section: &str,
    issues: &mut Vec<Issue>,
    removed_ids: &mut Vec<String>,
) {
    let mut keep = Vec::with_capacity(items.len());
    for (i, item) in items.drain(..).enumerate() {
        let p = format!("{path}[{i}]");
        let res = match section {
            "stages" => try_de::<super::StageSpec>(&item, &p),
            "roles" => try_de::<super::RoleSpec>(&item, &p),
            "gates" => try_de::<super::GateSpec>(&item, &p),
            "bant" => try_de::<super::BantDimensionSpec>(&item, &p),
            "triggers" => try_de::<super::TriggerSpec>(&item, &p),
            "content" => try_de::<super::ContentSpec>(&item, &p),
            "slots" => try_de::<super::SlotSpec>(&item, &p),
            "actions" => try_de::<super::ActionSpec>(&item, &p),
            "fit" => try_de::<super::CriterionSpec>(&item, &p),
            "engagement" => try_de::<super::EngagementRuleSpec>(&item, &p),
            "stage_model" => try_de::<super::StageRuleSpec>(&item, &p),
            "lifecycle" => try_de::<super::HandRaiseSpec>(&item, &p),
            _ => Ok(()),
        };
        match res {
            Ok(()) => keep.push(item),
            Err(issue) => {
                issues.push(*issue);
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    removed_ids.push(id.to_string());
                }
            }
        }
    }
    *items = keep;
}

fn try_de<T: DeserializeOwned>(item: &Value, path: &str) -> Result<(), Box<Issue>> {
    from_value_tracked::<T>(item)
        .map(|_| ())
        .map_err(|e| Box::new(serde_issue(path, &e.path, &e.inner)))
}

/// Reads a JSON value into `T` as its text is read (the error path: the value
/// is written back to text, which only happens for a playbook with problems);
/// a failure says where it happened.
fn from_value_tracked<T: DeserializeOwned>(v: &Value) -> Result<T, ReadError> {
    crate::json_path::read(&v.to_string())
}

/// The path of the first value of `v` (at `at`, `level` levels deep) that is
/// more than `MAX_DEPTH` levels deep, if any (a scalar counts as a level, as
/// in [`depth`]). Recursion stops at that depth.
fn deeper_value(v: &Value, at: &At<'_>, level: usize) -> Option<String> {
    if level > MAX_DEPTH {
        return Some(at.to_string());
    }
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| deeper_value(x, &At::Index(at, i), level + 1)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(k, x)| deeper_value(x, &At::Key(at, k), level + 1)),
        _ => None,
    }
}

/// The `playbook_too_deep` error at `path`, saying how deep the playbook was.
fn too_deep(path: &str, found: String) -> Error {
    Issue::new(
        "playbook_too_deep",
        path,
        "the playbook is nested too deeply",
    )
    .expected(format!("at most {MAX_DEPTH} levels"))
    .found(found)
    .hint("conditions nest at most 16 levels; flatten $and/$or chains")
    .into()
}
