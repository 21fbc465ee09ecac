//! The compiled playbook: ids interned to indices, conditions compiled, bands
//! and maxima precomputed, so `observe` and `decide` do no parsing.

mod compile;
#[cfg(feature = "compiled")]
pub mod compiled;
#[cfg(feature = "compiled")]
mod invariants;
mod matcher;

pub use matcher::EventMatcher;
pub(crate) use matcher::EventView;

use crate::condition::Condition;
use crate::error::Error;
use crate::lists::Lists;
use crate::playbook::GateKind;
use crate::text::Text;

/// A compiled playbook, ready to classify visitors. Build it once, use it for
/// every visitor.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub struct Engine {
    pub(crate) id: Text,
    pub(crate) revision: u32,
    /// FNV-1a of the playbook id: a state from another playbook is refused.
    pub(crate) id_hash: u32,
    pub(crate) lists: Lists,
    pub(crate) stages: Vec<Stage>,
    pub(crate) stage_model: StageModel,
    pub(crate) roles: Vec<Role>,
    pub(crate) role_model: RoleModel,
    pub(crate) gates: Vec<Gate>,
    pub(crate) criteria: Vec<Criterion>,
    /// Sum of each criterion's best points × weight: the 100 of the fit score.
    pub(crate) fit_max: f64,
    pub(crate) tiers: Vec<Tier>,
    pub(crate) engagement: Engagement,
    pub(crate) traits: Vec<String>,
    pub(crate) bant: Vec<BantDim>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) triggers: Vec<Trigger>,
    pub(crate) content: Vec<Content>,
    /// (content id hash, index), sorted: consumed content (kept in the state
    /// by hash) is found without a search per item, and an item by its id.
    pub(crate) content_by_hash: Vec<(u32, usize)>,
    /// The content items' distinct `when` conditions: items with the same
    /// condition share one, evaluated at most once per decision.
    pub(crate) content_when: Vec<Condition>,
    pub(crate) formats: Vec<Text>,
    pub(crate) topics: Vec<String>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) actions: Vec<Action>,
    pub(crate) recommend: Recommend,
    pub(crate) holdout_percent: f64,
    pub(crate) holdout_seed: String,
    pub(crate) recent_limit: usize,
    pub(crate) consumed_limit: usize,
    pub(crate) consumed_min_dwell: f64,
    /// Bit i set: signal `crate::signals::ALL_SIGNALS[i]` is emitted.
    pub(crate) signals_mask: u32,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Stage {
    pub id: Text,
    pub hash: u32,
    pub prior: f64,
    pub requires: Option<Condition>,
    pub next: Option<usize>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct StageModel {
    pub half_life_ms: f64,
    pub hysteresis: f64,
    pub content_view_weight: f64,
    pub account_prior_weight: f64,
    pub rules: Vec<StageRule>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct StageRule {
    pub on: EventMatcher,
    pub stage: usize,
    pub weight: f64,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Role {
    pub id: Text,
    pub hash: u32,
    pub prior: f64,
    /// Title phrases as normalised token lists.
    pub titles: Vec<Vec<String>>,
    /// Department phrases as normalised token lists.
    pub departments: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct RoleModel {
    pub title_weight: f64,
    pub content_view_weight: f64,
    pub half_life_ms: f64,
    pub min_confidence: f64,
    pub synonyms: Vec<(String, Vec<String>)>,
    pub seniority: Vec<Seniority>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Seniority {
    pub id: Text,
    pub hash: u32,
    pub titles: Vec<Vec<String>>,
    pub multiplier: f64,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Gate {
    pub id: Text,
    pub kind: GateKind,
    pub condition: Condition,
    pub exclude: bool,
    /// Attribute paths the condition reads; all unknown → the gate is unknown.
    pub paths: Vec<crate::condition::Path>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Criterion {
    pub id: Text,
    pub path: crate::condition::Path,
    pub weight: f64,
    pub bands: Vec<Band>,
    pub otherwise: f64,
    /// Best reachable points × weight (≥ 0).
    pub max: f64,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Band {
    pub label: Text,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Lower-cased values.
    pub in_values: Option<Vec<String>>,
    pub when: Option<Condition>,
    pub points: f64,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Tier {
    pub id: Text,
    pub min: f64,
    /// Engagement needed for MQL at this tier, if this tier can be MQL.
    pub mql: Option<f64>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Engagement {
    pub saturation: f64,
    pub burst_window_ms: u64,
    pub burst_max: usize,
    pub rules: Vec<EngagementRule>,
    /// (rule id hash, index into `rules`), sorted: state entries find their rule by binary search.
    pub by_hash: Vec<(u32, usize)>,
}

impl Engagement {
    /// The rule a state entry (keyed by the rule id's hash) belongs to.
    pub(crate) fn rule(&self, hash: u32) -> Option<&EngagementRule> {
        let i = self.by_hash.binary_search_by_key(&hash, |(h, _)| *h).ok()?;
        self.by_hash.get(i).and_then(|(_, ix)| self.rules.get(*ix))
    }

    /// `rule`, for hashes asked in ascending order (a state's entries): a
    /// forward walk of the index instead of a search per entry. Where the walk
    /// is not sure to find what the search would (hashes out of order, two
    /// rules with one hash), it asks `rule`, so the answers are the same.
    pub(crate) fn cursor<'a>(&'a self) -> impl FnMut(u32) -> Option<&'a EngagementRule> + 'a {
        let mut at = 0usize;
        move |hash| {
            while self.by_hash.get(at).is_some_and(|(h, _)| *h < hash) {
                at += 1;
            }
            match (self.by_hash.get(at), self.by_hash.get(at + 1)) {
                (Some((h, ix)), next)
                    if *h == hash && !matches!(next, Some((n, _)) if *n == hash) =>
                {
                    self.rules.get(*ix)
                }
                _ => self.rule(hash),
            }
        }
    }
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct EngagementRule {
    pub id: Text,
    pub hash: u32,
    pub on: EventMatcher,
    /// Points in thousandths.
    pub milli: i64,
    pub half_life_ms: f64,
    /// Daily cap in thousandths of a point.
    pub cap_milli: Option<i64>,
    pub only_if: Option<Condition>,
    pub traits: Vec<usize>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct BantDim {
    pub id: String,
    pub hash: u32,
    pub field: String,
    pub options: Vec<BantOption>,
}

/// The bucket of a BANT answer that matches none of a dimension's options.
pub(crate) const OTHER_BUCKET: &str = "other";

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct BantOption {
    pub id: String,
    pub hash: u32,
    /// Lower-cased accepted answers (the id included).
    pub values: Vec<String>,
    pub qualifying: bool,
    pub role: Option<usize>,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Lifecycle {
    pub engaged_min: f64,
    pub hand_raise: Vec<(String, EventMatcher)>,
    pub bant_sql: bool,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Trigger {
    pub id: Text,
    pub label: Text,
    pub hash: u32,
    pub condition: Condition,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Content {
    pub id: Text,
    pub hash: u32,
    pub title: Text,
    pub url: Text,
    pub format: usize,
    pub stage_mask: u32,
    pub stage_count: u32,
    pub role_mask: u32,
    pub role_count: u32,
    /// Lower-cased industries; empty means all.
    pub industries: Vec<String>,
    pub topics: Vec<usize>,
    pub gated: bool,
    pub priority: f64,
    pub start_ms: Option<u64>,
    /// Exclusive end (the day after `end`).
    pub end_ms: Option<u64>,
    /// The item's condition, an index into [`Engine::content_when`]; none:
    /// the item is for everyone (an always-true condition is none too).
    pub when: Option<usize>,
    pub cta: Text,
    pub alpha: f64,
    pub beta: f64,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Slot {
    pub id: Text,
    pub format_mask: u64,
    pub count: usize,
    pub default: usize,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Action {
    pub id: Text,
    pub label: Text,
    pub when: Option<Condition>,
    pub cta: Option<usize>,
}

/// Ranking settings: the playbook's own (already validated), plus what had to be compiled.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Recommend {
    pub spec: crate::playbook::RecommendSpec,
    pub gated_requires: Option<Condition>,
    pub explore: bool,
    pub shortlist: usize,
}

impl Engine {
    /// Compiles playbook JSON text, reporting every problem at once.
    pub fn from_json(text: &str) -> Result<Engine, Error> {
        compile::compile_text(text)
    }
    /// Compiles a playbook given as a JSON value (the same reading as its text).
    pub fn from_value(value: serde_json::Value) -> Result<Engine, Error> {
        compile::compile_text(&value.to_string())
    }
    /// Compiles through the element-by-element reading that reports every
    /// structural problem; `from_json` takes it only for a playbook the direct
    /// read rejects. Public for the tests that hold both readings equal.
    #[doc(hidden)]
    pub fn from_value_element_wise(value: serde_json::Value) -> Result<Engine, Error> {
        compile::compile_value(value)
    }
    /// The playbook's id.
    pub fn playbook_id(&self) -> &str {
        &self.id
    }
    /// The playbook's revision.
    pub fn revision(&self) -> u32 {
        self.revision
    }
    /// Slot ids, in playbook order.
    pub fn slot_ids(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.id.as_str()).collect()
    }
    /// Each catalogue item's `(url, id)`, in playbook order: how a host maps
    /// a request's path to the page's `content_id`.
    pub fn content_urls(&self) -> Vec<(&str, &str)> {
        self.content
            .iter()
            .map(|c| (c.url.as_str(), c.id.as_str()))
            .collect()
    }
    /// The BANT dimension and bucket a state entry names.
    pub(crate) fn bant_option(&self, dim: u32, opt: u32) -> Option<(&BantDim, &BantOption)> {
        let d = self.bant.iter().find(|d| d.hash == dim)?;
        d.options.iter().find(|o| o.hash == opt).map(|o| (d, o))
    }
    /// The content items whose id hashes to `hash` (ids may collide).
    pub(crate) fn content_with_hash(&self, hash: u32) -> impl Iterator<Item = usize> + '_ {
        let from = self.content_by_hash.partition_point(|(h, _)| *h < hash);
        self.content_by_hash
            .iter()
            .skip(from)
            .take_while(move |(h, _)| *h == hash)
            .map(|(_, ix)| *ix)
    }
    /// Looks a content item up by id (by its hash, then the id itself).
    pub(crate) fn content_by_id(&self, id: &str) -> Option<usize> {
        self.content_with_hash(crate::hash::fnv1a32(id.as_bytes()))
            .find(|ix| self.content.get(*ix).is_some_and(|c| c.id.as_str() == id))
    }
    /// The catalogue item an optional content id names, if any.
    pub(crate) fn content_named(&self, id: Option<&str>) -> Option<&Content> {
        id.and_then(|id| self.content_by_id(id))
            .and_then(|i| self.content.get(i))
    }
}

/// Bit `i` of a 64-bit mask (0 when out of range).
pub(crate) fn bit64(i: usize) -> u64 {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .unwrap_or(0)
}

/// Bit `i` of a 32-bit mask (0 when out of range).
pub(crate) fn bit32(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u32.checked_shl(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(e: &Engagement, asked: &[u32]) {
        let mut cursor = e.cursor();
        for h in asked {
            let a = cursor(*h).map(|r| r as *const EngagementRule);
            let b = e.rule(*h).map(|r| r as *const EngagementRule);
            assert_eq!(a, b, "hash {h} in {asked:?}");
        }
    }

    #[test]
    fn the_cursor_finds_what_the_search_finds() {
        let engine = Engine::from_json(include_str!("../../examples/acme/playbook.json")).unwrap();
        let mut e = engine.engagement.clone();
        let mut hashes: Vec<u32> = e.by_hash.iter().map(|(h, _)| *h).collect();
        assert!(hashes.len() > 3);
        answers(&e, &hashes);
        // Not a rule, before, between and after them.
        let mut with_strangers = hashes.clone();
        with_strangers.extend([0, 1, u32::MAX, hashes[1].wrapping_add(1)]);
        crate::sort::sort(&mut with_strangers);
        answers(&e, &with_strangers);
        // Out of order (a tampered or hand-made state): the search answers.
        hashes.reverse();
        answers(&e, &hashes);
        hashes.swap(0, 2);
        answers(&e, &hashes);
        // Two rules with one hash: whichever the search picks.
        let (h, _) = e.by_hash[1];
        e.by_hash.push((h, 0));
        crate::sort::sort(&mut e.by_hash);
        hashes.reverse();
        answers(&e, &hashes);
        crate::sort::sort(&mut hashes);
        answers(&e, &hashes);
    }
}
