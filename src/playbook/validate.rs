//! Value checks on a playbook that need no compilation: id syntax, uniqueness,
//! numeric ranges, dates and size limits. References between sections and
//! conditions are checked where they are compiled (`crate::engine::compile`).

use super::Playbook;
use crate::error::{At, Issue};
use crate::time::parse_date_ms;
use std::fmt::Display;

/// Size limits of a playbook (also documented in the README).
pub mod limits {
    /// Stages.
    pub const STAGES: usize = 32;
    /// Roles.
    pub const ROLES: usize = 32;
    /// Fit criteria.
    pub const CRITERIA: usize = 256;
    /// Bands per criterion.
    pub const BANDS: usize = 32;
    /// Engagement rules.
    pub const RULES: usize = 256;
    /// Content items.
    pub const CONTENT: usize = 5000;
    /// Slots.
    pub const SLOTS: usize = 16;
    /// Picks per slot.
    pub const SLOT_COUNT: u32 = 10;
    /// Distinct content formats.
    pub const FORMATS: usize = 64;
    /// Largest seniority multiplier of the role model.
    pub const SENIORITY_MULTIPLIER: f64 = 100.0;
    /// Gates, triggers, actions, BANT dimensions, stage rules, hand-raise rules (each).
    pub const SMALL_SECTION: usize = 64;
    /// Length of an id.
    pub const ID_LEN: usize = 64;
    /// Members of one named list.
    pub const LIST_MEMBERS: usize = 100_000;
    /// Named lists.
    pub const LISTS: usize = 64;
    /// Recent events kept in a visitor's state (`state.recent_events`).
    pub const RECENT_EVENTS: usize = 64;
    /// Consumed items remembered in a visitor's state (`state.consumed_limit`).
    pub const CONSUMED: usize = 256;
    /// Candidates re-scored by exploration (`recommend.exploration.shortlist`,
    /// clamped to 1 to this when compiled).
    pub const SHORTLIST: usize = 32;
}

