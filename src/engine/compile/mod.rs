//! Playbook → Engine: resolves every reference to an index, compiles every
//! condition, and reports all problems together with their JSON paths.

mod catalogue;
mod reads;

use super::*;
use crate::condition::CompileCtx;
use crate::error::{At, Issue};
use crate::event::EventKind;
use crate::hash::fnv1a32;
use crate::playbook::{parse_value, Playbook};
use crate::suggest::did_you_mean;
use crate::time::{parse_date_ms, DAY_MS};
use serde_json::Value;

/// Compiles playbook JSON text. A well-formed playbook is read straight into
/// its typed structures (one pass, no intermediate JSON tree); anything the
/// direct read rejects goes through [`compile_value`], which reads element by
/// element to report every structural problem with its path. Both give the
/// same `Playbook` for the same valid text.
pub(super) fn compile_text(text: &str) -> Result<Engine, Error> {
    // Only an object is a playbook (serde would also read a struct from the
    // array of its fields): anything else takes the reporting path, and so
    // does a playbook whose text is `MAX_DEPTH` levels deep or more.
    if text.len() <= crate::playbook::MAX_PLAYBOOK_BYTES && text.trim_start().starts_with('{') {
        if let Ok(p) = crate::json_path::read::<Playbook>(text) {
            if p.version == crate::playbook::FORMAT_VERSION
                && (conditions_shallow(&p) || nesting(text) < crate::playbook::MAX_DEPTH)
            {
                let mut issues = Vec::new();
                crate::playbook::validate(&p, &mut issues);
                return build(&p, issues, &[]);
            }
        }
    }
    compile_value(crate::playbook::parse_json(text)?)
}

/// Conditions compiled once each, by their JSON text ([`Builder::shared_cond`]):
/// where a catalogue repeats a few conditions over many items.
#[derive(Default)]
pub(super) struct SharedConditions {
    /// The distinct conditions (none always true).
    pub list: Vec<Condition>,
    /// A JSON text's place in `list` (`None`: always true).
    by_text: std::collections::BTreeMap<String, Option<usize>>,
}

/// Whether every condition of `p` is shallow enough that the playbook's text
/// is less than `MAX_DEPTH` deep without scanning it (conditions are its only
/// free-form JSON: see `playbook::conditions`). Scanning the text took ~20% of
/// the instructions of compiling the 500-item playbook (15.2 M -> 12.1 M
/// without it); a deeper condition still gets the scan.
fn conditions_shallow(p: &Playbook) -> bool {
    let mut shallow = true;
    p.for_each_condition(|c| {
        shallow = shallow && crate::condition::within(c, crate::playbook::CONDITION_NESTING_FREE);
    });
    shallow
}

/// The deepest nesting of arrays and objects in JSON text (strings skipped).
/// A JSON tree is at most one level deeper (its scalar leaves). A string's
/// content is skipped eight bytes at a time ([`crate::json::clean_prefix`]).
fn nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => loop {
                i += crate::json::clean_prefix(bytes.get(i..).unwrap_or_default());
                match bytes.get(i) {
                    // An escape: its next byte is part of the string.
                    Some(b'\\') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    // A raw control byte (invalid JSON): still in the string.
                    Some(_) => i += 1,
                    None => break,
                }
            },
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

pub(super) fn compile_value(value: Value) -> Result<Engine, Error> {
    let parsed = parse_value(value)?;
    let Some(playbook) = parsed.playbook else {
        return Err(Error {
            issues: parsed.issues,
        });
    };
    build(&playbook, parsed.issues, &parsed.removed_ids)
}

fn build(playbook: &Playbook, mut issues: Vec<Issue>, removed: &[String]) -> Result<Engine, Error> {
    let engine = Builder {
        p: playbook,
        issues: &mut issues,
        removed,
        list_names: playbook.lists.keys().cloned().collect(),
    }
    .build();
    if issues.is_empty() {
        Ok(engine)
    } else {
        Err(Error { issues })
    }
}

/// The place in `list` of the first element `is` picks, `make`'s added at
/// the end if there is none (names in the order first seen).
fn place<T>(list: &mut Vec<T>, is: impl Fn(&T) -> bool, make: impl FnOnce() -> T) -> usize {
    list.iter().position(is).unwrap_or_else(|| {
        list.push(make());
        list.len() - 1
    })
}

