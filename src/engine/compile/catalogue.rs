//! Compiling the catalogue side of a playbook: content items, slots,
//! next-best actions and the ranking settings.

use super::*;
use crate::playbook::limits;

/// The compiled catalogue side.
pub(super) struct Catalogue {
    pub content: Vec<Content>,
    pub content_by_hash: Vec<(u32, usize)>,
    pub content_when: Vec<Condition>,
    pub slots: Vec<Slot>,
    pub actions: Vec<Action>,
    pub recommend: Recommend,
}

/// Ids by section, for resolving references, and each content item's place
/// among the formats and topics (in the order first seen).
pub(super) struct Ids<'a> {
    pub stage: Vec<&'a str>,
    pub role: Vec<&'a str>,
    pub format: Vec<&'a str>,
    pub content: Vec<&'a str>,
    pub item_format: Vec<usize>,
    pub item_topics: Vec<Vec<usize>>,
}

impl Builder<'_> {
    /// Compiles content, slots, actions and ranking settings.
    pub(super) fn catalogue(&mut self, ids: Ids<'_>) -> Catalogue {
        let p = self.p;
        let (stage_ids, role_ids, format_ids, content_ids) =
            (&ids.stage, &ids.role, &ids.format, &ids.content);
        let mut content = Vec::with_capacity(p.content.len());
        let mut content_when = SharedConditions::default();
        let mut item_topics = ids.item_topics.into_iter();
        for (i, c) in p.content.iter().enumerate() {
            let path = At::Index(&At::Root("$.content"), i);
            let mut stage_mask = 0u32;
            for (j, s) in c.stages.iter().enumerate() {
                if let Some(ix) =
                    self.resolve("stage", stage_ids, s, || format!("{path}.stages[{j}]"))
                {
                    stage_mask |= bit32(ix);
                }
            }
            let mut role_mask = 0u32;
            for (j, r) in c.roles.iter().enumerate() {
                if let Some(ix) = self.resolve("role", role_ids, r, || format!("{path}.roles[{j}]"))
                {
                    role_mask |= bit32(ix);
                }
            }
            let when = self.shared_cond(&c.when, &At::Key(&path, "when"), &mut content_when);
            let prior = c.prior.unwrap_or(crate::playbook::PriorSpec {
                alpha: 1.0,
                beta: 1.0,
            });
            content.push(Content {
                id: c.id.clone(),
                hash: fnv1a32(c.id.as_bytes()),
                title: c.title.clone(),
                url: c.url.clone(),
                format: ids.item_format.get(i).copied().unwrap_or(0),
                stage_mask,
                stage_count: stage_mask.count_ones(),
                role_mask,
                role_count: role_mask.count_ones(),
                industries: c.industries.iter().map(|s| s.to_lowercase()).collect(),
                topics: item_topics.next().unwrap_or_default(),
                gated: c.gated,
                priority: c.priority,
                start_ms: c.start.as_deref().and_then(parse_date_ms),
                end_ms: c.end.as_deref().and_then(parse_date_ms).map(|d| d + DAY_MS),
                when,
                cta: c.cta.clone(),
                alpha: prior.alpha,
                beta: prior.beta,
            });
        }
        let content_by_hash = crate::sort::index_by_hash(content.iter().map(|c| c.hash));

        let mut slots = Vec::with_capacity(p.slots.len());
        for (i, s) in p.slots.iter().enumerate() {
            let path = At::Index(&At::Root("$.slots"), i);
            let mut format_mask = 0u64;
            for (j, f) in s.formats.iter().enumerate() {
                if let Some(ix) =
                    self.resolve("format", format_ids, f, || format!("{path}.formats[{j}]"))
                {
                    format_mask |= bit64(ix);
                }
            }
            let default = self.resolve("content", content_ids, &s.default, || {
                format!("{path}.default")
            });
            if let (Some(d), true) = (default, format_mask != 0) {
                let fmt = content.get(d).map(|c| c.format).unwrap_or(0);
                if format_mask & bit64(fmt) == 0 {
                    self.issues.push(
                        Issue::new(
                            "default_not_allowed",
                            format!("{path}.default"),
                            "the slot's default content has a format the slot does not allow",
                        )
                        .found(format_ids.get(fmt).copied().unwrap_or("").to_string())
                        .hint("add the format to the slot's `formats` or pick another default"),
                    );
                }
            }
            slots.push(Slot {
                id: Text::from(&s.id),
                format_mask,
                count: s.count as usize,
                default: default.unwrap_or(0),
            });
        }

        self.misspelt_formats(format_ids, &ids.item_format);

        let mut actions = Vec::with_capacity(p.actions.len());
        for (i, a) in p.actions.iter().enumerate() {
            let path = At::Index(&At::Root("$.actions"), i);
            let when = self.opt_cond(&a.when, &At::Key(&path, "when"));
            let cta = match &a.cta {
                Some(c) => self.resolve("content", content_ids, c, || format!("{path}.cta")),
                None => None,
            };
            actions.push(Action {
                id: Text::from(&a.id),
                label: Text::from(&a.label),
                when,
                cta,
            });
        }

        let r = &p.recommend;
        let gated_requires =
            self.opt_cond(&r.gated_requires, &At::Root("$.recommend.gated_requires"));
        let recommend = Recommend {
            // The condition is kept compiled (below), not as JSON.
            spec: crate::playbook::RecommendSpec {
                gated_requires: None,
                ..r.clone()
            },
            gated_requires,
            explore: r.exploration.enabled && r.exploration.weight > 0.0,
            shortlist: (r.exploration.shortlist as usize).clamp(1, limits::SHORTLIST),
        };

        Catalogue {
            content,
            content_by_hash,
            content_when: content_when.list,
            slots,
            actions,
            recommend,
        }
    }

    /// A content format that nothing names (no slot, no rule's `formats`, no
    /// condition on `content.format` or `page.format`, no action's call to
    /// action), close to one that something does, is a misspelling (`blgo`):
    /// no slot would ever show its items. Reported at its first item.
    fn misspelt_formats(&mut self, format_ids: &[&str], item_format: &[usize]) {
        let p = self.p;
        let rules = p.engagement.rules.iter().map(|r| &r.formats);
        let rules = rules
            .chain(p.stage_model.rules.iter().map(|r| &r.formats))
            .chain(p.lifecycle.hand_raise.iter().map(|r| &r.formats));
        let ctas = p.actions.iter().filter_map(|a| a.cta.as_deref());
        let cta_formats = ctas.filter_map(|id| p.content.iter().find(|c| c.id.as_str() == id));
        let mut named: Vec<String> = p
            .slots
            .iter()
            .flat_map(|s| &s.formats)
            .chain(rules.flatten().flatten())
            .cloned()
            .chain(cta_formats.map(|c| c.format.to_string()))
            .collect();
        p.for_each_condition(|c| reads::formats_compared(c, &mut named));
        for (ix, f) in format_ids.iter().enumerate() {
            if named.iter().any(|n| n == f) {
                continue;
            }
            let first = item_format.iter().position(|x| *x == ix);
            if let (Some(hint), Some(i)) = (reads::suggest(f, &named), first) {
                self.issues.push(
                    Issue::new(
                        "unknown_format",
                        format!("$.content[{i}].format"),
                        format!("format `{f}` is named by no slot, rule, condition or action"),
                    )
                    .expected("a format a slot, a rule or a condition names")
                    .hint(hint),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    /// Items with the same condition (as JSON) share one compiled condition;
    /// different ones do not; an always-true one is none.
    #[test]
    fn repeated_content_conditions_are_compiled_once() {
        let text = include_str!("../../../examples/acme/playbook.json");
        let engine = crate::Engine::from_json(text).expect("the example compiles");
        let p: Value = serde_json::from_str(text).unwrap();
        let whens: Vec<Option<String>> = p["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.get("when").map(Value::to_string))
            .collect();
        // (The example writes no always-true condition, which would be none
        // whatever its text.)
        let mut distinct: Vec<&String> = whens.iter().flatten().collect();
        distinct.sort();
        distinct.dedup();
        assert!(
            whens.iter().flatten().count() > distinct.len(),
            "the example repeats some"
        );
        assert_eq!(engine.content_when.len(), distinct.len());
        for (a, wa) in engine.content.iter().zip(&whens) {
            for (b, wb) in engine.content.iter().zip(&whens) {
                assert_eq!(a.when == b.when, wa == wb, "{} / {}", a.id, b.id);
            }
        }

        let mut p = p;
        for (i, c) in p["content"].as_array_mut().unwrap().iter_mut().enumerate() {
            c["when"] = if i % 2 == 0 {
                json!({})
            } else {
                json!({"company.country": "US"})
            };
        }
        let engine = crate::Engine::from_value(p).expect("compiles");
        assert_eq!(engine.content_when.len(), 1);
        assert!(engine.content.iter().step_by(2).all(|c| c.when.is_none()));
        assert!(engine
            .content
            .iter()
            .skip(1)
            .step_by(2)
            .all(|c| c.when == Some(0)));
    }

    /// A broken condition repeated on several items is reported at each.
    #[test]
    fn a_repeated_broken_condition_is_reported_at_each_item() {
        let text = include_str!("../../../examples/acme/playbook.json");
        let mut p: Value = serde_json::from_str(text).unwrap();
        for i in [1, 4] {
            p["content"][i]["when"] = json!({"company.employees": {"$gtt": 5}});
        }
        let e = crate::Engine::from_value(p).unwrap_err();
        for i in [1, 4] {
            let at = format!("$.content[{i}].when");
            assert!(
                e.issues
                    .iter()
                    .any(|x| x.path.starts_with(&at) && x.code == "unknown_operator"),
                "{at}: {:?}",
                e.issues
            );
        }
    }
}
