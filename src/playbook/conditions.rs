//! Every condition of a playbook, and how deep a condition may sit.
//!
//! Conditions are the only free-form JSON in a playbook: every other part is
//! a typed structure that denies unknown fields (its deepest, a band's `in`
//! list, is 7 arrays and objects deep), and a condition sits inside at most
//! [`CONDITION_PLACE_DEPTH`] of them. So a playbook read into its types is
//! less than [`super::MAX_DEPTH`] levels deep when each of its conditions is
//! at most [`CONDITION_NESTING_FREE`] levels deep, and the compiler need not
//! scan the text to know it.

use super::{ConditionDoc, Playbook};

/// The most arrays and objects around a condition: `$.fit.criteria[i].bands[j].when`
/// is inside the playbook, `fit`, `criteria`, a criterion, `bands` and a band.
pub(crate) const CONDITION_PLACE_DEPTH: usize = 6;

/// Levels of arrays and objects a condition may have with the playbook's
/// text still less than `MAX_DEPTH` deep wherever the condition sits.
pub(crate) const CONDITION_NESTING_FREE: usize = super::MAX_DEPTH - 1 - CONDITION_PLACE_DEPTH;

impl Playbook {
    /// Calls `f` with every condition of the playbook, in no particular order.
    pub(crate) fn for_each_condition(&self, mut f: impl FnMut(&ConditionDoc)) {
        let mut opt = |c: &Option<ConditionDoc>| {
            if let Some(c) = c {
                f(c);
            }
        };
        for g in &self.gates {
            opt(&g.require);
            opt(&g.exclude);
        }
        self.stages.iter().for_each(|s| opt(&s.requires));
        self.stage_model.rules.iter().for_each(|r| opt(&r.when));
        for c in &self.fit.criteria {
            c.bands.iter().for_each(|b| opt(&b.when));
        }
        for r in &self.engagement.rules {
            opt(&r.when);
            opt(&r.only_if);
        }
        self.lifecycle.hand_raise.iter().for_each(|h| opt(&h.when));
        self.content.iter().for_each(|c| opt(&c.when));
        self.actions.iter().for_each(|a| opt(&a.when));
        opt(&self.recommend.gated_requires);
        self.triggers.iter().for_each(|t| f(&t.when));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const CONDITION_KEYS: [&str; 6] = [
        "when",
        "require",
        "exclude",
        "requires",
        "only_if",
        "gated_requires",
    ];

    /// Replaces every condition in `v` by `{"marker": k}` (k counting up);
    /// returns how many there were and the deepest place one sat.
    fn mark(v: &mut Value, depth: usize, next: &mut u64, deepest: &mut usize) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if CONDITION_KEYS.contains(&k.as_str()) && !x.is_null() {
                        *x = json!({ "marker": *next });
                        *next += 1;
                        *deepest = (*deepest).max(depth + 1);
                    } else {
                        mark(x, depth + 1, next, deepest);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| mark(x, depth + 1, next, deepest)),
            _ => {}
        }
    }

    /// Every condition of the example playbook is visited once, and none
    /// sits deeper than the constant says.
    #[test]
    fn every_condition_is_visited() {
        let mut v: Value =
            serde_json::from_str(include_str!("../../examples/acme/playbook.json")).unwrap();
        let (mut n, mut deepest) = (0u64, 0usize);
        mark(&mut v, 0, &mut n, &mut deepest);
        assert!(n > 20, "the example has {n} conditions");
        assert!(
            deepest <= CONDITION_PLACE_DEPTH,
            "a condition inside {deepest} levels"
        );
        let p: Playbook = serde_json::from_value(v).unwrap();
        let mut seen = Vec::new();
        p.for_each_condition(|c| seen.push(c["marker"].as_u64().unwrap()));
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }

    /// Each condition field of the playbook's types is one visited by
    /// `for_each_condition` (a field added to the types fails this until it
    /// is), and no type holds free-form JSON in any other way.
    #[test]
    fn every_condition_field_is_listed() {
        let source = [
            include_str!("mod.rs"),
            include_str!("content.rs"),
            include_str!("../lists.rs"),
        ]
        .concat();
        let fields = source.matches(": Option<ConditionDoc>,").count()
            + source.matches(": ConditionDoc,").count();
        // Every other mention of a JSON value or a condition document is the
        // alias itself or its imports.
        for line in source.lines().map(str::trim) {
            if line.starts_with("//") || line.starts_with("use ") {
                continue;
            }
            let spelled = line.ends_with(": Option<ConditionDoc>,")
                || line.ends_with(": ConditionDoc,")
                || line == "pub type ConditionDoc = Value;";
            let json = line.contains("ConditionDoc")
                || line.contains("Value")
                || line.contains("flatten")
                || line.contains("untagged")
                || line.contains("IgnoredAny");
            assert!(
                spelled || !json,
                "free-form JSON the depth rule does not know: {line}"
            );
        }
        let visited = include_str!("conditions.rs")
            .split("mod tests")
            .next()
            .unwrap_or_default()
            .matches("opt(&")
            .count()
            + 1; // the triggers' `f(&t.when)`
        assert_eq!(
            fields, visited,
            "condition fields in the types vs visited in for_each_condition"
        );
    }
}
