//! The playbook document: what marketing operations author (JSON), as typed
//! serde structures. `parse` reads and checks it; `crate::engine` compiles it.
//!
//! Every struct denies unknown fields so that a typo is an error with a
//! did-you-mean hint instead of a silently ignored setting.

pub mod browser_safe;
mod conditions;
mod content;
mod parse;
mod validate;

pub use content::*;

pub(crate) use conditions::CONDITION_NESTING_FREE;
pub use parse::{
    parse_json, parse_value, too_large, Parsed, FORMAT_VERSION, MAX_DEPTH, MAX_PLAYBOOK_BYTES,
};
pub use validate::limits;
/// The most content items a playbook holds.
pub use validate::limits::CONTENT as MAX_CONTENT_ITEMS;
/// The largest seniority multiplier a playbook may give (the collector's views take weights up to it).
pub use validate::limits::SENIORITY_MULTIPLIER as MAX_SENIORITY_MULTIPLIER;
pub(crate) use validate::validate;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A condition in the GrowthBook/MongoDB condition language (see README).
pub type ConditionDoc = Value;

/// The whole playbook.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Optional `$schema` reference for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Format version of this document; only 1 exists.
    pub version: u32,
    /// Stable identifier of the playbook (`[a-z0-9_.-]`, ≤ 64 chars).
    pub id: String,
    /// Revision number, raised on every published change.
    pub revision: u32,
    /// Human name.
    #[serde(default)]
    pub name: String,
    /// Named lists for the `$inList` operator (target accounts, competitors...), clear or hashed.
    #[serde(default)]
    pub lists: BTreeMap<String, crate::lists::ListSpec>,
    /// Buying-journey and customer stages, in journey order.
    pub stages: Vec<StageSpec>,
    /// How stage evidence is gathered and smoothed.
    #[serde(default)]
    pub stage_model: StageModelSpec,
    /// Buying-committee roles.
    pub roles: Vec<RoleSpec>,
    /// How roles are inferred from titles and behaviour.
    #[serde(default)]
    pub role_model: RoleModelSpec,
    /// Pre-qualification gates: territory, industries, size, exclusions.
    #[serde(default)]
    pub gates: Vec<GateSpec>,
    /// Ideal-customer-profile fit.
    pub fit: FitSpec,
    /// Engagement scoring.
    pub engagement: EngagementSpec,
    /// BANT form answers, mapped to coarse buckets.
    #[serde(default)]
    pub bant: Vec<BantDimensionSpec>,
    /// Lifecycle thresholds (engaged, MQL matrix, hand-raise).
    pub lifecycle: LifecycleSpec,
    /// Sales triggers: conditions over the decision that fire once.
    #[serde(default)]
    pub triggers: Vec<TriggerSpec>,
    /// Content catalogue.
    pub content: Vec<ContentSpec>,
    /// Page slots that can be filled.
    pub slots: Vec<SlotSpec>,
    /// Next-best actions, first match wins.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// Ranking weights, diversity and exploration.
    #[serde(default)]
    pub recommend: RecommendSpec,
    /// Sticky holdout group.
    #[serde(default)]
    pub holdout: HoldoutSpec,
    /// Visitor-state bounds.
    #[serde(default)]
    pub state: StateSpec,
    /// Which signals to emit.
    #[serde(default)]
    pub signals: SignalsSpec,
}

/// A stage of the buying journey or of the customer life.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Stage id, e.g. `solution_exploration`.
    pub id: String,
    /// Human label.
    #[serde(default)]
    pub label: String,
    /// Prior weight before any evidence (≥ 0).
    #[serde(default = "one")]
    pub prior: f64,
    /// Condition over the visitor's attributes that must hold for the stage to be possible
    /// (e.g. customer stages require `{"account.customer": true}`).
    #[serde(default)]
    pub requires: Option<ConditionDoc>,
    /// The stage content should pull the visitor toward next; defaults to the next in the list.
    #[serde(default)]
    pub next: Option<String>,
}

/// Stage inference settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct StageModelSpec {
    /// Half-life of stage evidence, in days.
    pub half_life_days: f64,
    /// Relative margin: a new stage replaces the current one only with at least
    /// (1 + hysteresis) × the current stage's probability.
    pub hysteresis: f64,
    /// Evidence a content view adds, split over the content's stages.
    pub content_view_weight: f64,
    /// Prior weight added to the account snapshot's stage.
    pub account_prior_weight: f64,
    /// Key events that are evidence for a stage.
    pub rules: Vec<StageRuleSpec>,
}

impl Default for StageModelSpec {
    fn default() -> Self {
        StageModelSpec {
            half_life_days: 21.0,
            hysteresis: 0.2,
            content_view_weight: 1.0,
            account_prior_weight: 3.0,
            rules: Vec::new(),
        }
    }
}

