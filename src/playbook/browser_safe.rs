//! A browser-safe playbook: the same decisions, fewer secrets.
//!
//! Everything shipped to a browser is public. A playbook as marketing
//! operations write it names competitors and internal domains in clear
//! lists and spells out the ideal customer profile (every fit criterion with
//! its weight). [`browser_safe`] derives the copy a page may load:
//!
//! - every clear list becomes a hashed list (hex SHA-256 of
//!   `salt + normalised value`, see [`crate::lists::hash_member_as`]), so
//!   `$inList` still matches while the members can no longer be read;
//!   already-hashed lists are kept as they are;
//! - lists that no condition references any more are dropped;
//! - optionally (`strip_fit`) the fit criteria are removed, keeping the
//!   tiers: the browser then takes the fit from the visitor state that the
//!   edge signed (the engine does this whenever a playbook has no criteria);
//! - the editor-only `$schema` reference is dropped.
//!
//! The id and revision are kept, so a state written with the full playbook
//! (at the edge) decodes with the browser-safe one and the other way round.
//! The result is compiled before it is returned: a browser-safe playbook
//! that the engine would refuse is an error here, not in a visitor's page.

use crate::engine::Engine;
use crate::error::{Error, Issue};
use crate::lists::{hash_member_as, ListKind};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// How to derive the browser-safe playbook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Salt for the lists that are hashed here; default
    /// `"<playbook id>:<revision>:"` (a salt stops precomputed tables, it
    /// need not be secret).
    pub salt: Option<String>,
    /// Remove the fit criteria (keep the tiers).
    pub strip_fit: bool,
}

/// What [`browser_safe_report`] changed, for the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Lists hashed here: (name, members).
    pub hashed: Vec<(String, usize)>,
    /// Lists that were already hashed and are kept as they are.
    pub kept: Vec<String>,
    /// Lists dropped because no condition references them any more.
    pub dropped: Vec<String>,
    /// Fit criteria removed (0 without `strip_fit`).
    pub criteria_removed: usize,
    /// The salt used for the lists hashed here.
    pub salt: String,
}

/// The browser-safe copy of a playbook (see the module docs).
pub fn browser_safe(playbook: &Value, options: &Options) -> Result<Value, Error> {
    browser_safe_report(playbook, options).map(|(value, _)| value)
}

/// [`browser_safe`], with a report of what changed.
pub fn browser_safe_report(playbook: &Value, options: &Options) -> Result<(Value, Report), Error> {
    // A broken playbook is reported with every problem, as `check` does.
    let engine = Engine::from_value(playbook.clone())?;
    let salt = match &options.salt {
        Some(s) if s.is_empty() => {
            return Err(
                Issue::new("invalid_list_salt", "salt", "The salt must not be empty.")
                    .expected("a non-empty string such as `lumora-browser-2026:`")
                    .hint("leave the salt out to use `<playbook id>:<revision>:`")
                    .into(),
            )
        }
        Some(s) => s.clone(),
        None => format!("{}:{}:", engine.playbook_id(), engine.revision()),
    };
    let mut report = Report {
        salt: salt.clone(),
        ..Report::default()
    };
    let mut out = playbook.clone();
    let Some(root) = out.as_object_mut() else {
        return Err(
            Issue::new("invalid_type", "$", "a playbook is a JSON object")
                .hint("a playbook is one JSON object: `{\"version\": 1, ...}`")
                .into(),
        );
    };
    root.remove("$schema");

    if options.strip_fit {
        if let Some(Value::Array(criteria)) = root
            .get_mut("fit")
            .and_then(Value::as_object_mut)
            .and_then(|fit| fit.get_mut("criteria"))
        {
            report.criteria_removed = criteria.len();
            criteria.clear();
        }
    }

    // Lists referenced anywhere but in the lists section itself.
    let mut referenced = BTreeSet::new();
    for (key, value) in root.iter() {
        if key != "lists" {
            collect_in_list(value, &mut referenced);
        }
    }

    if let Some(Value::Object(lists)) = root.get_mut("lists") {
        let names: Vec<String> = lists.keys().cloned().collect();
        for name in names {
            if !referenced.contains(&name) {
                lists.remove(&name);
                report.dropped.push(name);
                continue;
            }
            let Some(Value::Object(spec)) = lists.get_mut(&name) else {
                continue;
            };
            if spec.contains_key("salt") {
                report.kept.push(name);
                continue;
            }
            let kind = spec
                .get("kind")
                .and_then(Value::as_str)
                .and_then(ListKind::parse)
                .unwrap_or_default();
            let hashed = hash_values(spec, kind, &salt);
            report.hashed.push((name, hashed.len()));
            spec.insert("salt".into(), Value::String(salt.clone()));
            spec.insert(
                "values".into(),
                Value::Array(hashed.into_iter().map(Value::String).collect()),
            );
        }
    }

    // The result must still compile (and so decide as the original does).
    Engine::from_value(out.clone())?;
    Ok((out, report))
}

