//! Entries a valid playbook may hold that can never take effect, and that
//! the engine takes because each has a reading: a title phrase with no word
//! in it (it matches no title), a BANT value that is blank (a blank answer is
//! no answer) or a BANT `field` that is blank (no form names it), a slot that
//! allows no format (it shows only its default: a way to pin a slot, or an
//! oversight), a content item whose `title` is blank (a card with no text).

use super::Warning;
use serde_json::Value;

/// Every such entry, in document order.
pub fn inert(playbook: &Value) -> Vec<Warning> {
    let mut out = Vec::new();
    for (i, role) in entries(playbook, &["roles"]) {
        for field in ["titles", "departments"] {
            phrases(role, &format!("$.roles[{i}].{field}"), field, &mut out);
        }
    }
    for (i, level) in entries(playbook, &["role_model", "seniority"]) {
        let path = format!("$.role_model.seniority[{i}].titles");
        phrases(level, &path, "titles", &mut out);
    }
    for (i, dim) in entries(playbook, &["bant"]) {
        if dim.get("field").and_then(Value::as_str).is_some_and(blank) {
            out.push(Warning::new(
                "blank_entry",
                format!("$.bant[{i}].field"),
                "the dimension's form field is blank: no answer ever reaches it".to_string(),
                "name the form field that carries the answer (`budget`)".to_string(),
            ));
        }
        let options = dim.get("options").and_then(Value::as_array);
        for (j, option) in options.into_iter().flatten().enumerate() {
            let values = option.get("values").and_then(Value::as_array);
            for (k, value) in values.into_iter().flatten().enumerate() {
                if value.as_str().is_some_and(blank) {
                    out.push(Warning::new(
                        "blank_entry",
                        format!("$.bant[{i}].options[{j}].values[{k}]"),
                        "a blank value matches no answer (a blank answer is no answer)".to_string(),
                        "remove it, or write the form value that falls in this bucket".to_string(),
                    ));
                }
            }
        }
    }
    for (i, slot) in entries(playbook, &["slots"]) {
        let none = slot
            .get("formats")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty);
        if none {
            let default = slot.get("default").and_then(Value::as_str).unwrap_or("");
            out.push(Warning::new(
                "slot_shows_default_only",
                format!("$.slots[{i}].formats"),
                format!("the slot allows no format: it never shows a pick, only its default `{default}` (where the visitor may see it)"),
                "list the formats it may show, or leave the list empty to pin the default"
                    .to_string(),
            ));
        }
    }
    for (i, item) in entries(playbook, &["content"]) {
        if item.get("title").and_then(Value::as_str).is_some_and(blank) {
            out.push(Warning::new(
                "blank_entry",
                format!("$.content[{i}].title"),
                "the item's title is blank: a pick of it shows no text".to_string(),
                "give it the title a visitor reads".to_string(),
            ));
        }
    }
    out
}

/// The array at `keys` below the playbook, with each element's index.
fn entries<'a>(playbook: &'a Value, keys: &[&str]) -> impl Iterator<Item = (usize, &'a Value)> {
    let mut at = Some(playbook);
    for k in keys {
        at = at.and_then(|v| v.get(k));
    }
    at.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Title phrases in `owner[field]` that hold no word: a title is matched word
/// by word (letters and digits; `&` reads as `and`), so such a phrase matches
/// nothing.
fn phrases(owner: &Value, path: &str, field: &str, out: &mut Vec<Warning>) {
    let list = owner.get(field).and_then(Value::as_array);
    for (j, phrase) in list.into_iter().flatten().enumerate() {
        let Some(text) = phrase.as_str() else {
            continue;
        };
        if !text.chars().any(|c| c.is_alphanumeric() || c == '&') {
            let what = if field == "departments" {
                ("department", "`procurement`")
            } else {
                ("title", "`vice president`")
            };
            let phrase = if text.is_empty() {
                "an empty phrase".to_string()
            } else {
                format!("`{text}`")
            };
            out.push(Warning::new(
                "blank_entry",
                format!("{path}[{j}]"),
                format!("{phrase} has no word in it: it matches no {}", what.0),
                format!("remove it, or write the words it should match ({})", what.1),
            ));
        }
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_that_never_take_effect_are_named_and_working_ones_pass() {
        let p = json!({
            "roles": [
                {"id": "a", "titles": ["vp", "", " / "], "departments": ["it", "-"]},
                {"id": "b", "titles": ["r&d", "&"]}
            ],
            "role_model": {"seniority": [{"id": "c", "titles": ["chief", " "]}]},
            "bant": [
                {"id": "budget", "field": " ", "options": [
                    {"id": "big", "values": ["100k+", ""]},
                    {"id": "small"}
                ]},
                {"id": "need", "field": "need", "options": [{"id": "yes", "values": ["y"]}]}
            ],
            "slots": [
                {"id": "hero", "formats": [], "default": "d"},
                {"id": "cta", "formats": ["demo"], "default": "d"}
            ],
            "content": [{"id": "d", "title": "  "}, {"id": "e", "title": "Guide"}]
        });
        let w: Vec<(String, &str)> = inert(&p).into_iter().map(|w| (w.path, w.code)).collect();
        assert_eq!(
            w,
            [
                ("$.roles[0].titles[1]", "blank_entry"),
                ("$.roles[0].titles[2]", "blank_entry"),
                ("$.roles[0].departments[1]", "blank_entry"),
                ("$.role_model.seniority[0].titles[1]", "blank_entry"),
                ("$.bant[0].field", "blank_entry"),
                ("$.bant[0].options[0].values[1]", "blank_entry"),
                ("$.slots[0].formats", "slot_shows_default_only"),
                ("$.content[0].title", "blank_entry"),
            ]
            .map(|(p, c)| (p.to_string(), c))
        );
        assert!(inert(&json!({"roles": 5, "slots": [{"formats": "x"}]})).is_empty());
    }
}
