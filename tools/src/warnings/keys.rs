//! An attribute key below `company.` or `account.` one or
//! two letters from a key the enrichment and the store provide
//! (`company.countri`). The engine cannot refuse those: the keys there are the
//! host's own, and a key it does not send reads as unknown, so a gate on a
//! misspelt one fails every visitor without a word.

use super::Warning;
use buyerpath::suggest::closest;
use serde_json::Value;

/// Keys of `context.company` the edge, the enrichment examples and the docs use.
const COMPANY: &[&str] = &[
    "domain",
    "name",
    "industry",
    "employees",
    "revenue",
    "country",
    "region",
    "city",
    "tech",
    "type",
    "funding_stage",
];

/// Keys of the store's account snapshot (`context.account`).
const ACCOUNT: &[&str] = &["tier", "customer", "stage", "roles_engaged", "signals"];

/// Every condition key and fit `attribute` below `company.`/`account.` that
/// is not a known key but close to one, in document order.
pub fn near_misses(playbook: &Value) -> Vec<Warning> {
    let mut out = Vec::new();
    crate::json_walk::entries(playbook, "$", &mut |here, k, x| {
        check(k, here, &mut out);
        if k == "attribute" {
            if let Value::String(s) = x {
                check(s, here, &mut out);
            }
        }
    });
    out
}

fn check(attribute: &str, path: &str, out: &mut Vec<Warning>) {
    let Some((object, rest)) = attribute.split_once('.') else {
        return;
    };
    let known = match object {
        "company" => COMPANY,
        "account" => ACCOUNT,
        _ => return,
    };
    let key = rest.split('.').next().unwrap_or(rest);
    if known.contains(&key) {
        return;
    }
    if let Some(near) = closest(key, known.iter().copied()) {
        out.push(Warning::new(
            "likely_misspelt_attribute",
            path.to_string(),
            format!(
                "`{object}.{key}` is not a key the enrichment or the store sends, and `{object}.{near}` is: a condition on it reads unknown for every visitor"
            ),
            format!("did you mean `{object}.{near}`? If your {object} data does send `{key}`, ignore this"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn near_misses_are_found_in_keys_and_attributes_and_known_keys_pass() {
        let p = json!({
            "gates": [{"require": {"company.countri": {"$in": ["US"]}, "company.country": "US"}}],
            "fit": {"criteria": [{"attribute": "account.teir"}, {"attribute": "company.sector"}]},
            "content": [{"when": {"$or": [{"account.customer": true}, {"company.tech.0": "x"}]}}]
        });
        let mut w: Vec<(String, String)> = near_misses(&p)
            .into_iter()
            .map(|w| (w.path, w.hint))
            .collect();
        w.sort();
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[0].0, "$.fit.criteria[0].attribute");
        assert!(w[0].1.contains("`account.tier`"), "{w:?}");
        assert_eq!(w[1].0, "$.gates[0].require.company.countri");
        assert!(w[1].1.contains("`company.country`"), "{w:?}");
    }
}