/// The sorted, distinct digests of a clear list's values (values that
/// normalise to nothing are left out; the engine ignores them too).
fn hash_values(spec: &Map<String, Value>, kind: ListKind, salt: &str) -> BTreeSet<String> {
    spec.get("values")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .filter(|v| !kind.normalize(v).is_empty())
                .map(|v| hash_member_as(kind, salt, v))
                .collect()
        })
        .unwrap_or_default()
}

/// Collects the names used with `$inList` anywhere in `value`.
fn collect_in_list(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$inList", Value::String(name)) => {
                        names.insert(name.clone());
                    }
                    _ => collect_in_list(v, names),
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_in_list(v, names);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::is_sha256_hex;
    use crate::DecideRequest;
    use serde_json::json;

    const ACME: &str = include_str!("../../examples/acme/playbook.json");

    fn acme() -> Value {
        serde_json::from_str(ACME).unwrap()
    }

    fn opts(salt: &str, strip_fit: bool) -> Options {
        Options {
            salt: Some(salt.into()),
            strip_fit,
        }
    }

    #[test]
    fn clear_lists_are_hashed_and_hashed_ones_kept() {
        let full = acme();
        let (safe, report) = browser_safe_report(&full, &opts("s1:", false)).unwrap();
        let text = serde_json::to_string(&safe).unwrap();
        for clear in [
            "pipewatch.io",
            "datasentry.com",
            "lumora.io",
            "tracebit.dev",
        ] {
            assert!(!text.contains(clear), "{clear} is still readable");
        }
        let comp = &safe["lists"]["competitors"];
        assert_eq!(comp["salt"], "s1:");
        let values = comp["values"].as_array().unwrap();
        assert_eq!(values.len(), 6);
        assert!(values.iter().all(|v| is_sha256_hex(v.as_str().unwrap())));
        assert!(values.contains(&json!(hash_member_as(
            ListKind::Domain,
            "s1:",
            "pipewatch.io"
        ))));
        // Sorted and distinct.
        let mut sorted: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), values.len());
        // The target list was hashed already, with its own salt: untouched.
        assert_eq!(
            safe["lists"]["target_accounts"],
            full["lists"]["target_accounts"]
        );
        assert_eq!(report.kept, vec!["target_accounts".to_string()]);
        assert_eq!(
            report.hashed,
            vec![("competitors".to_string(), 6), ("internal".to_string(), 2)]
        );
        assert!(safe.get("$schema").is_none());
        assert_eq!(safe["fit"], full["fit"]);
        assert_eq!(safe["id"], full["id"]);
        assert_eq!(safe["revision"], full["revision"]);
    }

    #[test]
    fn decisions_are_the_same_with_hashed_lists() {
        let full = Engine::from_value(acme()).unwrap();
        let safe = Engine::from_value(browser_safe(&acme(), &opts("x:", false)).unwrap()).unwrap();
        // A competitor, written the way enrichment returns it.
        let req = DecideRequest::from_json(
            r#"{"now":1793610060000,"context":{"consent":"anonymous","company":{"domain":"https://www.DataSentry.com/","industry":"software","employees":420,"country":"US","region":"CA"}}}"#,
        )
        .unwrap();
        let a = full
            .decide(&mut full.visitor("v-1").unwrap(), &req)
            .unwrap();
        let b = safe
            .decide(&mut safe.visitor("v-1").unwrap(), &req)
            .unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert!(!a.qualified, "the competitor gate still fails");
    }

    #[test]
    fn default_salt_is_id_and_revision() {
        let (_, report) = browser_safe_report(&acme(), &Options::default()).unwrap();
        let p = acme();
        assert_eq!(
            report.salt,
            format!("{}:{}:", p["id"].as_str().unwrap(), p["revision"])
        );
    }

    #[test]
    fn strip_fit_keeps_tiers_and_takes_fit_from_the_state() {
        let (safe, report) = browser_safe_report(&acme(), &opts("s:", true)).unwrap();
        assert_eq!(report.criteria_removed, 41);
        assert_eq!(safe["fit"]["criteria"], json!([]));
        assert_eq!(safe["fit"]["tiers"], acme()["fit"]["tiers"]);
        // The edge decides with the full playbook and signs the state...
        let full = Engine::from_value(acme()).unwrap();
        let req = DecideRequest::from_json(
            r#"{"now":1793610060000,"context":{"consent":"anonymous","company":{"domain":"hudsonledger.com","industry":"financial_services","employees":1200,"revenue":310000000,"country":"US","region":"NY","type":"business"}}}"#,
        )
        .unwrap();
        let mut v = full.visitor("v-2").unwrap();
        let edge = full.decide(&mut v, &req).unwrap();
        let cookie = full.encode(&v, Some(b"k"));
        // ...and the browser, without the criteria, carries that fit on.
        let browser = Engine::from_value(safe).unwrap();
        let mut w = browser.decode(&cookie, None).unwrap().visitor;
        let d = browser.decide(&mut w, &req).unwrap();
        assert!(d.fit.from_state);
        assert!(d.fit.criteria.is_empty());
        assert_eq!(d.fit.tier, edge.fit.tier);
        assert!((d.fit.score - edge.fit.score.round()).abs() <= 1.0);
    }

    #[test]
    fn unreferenced_lists_are_dropped() {
        let mut p = acme();
        p["lists"]["unused"] = json!({"kind": "text", "values": ["secret project"]});
        let (safe, report) = browser_safe_report(&p, &opts("s:", false)).unwrap();
        assert!(safe["lists"].get("unused").is_none());
        assert_eq!(report.dropped, vec!["unused".to_string()]);
        assert!(!serde_json::to_string(&safe)
            .unwrap()
            .contains("secret project"));
    }

    #[test]
    fn text_lists_hash_as_text() {
        let mut p = acme();
        p["lists"]["titles"] = json!({"kind": "text", "values": ["  Chief Data Officer "]});
        p["triggers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "cdo", "when": {"person.title": {"$inList": "titles"}}}));
        let safe = browser_safe(&p, &opts("t:", false)).unwrap();
        assert_eq!(
            safe["lists"]["titles"]["values"],
            json!([hash_member_as(ListKind::Text, "t:", "chief data officer")])
        );
        assert_eq!(safe["lists"]["titles"]["kind"], "text");
    }

    #[test]
    fn broken_input_and_empty_salt_are_errors() {
        let mut p = acme();
        p["slots"][0]["count"] = json!("three");
        let e = browser_safe(&p, &Options::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_type");
        let e = browser_safe(&acme(), &opts("", false)).unwrap_err();
        assert_eq!(e.code(), "invalid_list_salt");
        let e = browser_safe(&json!([1, 2]), &Options::default()).unwrap_err();
        assert!(!e.issues.is_empty());
    }

    #[test]
    fn deterministic() {
        let a = browser_safe(&acme(), &opts("s:", true)).unwrap();
        let b = browser_safe(&acme(), &opts("s:", true)).unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }
}