/// An id whose 32-bit hash an earlier id of its section has.
fn collision(what: &str, path: &str, id: &str) -> Issue {
    Issue::new(
        "id_hash_collision",
        path,
        format!("{what} id `{id}` hashes like another id"),
    )
    .hint("rename it slightly: the visitor state stores 32-bit hashes of ids")
}

struct Builder<'a> {
    p: &'a Playbook,
    issues: &'a mut Vec<Issue>,
    removed: &'a [String],
    list_names: Vec<String>,
}

impl Builder<'_> {
    /// A condition evaluated at decide time.
    fn cond(&mut self, v: &Value, path: &At<'_>) -> Condition {
        self.cond_reading(v, path, reads::Reads::Decision)
    }

    /// A condition, and what it reads checked (once it compiled cleanly).
    fn cond_reading(&mut self, v: &Value, path: &At<'_>, reads: reads::Reads) -> Condition {
        let (c, mut issues) = Condition::compile_at(
            v,
            path,
            &CompileCtx {
                lists: &self.list_names,
            },
        );
        if issues.is_empty() {
            self.check_reads(v, &c, path, reads);
        }
        self.issues.append(&mut issues);
        c
    }
    /// An optional condition; its path is only written out for an issue. An
    /// always-true condition is none.
    fn opt_cond(&mut self, v: &Option<Value>, path: &At<'_>) -> Option<Condition> {
        v.as_ref()
            .map(|v| self.cond(v, path))
            .filter(|c| !c.is_always())
    }

    /// [`Self::opt_cond`] for a condition that repeats: its place in
    /// `shared`, compiled the first time its JSON text is seen. A condition
    /// with problems is not remembered: where it repeats it is compiled
    /// again, so each place reports them.
    fn shared_cond(
        &mut self,
        v: &Option<Value>,
        path: &At<'_>,
        shared: &mut SharedConditions,
    ) -> Option<usize> {
        let text = v.as_ref()?.to_string();
        if let Some(at) = shared.by_text.get(&text) {
            return *at;
        }
        let before = self.issues.len();
        let at = self.opt_cond(v, path).map(|c| {
            shared.list.push(c);
            shared.list.len() - 1
        });
        if self.issues.len() == before {
            shared.by_text.insert(text, at);
        }
        at
    }

    /// Resolves a reference by id, reporting unknown ids with a suggestion
    /// (the path is only built for a problem).
    fn resolve(
        &mut self,
        what: &str,
        ids: &[&str],
        id: &str,
        path: impl FnOnce() -> String,
    ) -> Option<usize> {
        if let Some(i) = ids.iter().position(|x| *x == id) {
            return Some(i);
        }
        if !self.removed.iter().any(|r| r == id) {
            self.issues.push(
                Issue::new(
                    &format!("unknown_{what}"),
                    path(),
                    format!("unknown {what} `{}`", crate::error::truncate(id, 64)),
                )
                .expected(format!("one of the playbook's {what} ids"))
                .hint(
                    did_you_mean(id, ids.iter().copied())
                        .unwrap_or_else(|| format!("use the id of a {what} the playbook defines")),
                ),
            );
        }
        None
    }

    fn matcher(
        &mut self,
        event: &str,
        formats: &Option<Vec<String>>,
        when: &Option<Value>,
        path: &At<'_>,
        format_ids: &[&str],
    ) -> EventMatcher {
        let kind = if event == "*" {
            None
        } else {
            let k = EventKind::parse(event);
            if k.is_none() {
                self.issues.push(
                    Issue::new(
                        "unknown_event_type",
                        format!("{path}.event"),
                        format!("unknown event type `{event}`"),
                    )
                    .expected(format!("`*` or one of {}", EventKind::names().join(", ")))
                    .hint_or(
                        did_you_mean(event, EventKind::names()),
                        crate::error::ONE_OF_EXPECTED,
                    ),
                );
            }
            k
        };
        let formats = formats.as_ref().map(|fs| {
            let mut mask = 0u64;
            for (i, f) in fs.iter().enumerate() {
                if let Some(ix) =
                    self.resolve("format", format_ids, f, || format!("{path}.formats[{i}]"))
                {
                    mask |= bit64(ix);
                }
            }
            mask
        });
        let when = when
            .as_ref()
            .map(|v| self.cond_reading(v, &At::Key(path, "when"), reads::Reads::Event))
            .filter(|c| !c.is_always());
        EventMatcher {
            kind,
            formats,
            when,
        }
    }

    fn check_hashes<'b>(&mut self, what: &str, path: &str, ids: impl Iterator<Item = &'b str>) {
        let ids: Vec<&str> = ids.collect();
        let repeats = crate::hash::repeats(&ids, true);
        // The same id again is a `duplicate_id` (validation says so), not
        // two ids that hash alike.
        let same = crate::hash::repeats(&ids, false);
        for ((id, repeat), same) in ids.iter().zip(repeats).zip(same) {
            if repeat && !same {
                self.issues.push(collision(what, path, id));
            }
        }
    }

    /// [`Self::check_hashes`] from an index sorted by hash (`(hash, position)`,
    /// as [`crate::sort::index_by_hash`] makes it): an id repeats when an
    /// earlier position has its hash; reported in position order, as there.
    fn hash_collisions<'b>(
        &mut self,
        what: &str,
        path: &str,
        by_hash: &[(u32, usize)],
        id: impl Fn(usize) -> Option<&'b str>,
    ) {
        let mut repeats: Vec<usize> = by_hash
            .windows(2)
            .filter_map(|w| match w {
                // The same id twice is a `duplicate_id` (validation says
                // so), not two ids that hash alike.
                [(a, first), (b, at)] if a == b && id(*first) != id(*at) => Some(*at),
                _ => None,
            })
            .collect();
        if repeats.is_empty() {
            return;
        }
        crate::sort::sort(&mut repeats);
        for at in repeats {
            self.issues
                .push(collision(what, path, id(at).unwrap_or("")));
        }
    }

    fn build(mut self) -> Engine {
        let p = self.p;
        let (lists, mut list_issues) = Lists::from_specs(&p.lists, "$.lists");
        self.issues.append(&mut list_issues);

        let stage_ids: Vec<&str> = p.stages.iter().map(|s| s.id.as_str()).collect();
        let role_ids: Vec<&str> = p.roles.iter().map(|r| r.id.as_str()).collect();
        let tier_ids: Vec<&str> = p.fit.tiers.iter().map(|t| t.id.as_str()).collect();
        // Formats and topics in the order first seen, and each item's place
        // in them (the catalogue takes these instead of looking them up again).
        let mut formats: Vec<Text> = Vec::new();
        let mut topics: Vec<String> = Vec::new();
        let mut item_format: Vec<usize> = Vec::with_capacity(p.content.len());
        let mut item_topics: Vec<Vec<usize>> = Vec::with_capacity(p.content.len());
        for c in &p.content {
            item_format.push(place(
                &mut formats,
                |f| f.as_str() == c.format,
                || Text::from(c.format.as_str()),
            ));
            item_topics.push(
                c.topics
                    .iter()
                    .map(|t| place(&mut topics, |x| x == t, || t.to_string()))
                    .collect(),
            );
        }
        let format_ids: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
        let content_ids: Vec<&str> = p.content.iter().map(|c| c.id.as_str()).collect();

        let mut stages = Vec::new();
        for (i, s) in p.stages.iter().enumerate() {
            let path = At::Index(&At::Root("$.stages"), i);
            let requires = self.opt_cond(&s.requires, &At::Key(&path, "requires"));
            let next = match &s.next {
                Some(n) => self.resolve("stage", &stage_ids, n, || format!("{path}.next")),
                None if i + 1 < p.stages.len() => Some(i + 1),
                None => None,
            };
            stages.push(Stage {
                id: Text::from(&s.id),
                hash: fnv1a32(s.id.as_bytes()),
                prior: s.prior,
                requires,
                next,
            });
        }
        let sm = &p.stage_model;
        let mut stage_rules = Vec::new();
        for (i, r) in sm.rules.iter().enumerate() {
            let path = At::Index(&At::Root("$.stage_model.rules"), i);
            let on = self.matcher(&r.event, &r.formats, &r.when, &path, &format_ids);
            if let Some(stage) =
                self.resolve("stage", &stage_ids, &r.stage, || format!("{path}.stage"))
            {
                stage_rules.push(StageRule {
                    on,
                    stage,
                    weight: r.weight,
                });
            }
        }

        let rm = &p.role_model;
        let mut synonyms: Vec<(String, Vec<String>)> = rm
            .synonyms
            .iter()
            .map(|(k, v)| (k.to_lowercase(), crate::title::tokens(v)))
            .collect();
        crate::sort::sort_by(&mut synonyms, |a, b| a.cmp(b));
        let phrases = |list: &[String]| -> Vec<Vec<String>> {
            list.iter()
                .map(|t| crate::title::normalize(t, &synonyms))
                .filter(|t| !t.is_empty())
                .collect()
        };
        let roles: Vec<Role> = p
            .roles
            .iter()
            .map(|r| Role {
                id: Text::from(&r.id),
                hash: fnv1a32(r.id.as_bytes()),
                prior: r.prior,
                titles: phrases(&r.titles),
                departments: phrases(&r.departments),
            })
            .collect();
        let seniority: Vec<Seniority> = rm
            .seniority
            .iter()
            .map(|s| Seniority {
                id: Text::from(&s.id),
                hash: fnv1a32(s.id.as_bytes()),
                titles: phrases(&s.titles),
                multiplier: s.multiplier,
            })
            .collect();

        let mut gates = Vec::new();
        for (i, g) in p.gates.iter().enumerate() {
            let path = At::Index(&At::Root("$.gates"), i);
            let (doc, exclude, field) = match (&g.require, &g.exclude) {
                (Some(r), _) => (r, false, "require"),
                (None, Some(e)) => (e, true, "exclude"),
                (None, None) => continue,
            };
            let condition = self.cond(doc, &At::Key(&path, field));
            let paths = condition
                .attribute_paths()
                .iter()
                .map(|p| crate::condition::Path::new(p))
                .collect();
            gates.push(Gate {
                id: Text::from(&g.id),
                kind: g.kind,
                condition,
                exclude,
                paths,
            });
        }

        let mut criteria = Vec::new();
        let mut fit_max = 0.0;
        for (i, c) in p.fit.criteria.iter().enumerate() {
            let path = At::Index(&At::Root("$.fit.criteria"), i);
            let mut bands = Vec::new();
            for (j, b) in c.bands.iter().enumerate() {
                let when = self.opt_cond(
                    &b.when,
                    &At::Key(&At::Index(&At::Key(&path, "bands"), j), "when"),
                );
                bands.push(Band {
                    label: if b.label.is_empty() {
                        Text::from(format!("band {}", j + 1))
                    } else {
                        Text::from(&b.label)
                    },
                    min: b.min,
                    max: b.max,
                    in_values: b
                        .in_values
                        .as_ref()
                        .map(|v| v.iter().map(|s| s.to_lowercase()).collect()),
                    when,
                    points: b.points,
                });
            }
            let best = bands
                .iter()
                .map(|b| b.points)
                .fold(c.otherwise, f64::max)
                .max(0.0);
            let max = best * c.weight;
            fit_max += max;
            criteria.push(Criterion {
                id: Text::from(&c.id),
                path: crate::condition::Path::new(&c.attribute),
                weight: c.weight,
                bands,
                otherwise: c.otherwise,
                max,
            });
        }
        let mut tiers: Vec<Tier> = p
            .fit
            .tiers
            .iter()
            .map(|t| Tier {
                id: Text::from(&t.id),
                min: t.min,
                mql: None,
            })
            .collect();
        for (tier, min) in &p.lifecycle.mql {
            if let Some(ix) = self.resolve("tier", &tier_ids, tier, || {
                crate::error::key_path("$.lifecycle.mql", tier)
            }) {
                if let Some(t) = tiers.get_mut(ix) {
                    t.mql = Some(*min);
                }
            }
        }

        let e = &p.engagement;
        let mut traits: Vec<String> = Vec::new();
        let mut rules = Vec::new();
        for (i, r) in e.rules.iter().enumerate() {
            let path = At::Index(&At::Root("$.engagement.rules"), i);
            let on = self.matcher(&r.event, &r.formats, &r.when, &path, &format_ids);
            let only_if = self.opt_cond(&r.only_if, &At::Key(&path, "only_if"));
            let mut tr = Vec::new();
            for t in &r.traits {
                tr.push(place(&mut traits, |x| x == t, || t.clone()));
            }
            rules.push(EngagementRule {
                id: Text::from(&r.id),
                hash: fnv1a32(r.id.as_bytes()),
                on,
                milli: milli(r.points),
                half_life_ms: r.half_life_days.unwrap_or(e.half_life_days) * DAY_MS as f64,
                cap_milli: r.daily_cap.map(milli),
                only_if,
                traits: tr,
            });
        }
        let by_hash = crate::sort::index_by_hash(rules.iter().map(|r| r.hash));
        let engagement = Engagement {
            saturation: e.saturation,
            burst_window_ms: (e.burst.window_seconds * 1000.0) as u64,
            burst_max: e.burst.max_events as usize,
            rules,
            by_hash,
        };

        let mut bant = Vec::new();
        for (i, d) in p.bant.iter().enumerate() {
            let mut options = Vec::new();
            for (j, o) in d.options.iter().enumerate() {
                let role = match &o.role {
                    Some(r) => self.resolve("role", &role_ids, r, || {
                        format!("$.bant[{i}].options[{j}].role")
                    }),
                    None => None,
                };
                let mut values: Vec<String> =
                    o.values.iter().map(|v| v.trim().to_lowercase()).collect();
                values.push(o.id.to_lowercase());
                options.push(BantOption {
                    id: o.id.clone(),
                    hash: fnv1a32(o.id.as_bytes()),
                    values,
                    qualifying: o.qualifying,
                    role,
                });
            }
            // An answer that matches no bucket is `other` (never qualifying,
            // no role), unless the playbook names an `other` of its own.
            if !options.iter().any(|o| o.id == OTHER_BUCKET) {
                options.push(BantOption {
                    id: OTHER_BUCKET.to_string(),
                    hash: fnv1a32(OTHER_BUCKET.as_bytes()),
                    values: Vec::new(),
                    qualifying: false,
                    role: None,
                });
            }
            bant.push(BantDim {
                id: d.id.clone(),
                hash: fnv1a32(d.id.as_bytes()),
                field: d.field.clone(),
                options,
            });
        }

        let mut hand_raise = Vec::new();
        for (i, h) in p.lifecycle.hand_raise.iter().enumerate() {
            let m = self.matcher(
                &h.event,
                &h.formats,
                &h.when,
                &At::Index(&At::Root("$.lifecycle.hand_raise"), i),
                &format_ids,
            );
            hand_raise.push((h.id.clone(), m));
        }
        let lifecycle = Lifecycle {
            engaged_min: p.lifecycle.engaged_min,
            hand_raise,
            bant_sql: p.lifecycle.bant_sql,
        };

        let mut triggers = Vec::new();
        for (i, t) in p.triggers.iter().enumerate() {
            let condition = self.cond(
                &t.when,
                &At::Key(&At::Index(&At::Root("$.triggers"), i), "when"),
            );
            triggers.push(Trigger {
                id: Text::from(&t.id),
                label: Text::from(&t.label),
                hash: fnv1a32(t.id.as_bytes()),
                condition,
            });
        }

        let ids = catalogue::Ids {
            stage: stage_ids.clone(),
            role: role_ids.clone(),
            format: format_ids.clone(),
            content: content_ids.clone(),
            item_format,
            item_topics,
        };
        let catalogue::Catalogue {
            content,
            content_by_hash,
            content_when,
            slots,
            actions,
            recommend,
        } = self.catalogue(ids);

        let mut signals_mask = 0u32;
        for s in &p.signals.emit {
            if let Some(ix) = crate::signals::ALL_SIGNALS.iter().position(|x| x == s) {
                signals_mask |= bit32(ix);
            }
        }

        // The content and rule indexes are sorted by hash: ids that hash alike sit together.
        self.hash_collisions("content", "$.content", &content_by_hash, |i| {
            p.content.get(i).map(|c| c.id.as_str())
        });
        self.hash_collisions("rule", "$.engagement.rules", &engagement.by_hash, |i| {
            p.engagement.rules.get(i).map(|r| r.id.as_str())
        });
        self.check_hashes(
            "trigger",
            "$.triggers",
            p.triggers.iter().map(|c| c.id.as_str()),
        );
        self.check_hashes("stage", "$.stages", p.stages.iter().map(|c| c.id.as_str()));
        self.check_hashes("role", "$.roles", p.roles.iter().map(|c| c.id.as_str()));
        self.check_hashes(
            "seniority",
            "$.role_model.seniority",
            p.role_model.seniority.iter().map(|c| c.id.as_str()),
        );
        self.check_hashes(
            "BANT dimension",
            "$.bant",
            p.bant.iter().map(|c| c.id.as_str()),
        );
        for (i, d) in p.bant.iter().enumerate() {
            self.check_hashes(
                "BANT option",
                &format!("$.bant[{i}].options"),
                d.options.iter().map(|o| o.id.as_str()),
            );
        }
        self.check_hashes("topic", "$.content", topics.iter().map(String::as_str));

        Engine {
            id: Text::from(&p.id),
            revision: p.revision,
            id_hash: fnv1a32(p.id.as_bytes()),
            lists,
            stages,
            stage_model: StageModel {
                half_life_ms: sm.half_life_days * DAY_MS as f64,
                hysteresis: sm.hysteresis,
                content_view_weight: sm.content_view_weight,
                account_prior_weight: sm.account_prior_weight,
                rules: stage_rules,
            },
            roles,
            role_model: RoleModel {
                title_weight: rm.title_weight,
                content_view_weight: rm.content_view_weight,
                half_life_ms: rm.half_life_days * DAY_MS as f64,
                min_confidence: rm.min_confidence,
                synonyms,
                seniority,
            },
            gates,
            criteria,
            fit_max,
            tiers,
            engagement,
            traits,
            bant,
            lifecycle,
            triggers,
            content,
            content_by_hash,
            content_when,
            formats,
            topics,
            slots,
            actions,
            recommend,
            holdout_percent: p.holdout.percent,
            holdout_seed: p.holdout.seed.clone(),
            recent_limit: p.state.recent_events as usize,
            consumed_limit: p.state.consumed_limit as usize,
            consumed_min_dwell: p.state.consumed_min_dwell_seconds,
            signals_mask,
        }
    }
}