/// Runs every value check, appending issues.
pub fn validate(p: &Playbook, issues: &mut Vec<Issue>) {
    let mut v = Checker { issues };
    v.id("$.id", &p.id);
    if p.name.len() > 200 {
        v.push(
            Issue::new("too_long", "$.name", "name is too long")
                .expected("at most 200 bytes of UTF-8")
                .found(format!("{} bytes", p.name.len()))
                .hint("shorten the name"),
        );
    }
    v.count("$.stages", p.stages.len(), 1, limits::STAGES);
    v.count("$.roles", p.roles.len(), 1, limits::ROLES);
    v.count("$.fit.criteria", p.fit.criteria.len(), 0, limits::CRITERIA);
    v.count("$.fit.tiers", p.fit.tiers.len(), 1, 26);
    v.count(
        "$.engagement.rules",
        p.engagement.rules.len(),
        0,
        limits::RULES,
    );
    v.count("$.content", p.content.len(), 1, limits::CONTENT);
    v.count("$.slots", p.slots.len(), 1, limits::SLOTS);
    for (path, n) in [
        ("$.gates", p.gates.len()),
        ("$.triggers", p.triggers.len()),
        ("$.actions", p.actions.len()),
        ("$.bant", p.bant.len()),
        ("$.stage_model.rules", p.stage_model.rules.len()),
        ("$.lifecycle.hand_raise", p.lifecycle.hand_raise.len()),
    ] {
        v.count(path, n, 0, limits::SMALL_SECTION);
    }
    v.count("$.lists", p.lists.len(), 0, limits::LISTS);
    for (name, list) in &p.lists {
        v.count(
            format_args!("{}.values", At::Key(&At::Root("$.lists"), name)),
            list.values.len(),
            0,
            limits::LIST_MEMBERS,
        );
    }

    v.unique("$.stages", p.stages.iter().map(|s| s.id.as_str()));
    for (i, s) in p.stages.iter().enumerate() {
        v.non_negative(format_args!("$.stages[{i}].prior"), s.prior);
    }
    let sm = &p.stage_model;
    v.positive("$.stage_model.half_life_days", sm.half_life_days);
    v.range("$.stage_model.hysteresis", sm.hysteresis, 0.0, 10.0);
    v.non_negative("$.stage_model.content_view_weight", sm.content_view_weight);
    v.non_negative(
        "$.stage_model.account_prior_weight",
        sm.account_prior_weight,
    );
    v.unique(
        "$.stage_model.rules",
        sm.rules.iter().map(|r| r.id.as_str()),
    );
    for (i, r) in sm.rules.iter().enumerate() {
        v.positive(format_args!("$.stage_model.rules[{i}].weight"), r.weight);
    }

    v.unique("$.roles", p.roles.iter().map(|r| r.id.as_str()));
    for (i, r) in p.roles.iter().enumerate() {
        v.non_negative(format_args!("$.roles[{i}].prior"), r.prior);
    }
    let rm = &p.role_model;
    v.non_negative("$.role_model.title_weight", rm.title_weight);
    v.non_negative("$.role_model.content_view_weight", rm.content_view_weight);
    v.positive("$.role_model.half_life_days", rm.half_life_days);
    v.range("$.role_model.min_confidence", rm.min_confidence, 0.0, 1.0);
    v.unique(
        "$.role_model.seniority",
        rm.seniority.iter().map(|s| s.id.as_str()),
    );
    for (i, s) in rm.seniority.iter().enumerate() {
        // An engagement multiplier (C-level 2.0, VP 1.5): the collector's
        // views take weights up to 100 and ignore larger ones as forged.
        v.range(
            format_args!("$.role_model.seniority[{i}].multiplier"),
            s.multiplier,
            0.0,
            limits::SENIORITY_MULTIPLIER,
        );
    }

    v.unique("$.gates", p.gates.iter().map(|g| g.id.as_str()));
    for (i, g) in p.gates.iter().enumerate() {
        if g.require.is_some() == g.exclude.is_some() {
            v.push(
                Issue::new(
                    "gate_needs_one_condition",
                    format!("$.gates[{i}]"),
                    "a gate needs exactly one of `require` and `exclude`",
                )
                .hint("use `require` for what must hold, `exclude` for what must not"),
            );
        }
    }

    v.unique(
        "$.fit.criteria",
        p.fit.criteria.iter().map(|c| c.id.as_str()),
    );
    for (i, c) in p.fit.criteria.iter().enumerate() {
        let path = At::Index(&At::Root("$.fit.criteria"), i);
        if c.weight > 1000.0 {
            v.push(
                Issue::new("out_of_range", format!("{path}.weight"), "weight too large")
                    .expected("at most 1000")
                    .found(c.weight.to_string())
                    .hint("lower the weight to at most 1000"),
            );
        }
        if c.weight < 0.0 || !c.weight.is_finite() {
            v.push(
                Issue::new(
                    "negative_weight",
                    format!("{path}.weight"),
                    "a criterion's weight cannot be negative",
                )
                .expected("a number ≥ 0")
                .found(c.weight.to_string())
                .hint("give the bands negative points instead"),
            );
        }
        v.count(
            format_args!("{path}.bands"),
            c.bands.len(),
            1,
            limits::BANDS,
        );
        v.finite(format_args!("{path}.otherwise"), c.otherwise);
        for (j, b) in c.bands.iter().enumerate() {
            let bp = At::Index(&At::Key(&path, "bands"), j);
            v.finite(format_args!("{bp}.points"), b.points);
            if let (Some(lo), Some(hi)) = (b.min, b.max) {
                if lo >= hi {
                    v.push(
                        Issue::new(
                            "empty_band",
                            format!("{bp}.max"),
                            "`max` must be greater than `min`",
                        )
                        .found(format!("min {lo}, max {hi}"))
                        .hint("raise `max` above `min`, or leave `max` out (no upper bound)"),
                    );
                }
            }
            if b.min.is_none() && b.max.is_none() && b.in_values.is_none() && b.when.is_none() {
                v.push(
                    Issue::new(
                        "band_matches_everything",
                        &bp,
                        "a band needs `min`, `max`, `in` or `when`",
                    )
                    .hint("use the criterion's `otherwise` for points when no band matches"),
                );
            }
        }
    }
    v.unique("$.fit.tiers", p.fit.tiers.iter().map(|t| t.id.as_str()));
    let mut prev = f64::INFINITY;
    for (i, t) in p.fit.tiers.iter().enumerate() {
        v.range(format_args!("$.fit.tiers[{i}].min"), t.min, 0.0, 100.0);
        if t.min >= prev {
            v.push(
                Issue::new(
                    "tiers_not_descending",
                    format!("$.fit.tiers[{i}].min"),
                    "tiers go from best to worst with falling minimums",
                )
                .found(t.min.to_string())
                .hint("list the tiers from the highest `min` to the lowest"),
            );
        }
        prev = t.min;
    }
    if p.fit.tiers.last().map(|t| t.min > 0.0).unwrap_or(false) {
        let last = p.fit.tiers.len().saturating_sub(1);
        v.push(
            Issue::new(
                "tiers_leave_gap",
                format!("$.fit.tiers[{last}].min"),
                "the last tier must start at 0 so every score has a tier",
            )
            .expected("0")
            .hint("set the last tier's `min` to 0"),
        );
    }

    let e = &p.engagement;
    v.positive("$.engagement.saturation", e.saturation);
    v.positive("$.engagement.half_life_days", e.half_life_days);
    v.positive("$.engagement.burst.window_seconds", e.burst.window_seconds);
    // A `state.recent_events` below 2 is reported at its own path.
    let kept = p.state.recent_events;
    if e.burst.max_events == 0 || (kept >= 2 && e.burst.max_events >= kept) {
        v.push(
            Issue::new(
                "out_of_range",
                "$.engagement.burst.max_events",
                "a burst needs at least 1 event and fewer than `state.recent_events`",
            )
            .found(e.burst.max_events.to_string())
            .hint(if kept >= 2 {
                format!(
                    "set it from 1 to {} (bursts are found in the {kept} recent events kept), or raise `state.recent_events`",
                    kept - 1
                )
            } else {
                "set it to 1 or more (and `state.recent_events` above it)".to_string()
            }),
        );
    }
    v.unique("$.engagement.rules", e.rules.iter().map(|r| r.id.as_str()));
    for (i, r) in e.rules.iter().enumerate() {
        let path = At::Index(&At::Root("$.engagement.rules"), i);
        v.finite(format_args!("{path}.points"), r.points);
        if let Some(h) = r.half_life_days {
            v.positive(format_args!("{path}.half_life_days"), h);
        }
        if let Some(c) = r.daily_cap {
            v.positive(format_args!("{path}.daily_cap"), c);
        }
        for (j, t) in r.traits.iter().enumerate() {
            v.id(format_args!("{path}.traits[{j}]"), t);
        }
    }

    v.unique("$.bant", p.bant.iter().map(|d| d.id.as_str()));
    for (i, d) in p.bant.iter().enumerate() {
        v.unique(
            format_args!("$.bant[{i}].options"),
            d.options.iter().map(|o| o.id.as_str()),
        );
        if d.options.is_empty() {
            v.push(
                Issue::new(
                    "empty_section",
                    format!("$.bant[{i}].options"),
                    "a BANT dimension needs options",
                )
                .hint("add the answers it buckets, or remove the dimension"),
            );
        }
    }
    v.non_negative("$.lifecycle.engaged_min", p.lifecycle.engaged_min);
    // An event's dwell is at most a day: a longer minimum would count nothing.
    v.range(
        "$.state.consumed_min_dwell_seconds",
        p.state.consumed_min_dwell_seconds,
        0.0,
        86_400.0,
    );
    for (tier, min) in &p.lifecycle.mql {
        v.range(
            At::Key(&At::Root("$.lifecycle.mql"), tier),
            *min,
            0.0,
            100.0,
        );
    }
    v.unique(
        "$.lifecycle.hand_raise",
        p.lifecycle.hand_raise.iter().map(|h| h.id.as_str()),
    );
    v.unique("$.triggers", p.triggers.iter().map(|t| t.id.as_str()));

    v.unique("$.content", p.content.iter().map(|c| c.id.as_str()));
    for (i, c) in p.content.iter().enumerate() {
        let path = At::Index(&At::Root("$.content"), i);
        v.id(format_args!("{path}.format"), &c.format);
        v.range(format_args!("{path}.priority"), c.priority, 0.0, 1.0);
        let start = c
            .start
            .as_deref()
            .map(|d| v.date(format_args!("{path}.start"), d));
        let end = c
            .end
            .as_deref()
            .map(|d| v.date(format_args!("{path}.end"), d));
        if let (Some(Some(s)), Some(Some(e))) = (start, end) {
            if e < s {
                v.push(
                    Issue::new(
                        "end_before_start",
                        format!("{path}.end"),
                        "`end` is before `start`",
                    )
                    .hint("swap `start` and `end`, or fix the date"),
                );
            }
        }
        if let Some(pr) = c.prior {
            v.positive(format_args!("{path}.prior.alpha"), pr.alpha);
            v.positive(format_args!("{path}.prior.beta"), pr.beta);
        }
        // A topic listed twice would count twice: in the visitor's interest
        // at each read and against `max_per_topic`.
        for (j, t) in c.topics.iter().enumerate() {
            if c.topics.iter().take(j).any(|u| u == t) {
                v.push(
                    Issue::new(
                        "duplicate_id",
                        format!("{path}.topics[{j}]"),
                        format!("topic `{t}` is listed twice"),
                    )
                    .hint("list each topic of an item once"),
                );
            }
        }
        for (field, text, max) in [("title", &c.title, 300), ("url", &c.url, 500)] {
            if text.len() > max {
                v.push(
                    Issue::new(
                        "too_long",
                        format!("{path}.{field}"),
                        format!("{field} too long"),
                    )
                    .expected(format!("at most {max} bytes of UTF-8"))
                    .found(format!("{} bytes", text.len()))
                    .hint(format!("shorten the {field}")),
                );
            }
        }
    }
    // Distinct formats, counted without sorting 500 names (a catalogue has
    // a dozen formats, and items of one format often follow each other).
    let mut formats: Vec<&str> = Vec::new();
    for c in &p.content {
        let f = c.format.as_str();
        if formats.last() != Some(&f) && !formats.contains(&f) {
            formats.push(f);
            if formats.len() > limits::FORMATS {
                break;
            }
        }
    }
    if formats.len() > limits::FORMATS {
        v.push(
            Issue::new("too_many", "$.content", "too many distinct content formats")
                .expected(format!("at most {}", limits::FORMATS))
                .hint(format!(
                    "use at most {} formats across the catalogue",
                    limits::FORMATS
                )),
        );
    }
    v.unique("$.slots", p.slots.iter().map(|s| s.id.as_str()));
    for (i, s) in p.slots.iter().enumerate() {
        if s.count == 0 || s.count > limits::SLOT_COUNT {
            v.push(
                Issue::new(
                    "out_of_range",
                    format!("$.slots[{i}].count"),
                    "a slot shows 1 to 10 picks",
                )
                .found(s.count.to_string())
                .hint("set `count` from 1 to 10"),
            );
        }
    }
    v.unique("$.actions", p.actions.iter().map(|a| a.id.as_str()));
    let r = &p.recommend;
    for (name, w) in [
        ("stage_weight", r.stage_weight),
        ("next_stage_weight", r.next_stage_weight),
        ("role_weight", r.role_weight),
        ("industry_weight", r.industry_weight),
        ("topic_weight", r.topic_weight),
        ("priority_weight", r.priority_weight),
        ("action_weight", r.action_weight),
        ("exploration.weight", r.exploration.weight),
    ] {
        if !(0.0..=10.0).contains(&w) {
            // Negative is its own mistake; too large (or not a number) is a range.
            let code = if w < 0.0 {
                "negative_weight"
            } else {
                "out_of_range"
            };
            v.push(
                Issue::new(
                    code,
                    format!("$.recommend.{name}"),
                    "ranking weights are between 0 and 10",
                )
                .expected("0–10")
                .found(w.to_string())
                .hint("use a weight from 0 to 10 (0: the term counts for nothing)"),
            );
        }
    }
    for (name, cap) in [
        ("max_per_format", r.max_per_format),
        ("max_per_topic", r.max_per_topic),
    ] {
        if cap == 0 {
            v.push(
                Issue::new(
                    "out_of_range",
                    format!("$.recommend.{name}"),
                    format!("`{name}` must be at least 1"),
                )
                .found("0")
                .hint("set it to 1 or more (1: one pick of a format or topic per slot)"),
            );
        }
    }
    let shortlist = r.exploration.shortlist;
    if !(1..=limits::SHORTLIST).contains(&(shortlist as usize)) {
        v.push(
            Issue::new(
                "out_of_range",
                "$.recommend.exploration.shortlist",
                format!("sample 1 to {} top candidates per slot", limits::SHORTLIST),
            )
            .found(shortlist.to_string())
            .hint("to explore nothing, set `exploration.enabled` to false"),
        );
    }
    v.range("$.holdout.percent", p.holdout.percent, 0.0, 50.0);
    // At least 2: a burst is more than `engagement.burst.max_events` (1 or
    // more) of them.
    if !(2..=limits::RECENT_EVENTS).contains(&(p.state.recent_events as usize)) {
        v.push(
            Issue::new(
                "out_of_range",
                "$.state.recent_events",
                format!("keep 2 to {} recent events", limits::RECENT_EVENTS),
            )
            .found(p.state.recent_events.to_string())
            .hint(format!(
                "set it from 2 to {} (more than `engagement.burst.max_events`)",
                limits::RECENT_EVENTS
            )),
        );
    }
    if !(1..=limits::CONSUMED).contains(&(p.state.consumed_limit as usize)) {
        v.push(
            Issue::new(
                "out_of_range",
                "$.state.consumed_limit",
                format!("remember 1 to {} consumed items", limits::CONSUMED),
            )
            .found(p.state.consumed_limit.to_string())
            .hint(format!("set it from 1 to {}", limits::CONSUMED)),
        );
    }
    for (i, s) in p.signals.emit.iter().enumerate() {
        if !crate::signals::ALL_SIGNALS.contains(&s.as_str()) {
            v.push(
                Issue::new(
                    "unknown_signal",
                    format!("$.signals.emit[{i}]"),
                    format!("unknown signal `{s}`"),
                )
                .expected(format!("one of {}", crate::signals::ALL_SIGNALS.join(", ")))
                .hint_or(
                    crate::suggest::did_you_mean(s, crate::signals::ALL_SIGNALS.iter().copied()),
                    crate::error::ONE_OF_EXPECTED,
                ),
            );
        }
    }
}

