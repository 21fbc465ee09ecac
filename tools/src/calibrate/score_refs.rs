//! Conditions elsewhere in the playbook that compare `fit.score` with a
//! number. Calibration moves the score's scale (and re-cuts the tiers on
//! it), but such a number is the author's: it is not rewritten, and a
//! trigger on `fit.score >= 60` may never fire again. `fit` warns of each,
//! with the number that keeps the same share of the learning rows.

use serde_json::Value;

/// A comparison of `fit.score` with a number: its JSON path, operator and number.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRef {
    pub path: String,
    pub op: &'static str,
    pub value: f64,
}

const OPS: [&str; 6] = ["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"];

/// Every comparison of `fit.score` with a number (objects' keys in sorted
/// order): under an operator (`$gte`...), listed by `$in`/`$nin`, or inside
/// `$not`.
pub fn find(doc: &Value) -> Vec<ScoreRef> {
    let mut out = Vec::new();
    crate::json_walk::entries(doc, "$", &mut |here, k, x| {
        if k == "fit.score" {
            operand(x, here, "$eq", &mut out);
        }
    });
    out
}

/// The numbers an attribute's operand `x` (at `here`) compares with: `op`
/// for a number itself.
fn operand(x: &Value, here: &str, op: &'static str, out: &mut Vec<ScoreRef>) {
    match x {
        Value::Number(n) => out.extend(n.as_f64().map(|value| ScoreRef {
            path: here.to_string(),
            op,
            value,
        })),
        Value::Object(ops) => {
            for op in OPS {
                if let Some(value) = ops.get(op).and_then(Value::as_f64) {
                    out.push(ScoreRef {
                        path: format!("{here}.{op}"),
                        op,
                        value,
                    });
                }
            }
            for op in ["$in", "$nin"] {
                let listed = ops.get(op).and_then(Value::as_array);
                for (i, v) in listed.into_iter().flatten().enumerate() {
                    if let Some(value) = v.as_f64() {
                        out.push(ScoreRef {
                            path: format!("{here}.{op}[{i}]"),
                            op,
                            value,
                        });
                    }
                }
            }
            if let Some(inner @ Value::Object(_)) = ops.get("$not") {
                operand(inner, &format!("{here}.$not"), "$eq", out);
            }
        }
        _ => {}
    }
}

/// The share (0 to 1) of `scores` at or above `t`.
pub fn share_at_or_above(scores: &[f64], t: f64) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().filter(|s| **s >= t).count() as f64 / scores.len() as f64
}

/// The whole number that as large a share of `new` scores reach as reach
/// `t` among `old` (the same learning rows, scored before and after): the
/// k-th highest new score, where k rows of `old` reach `t`; above the
/// highest when none do.
pub fn same_share(old: &[f64], new: &[f64], t: f64) -> i64 {
    let k = old.iter().filter(|s| **s >= t).count();
    let mut sorted: Vec<f64> = new.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    match k.checked_sub(1).and_then(|i| sorted.get(i)) {
        Some(s) => s.floor() as i64,
        None => sorted.first().map_or(0, |top| top.floor() as i64 + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparisons_of_fit_score_are_found_at_any_depth() {
        let doc = json!({
            "triggers": [{"id": "t", "when": {"$and": [{"fit.score": {"$gte": 60, "$lt": 90}}, {"fit.tier": "A"}]}}],
            "content": [{"when": {"fit.score": 50}}, {"when": {"fit.score": {"$in": [1, "x"], "$nin": [2]}}},
                {"when": {"fit.score": {"$not": {"$lt": 60}}}}, {"when": {"fit.score": "70"}}]
        });
        let found: Vec<(String, &str, f64)> = find(&doc)
            .into_iter()
            .map(|r| (r.path, r.op, r.value))
            .collect();
        assert_eq!(
            found,
            [
                ("$.content[0].when.fit.score".to_string(), "$eq", 50.0),
                ("$.content[1].when.fit.score.$in[0]".to_string(), "$in", 1.0),
                (
                    "$.content[1].when.fit.score.$nin[0]".to_string(),
                    "$nin",
                    2.0
                ),
                (
                    "$.content[2].when.fit.score.$not.$lt".to_string(),
                    "$lt",
                    60.0
                ),
                (
                    "$.triggers[0].when.$and[0].fit.score.$gte".to_string(),
                    "$gte",
                    60.0
                ),
                (
                    "$.triggers[0].when.$and[0].fit.score.$lt".to_string(),
                    "$lt",
                    90.0
                ),
            ]
        );
    }

    #[test]
    fn the_same_share_is_found_on_the_new_scale() {
        let old = [10.0, 40.0, 65.0, 70.0];
        let new = [5.0, 20.0, 31.5, 35.0];
        // Two rows reach 60 before; the second highest new score is 31.5.
        assert_eq!(same_share(&old, &new, 60.0), 31);
        assert_eq!(share_at_or_above(&old, 60.0), 0.5);
        // None reach 80: above the highest new score.
        assert_eq!(same_share(&old, &new, 80.0), 36);
        assert_eq!(same_share(&old, &new, 0.0), 5);
    }
}