/// Points → thousandths of a point.
pub(crate) fn milli(points: f64) -> i64 {
    crate::decay::round(points * 1000.0) as i64
}

#[cfg(test)]
mod tests {
    /// The byte-by-byte reading `nesting` must agree with.
    fn nesting_bytewise(text: &str) -> usize {
        let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
        for b in text.bytes() {
            if in_str {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        max
    }

    /// Brackets inside strings, escaped quotes and backslashes, control bytes
    /// and unterminated strings are counted as a byte-by-byte scan counts them.
    #[test]
    fn nesting_skips_strings_exactly() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet = [
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "\\\"",
            "a",
            "abcdefghij",
            // Longer than two words: runs the eight-byte skip more than once.
            "abcdefghijklmnopqrstuvwx",
            " ",
            "\n",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "é",
            ":",
            ",",
        ];
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(super::nesting(&text), nesting_bytewise(&text), "{text:?}");
        }
        assert_eq!(super::nesting(r#"{"a":"[[[{","b":[{"c":"\"]"}]}"#), 3);
    }

    /// A condition `levels` levels deep: `$and` lists around one test.
    fn deep_condition(levels: usize) -> serde_json::Value {
        let mut c = serde_json::json!({ "fit.score": { "$gte": 1 } });
        let mut have = 2;
        while have + 2 <= levels {
            c = serde_json::json!({ "$and": [c] });
            have += 2;
        }
        if have < levels {
            c = serde_json::json!({ "$not": c });
        }
        c
    }

    /// Skipping the scan of the text for shallow conditions decides as the
    /// scan did: each of these playbooks (a deep condition that ends in a
    /// scalar) is `playbook_too_deep` exactly when its text is `MAX_DEPTH`
    /// levels deep or more, whichever condition is deep and wherever it sits.
    #[test]
    fn the_depth_rule_is_the_scan_of_the_text() {
        let example: serde_json::Value =
            serde_json::from_str(include_str!("../../../examples/acme/playbook.json")).unwrap();
        let sites = [
            "/gates/0/require",
            "/gates/0/exclude",
            "/stages/1/requires",
            "/stage_model/rules/0/when",
            "/engagement/rules/0/only_if",
            "/fit/criteria/0/bands/0/when",
            "/engagement/rules/0/when",
            "/content/0/when",
            "/actions/0/when",
            "/recommend/gated_requires",
            "/triggers/0/when",
            "/lifecycle/hand_raise/0/when",
        ];
        let max = crate::playbook::MAX_DEPTH;
        let (mut deep, mut shallow) = (0, 0);
        for site in sites {
            for levels in 2..=max {
                let mut p = example.clone();
                let (parent, key) = site.rsplit_once('/').unwrap();
                p.pointer_mut(parent)
                    .and_then(|o| o.as_object_mut())
                    .unwrap_or_else(|| panic!("{site}"))
                    .insert(key.to_string(), deep_condition(levels));
                let text = p.to_string();
                let too_deep = super::nesting(&text) >= max;
                let got = crate::Engine::from_json(&text)
                    .err()
                    .map(|e| e.code().to_string());
                assert_eq!(
                    got.as_deref() == Some("playbook_too_deep"),
                    too_deep,
                    "{site}, {levels} levels: {got:?}"
                );
                if too_deep {
                    deep += 1;
                } else {
                    shallow += 1;
                }
            }
        }
        assert!(
            deep >= 8 && shallow >= 100,
            "{deep} too deep, {shallow} not"
        );
    }
}