struct Checker<'a> {
    issues: &'a mut Vec<Issue>,
}

impl Checker<'_> {
    fn push(&mut self, i: Issue) {
        self.issues.push(i);
    }
    fn id(&mut self, path: impl Display, id: &str) {
        let ok = !id.is_empty()
            && id.len() <= limits::ID_LEN
            && id.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b"_-.".contains(&b)
                    || b.is_ascii_uppercase()
            });
        if !ok {
            self.push(
                Issue::new(
                    "invalid_id",
                    path.to_string(),
                    "ids are 1–64 characters of letters, digits, `_`, `-` and `.`",
                )
                .found(format!("`{id}`"))
                .hint("rename it with letters, digits, `_`, `-` and `.` only, at most 64"),
            );
        }
    }
    fn unique<'b>(&mut self, path: impl Display, ids: impl Iterator<Item = &'b str>) {
        let ids: Vec<&str> = ids.collect();
        let repeats = crate::hash::repeats(&ids, false);
        for (i, (id, repeat)) in ids.iter().zip(repeats).enumerate() {
            self.id(format_args!("{path}[{i}].id"), id);
            if repeat {
                self.push(
                    Issue::new(
                        "duplicate_id",
                        format!("{path}[{i}].id"),
                        format!("id `{id}` is used twice"),
                    )
                    .hint("ids must be unique within a section"),
                );
            }
        }
    }
    fn count(&mut self, path: impl Display, n: usize, min: usize, max: usize) {
        if n < min {
            self.push(
                Issue::new(
                    "empty_section",
                    path.to_string(),
                    format!("needs at least {min}"),
                )
                .found(n.to_string())
                .hint(format!("add at least {min}")),
            );
        } else if n > max {
            self.push(
                Issue::new("too_many", path.to_string(), "too many entries")
                    .expected(format!("at most {max}"))
                    .found(n.to_string())
                    .hint(format!("keep at most {max}")),
            );
        }
    }
    fn finite(&mut self, path: impl Display, x: f64) {
        if !x.is_finite() || x.abs() > 1e9 {
            self.push(
                Issue::new("out_of_range", path.to_string(), "number out of range")
                    .expected("a number from -1e9 to 1e9")
                    .found(x.to_string())
                    .hint("use a number from -1e9 to 1e9"),
            );
        }
    }
    fn non_negative(&mut self, path: impl Display, x: f64) {
        if !(x.is_finite() && (0.0..=1e9).contains(&x)) {
            self.push(
                Issue::new(
                    "out_of_range",
                    path.to_string(),
                    "must be between 0 and 1e9",
                )
                .expected("a number from 0 to 1e9")
                .found(x.to_string())
                .hint("use a number from 0 to 1e9"),
            );
        }
    }
    fn positive(&mut self, path: impl Display, x: f64) {
        if !(x.is_finite() && x > 0.0 && x <= 1e9) {
            self.push(
                Issue::new(
                    "out_of_range",
                    path.to_string(),
                    "must be > 0 and at most 1e9",
                )
                .expected("a number > 0, at most 1e9")
                .found(x.to_string())
                .hint("use a number above 0, at most 1e9"),
            );
        }
    }
    fn range(&mut self, path: impl Display, x: f64, lo: f64, hi: f64) {
        if !(x.is_finite() && x >= lo && x <= hi) {
            self.push(
                Issue::new(
                    "out_of_range",
                    path.to_string(),
                    format!("must be between {lo} and {hi}"),
                )
                .expected(format!("{lo}–{hi}"))
                .found(x.to_string())
                .hint(format!("use a number from {lo} to {hi}")),
            );
        }
    }
    fn date(&mut self, path: impl Display, d: &str) -> Option<u64> {
        let r = parse_date_ms(d);
        if r.is_none() {
            self.push(
                Issue::new("invalid_date", path.to_string(), "not a date")
                    .expected("YYYY-MM-DD")
                    .found(d.to_string())
                    .hint("write the date as YYYY-MM-DD, e.g. 2027-01-31"),
            );
        }
        r
    }
}