/// A key event that is evidence for a stage.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StageRuleSpec {
    /// Rule id.
    pub id: String,
    /// Event type (`page_view`, `cta_click`, `form_submit`, `download`, `video_play`, `search`, `chat_open`, `trial_start`, `custom`) or `*`.
    pub event: String,
    /// Content formats that match (any when absent).
    #[serde(default)]
    pub formats: Option<Vec<String>>,
    /// Condition over the event document (`type`, `content.*`, `cta`, `form`, `dwell_seconds`, `name`; form fields are not readable: they may be personal).
    #[serde(default)]
    pub when: Option<ConditionDoc>,
    /// Stage the event is evidence for.
    pub stage: String,
    /// Evidence weight (> 0).
    pub weight: f64,
}

/// A buying-committee role.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Role id, e.g. `technical_evaluator`.
    pub id: String,
    /// Human label.
    #[serde(default)]
    pub label: String,
    /// Title keywords or phrases (after normalisation) that indicate this role.
    #[serde(default)]
    pub titles: Vec<String>,
    /// Department names or phrases (normalised as titles are) that indicate
    /// this role when the title names none (`procurement`, `purchasing`).
    #[serde(default)]
    pub departments: Vec<String>,
    /// Prior weight (≥ 0).
    #[serde(default = "one")]
    pub prior: f64,
}

/// Role inference settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RoleModelSpec {
    /// Evidence a matching job title adds (does not decay).
    pub title_weight: f64,
    /// Evidence a content view adds, split over the content's roles.
    pub content_view_weight: f64,
    /// Half-life of behavioural role evidence, in days.
    pub half_life_days: f64,
    /// Below this probability (as shown, 4 decimals) the role is reported as
    /// `unknown`, as it is with no evidence yet, whatever the priors.
    pub min_confidence: f64,
    /// Title abbreviations expanded before matching (`vp` → `vice president`).
    pub synonyms: BTreeMap<String, String>,
    /// Seniority levels by title keyword, with their engagement multipliers.
    pub seniority: Vec<SenioritySpec>,
}

impl Default for RoleModelSpec {
    fn default() -> Self {
        RoleModelSpec {
            title_weight: 6.0,
            content_view_weight: 1.0,
            half_life_days: 30.0,
            min_confidence: 0.35,
            synonyms: BTreeMap::new(),
            seniority: Vec::new(),
        }
    }
}

/// A seniority level recognised from the job title.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SenioritySpec {
    /// Level id, e.g. `c_level`.
    pub id: String,
    /// Title keywords or phrases.
    pub titles: Vec<String>,
    /// Engagement multiplier for the account view (Demandbase: C-level 2.0, VP 1.5...).
    #[serde(default = "one")]
    pub multiplier: f64,
}

/// Kind of a pre-qualification gate (for reporting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Countries/regions served.
    Territory,
    /// Industries served.
    Industry,
    /// Company size limits.
    Size,
    /// Competitors, ISPs, education, free-mail...
    Exclusion,
    /// Anything else.
    Custom,
}

/// A pre-qualification gate: `require` must hold, or `exclude` must not.
/// A gate whose attributes are all unknown neither passes nor fails: it is `unknown`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// Gate id.
    pub id: String,
    /// Human label.
    #[serde(default)]
    pub label: String,
    /// Kind, for reports.
    pub kind: GateKind,
    /// Condition that must hold.
    #[serde(default)]
    pub require: Option<ConditionDoc>,
    /// Condition that must not hold.
    #[serde(default)]
    pub exclude: Option<ConditionDoc>,
}

/// ICP fit: weighted criteria and tiers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FitSpec {
    /// Criteria; each scores its first matching band.
    pub criteria: Vec<CriterionSpec>,
    /// Tiers from best to worst, each with the minimum 0–100 score.
    pub tiers: Vec<TierSpec>,
}

/// One fit criterion over one attribute.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CriterionSpec {
    /// Criterion id.
    pub id: String,
    /// Human label.
    #[serde(default)]
    pub label: String,
    /// Attribute path the criterion is about (unknown → neutral, 0 points).
    pub attribute: String,
    /// Multiplier of every band's points (≥ 0).
    #[serde(default = "one")]
    pub weight: f64,
    /// Bands, first match wins.
    pub bands: Vec<BandSpec>,
    /// Points when the attribute is known but no band matches.
    #[serde(default)]
    pub otherwise: f64,
}

/// A band (sub-criterion): `min`/`max` and `in` test the criterion's attribute,
/// `when` can test anything; all given tests must hold.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// Human label, e.g. `10–50 employees in the US north-east`.
    #[serde(default)]
    pub label: String,
    /// Inclusive lower bound of the numeric attribute.
    #[serde(default)]
    pub min: Option<f64>,
    /// Exclusive upper bound of the numeric attribute.
    #[serde(default)]
    pub max: Option<f64>,
    /// Values (strings, case-insensitive) of the attribute, or of any element when it is an array.
    #[serde(default, rename = "in")]
    pub in_values: Option<Vec<String>>,
    /// Further condition over all attributes.
    #[serde(default)]
    pub when: Option<ConditionDoc>,
    /// Points (may be negative).
    pub points: f64,
}

/// A fit tier, e.g. `A` from 75.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Tier id.
    pub id: String,
    /// Minimum fit score (0–100).
    pub min: f64,
}

/// Engagement scoring.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EngagementSpec {
    /// Raw points that map to an engagement score of 100.
    pub saturation: f64,
    /// Default half-life in days for rules that set none.
    #[serde(default = "thirty")]
    pub half_life_days: f64,
    /// Bot-like bursts score nothing (a hand-raise or BANT answers early in
    /// one still count).
    #[serde(default)]
    pub burst: BurstSpec,
    /// Rules.
    pub rules: Vec<EngagementRuleSpec>,
}

/// A burst: more than `max_events` events within `window_seconds`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct BurstSpec {
    /// Window length in seconds.
    pub window_seconds: f64,
    /// Events allowed in the window before further ones count as a burst.
    pub max_events: u32,
}

impl Default for BurstSpec {
    fn default() -> Self {
        BurstSpec {
            window_seconds: 10.0,
            max_events: 6,
        }
    }
}

/// An engagement rule: points for matching events, with decay and a daily cap.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EngagementRuleSpec {
    /// Rule id.
    pub id: String,
    /// Human label.
    #[serde(default)]
    pub label: String,
    /// Event type (`page_view`, `cta_click`, `form_submit`, `download`, `video_play`, `search`, `chat_open`, `trial_start`, `custom`) or `*`.
    pub event: String,
    /// Content formats that match (any when absent).
    #[serde(default)]
    pub formats: Option<Vec<String>>,
    /// Condition over the event document (`type`, `content.*`, `cta`, `form`, `dwell_seconds`, `name`; form fields are not readable: they may be personal).
    #[serde(default)]
    pub when: Option<ConditionDoc>,
    /// Points per matching event (negative allowed).
    pub points: f64,
    /// Half-life in days (engagement default when absent).
    #[serde(default)]
    pub half_life_days: Option<f64>,
    /// Maximum absolute points per UTC day.
    #[serde(default)]
    pub daily_cap: Option<f64>,
    /// Condition over the visitor (at decide time) for the rule's points to count,
    /// e.g. support pages count negative only for non-customers.
    #[serde(default)]
    pub only_if: Option<ConditionDoc>,
    /// Named traits this rule's decayed points also feed (e.g. `self_serve`).
    #[serde(default)]
    pub traits: Vec<String>,
}

/// A BANT dimension asked in a form.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BantDimensionSpec {
    /// `budget`, `authority`, `need` or `timeline`.
    pub id: String,
    /// Form field that carries the answer.
    pub field: String,
    /// Coarse buckets; a free-text answer that matches none is `other`.
    pub options: Vec<BantOptionSpec>,
}

/// One bucket of a BANT answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BantOptionSpec {
    /// Bucket id, e.g. `50k_250k`.
    pub id: String,
    /// Form values (case-insensitive) that fall in this bucket, besides the id itself.
    #[serde(default)]
    pub values: Vec<String>,
    /// Whether this answer qualifies.
    #[serde(default)]
    pub qualifying: bool,
    /// Role the answer is evidence for (e.g. authority `decision_maker` → `economic_buyer`).
    #[serde(default)]
    pub role: Option<String>,
}

/// Lifecycle thresholds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LifecycleSpec {
    /// Engagement score from which a visitor is `engaged`.
    pub engaged_min: f64,
    /// MQL matrix: per fit tier, the engagement score needed (tiers absent never qualify).
    pub mql: BTreeMap<String, f64>,
    /// Hand-raise events that make a visitor `sql`.
    #[serde(default)]
    pub hand_raise: Vec<HandRaiseSpec>,
    /// A complete, qualifying BANT answer set makes a visitor `sql`.
    #[serde(default = "yes")]
    pub bant_sql: bool,
}

/// A hand-raise event (demo request, contact sales).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HandRaiseSpec {
    /// Id.
    pub id: String,
    /// Event type (`page_view`, `cta_click`, `form_submit`, `download`, `video_play`, `search`, `chat_open`, `trial_start`, `custom`) or `*`.
    pub event: String,
    /// Content formats that match (any when absent).
    #[serde(default)]
    pub formats: Option<Vec<String>>,
    /// Condition over the event document (`type`, `content.*`, `cta`, `form`, `dwell_seconds`, `name`; form fields are not readable: they may be personal).
    #[serde(default)]
    pub when: Option<ConditionDoc>,
}

/// A sales trigger: fires once when its condition over the decision holds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// Trigger id.
    pub id: String,
    /// What the account team is told.
    #[serde(default)]
    pub label: String,
    /// Condition over the decision attributes.
    pub when: ConditionDoc,
}

fn one() -> f64 {
    1.0
}
fn thirty() -> f64 {
    30.0
}
fn yes() -> bool {
    true
}
pub(crate) fn read() -> crate::text::Text {
    crate::text::Text::lit("read")
}
