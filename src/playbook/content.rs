//! The playbook's content side: the catalogue, page slots, next-best actions,
//! ranking, holdout, state bounds and signals.

use super::{read, ConditionDoc};
use crate::text::Text;

/// A short name (a format, stage, role, industry or topic), kept inline
/// without an allocation up to 23 bytes: a catalogue names thousands.
pub type Name = smol_str::SmolStr;
use serde::{Deserialize, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A content item.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ContentSpec {
    /// Content id.
    pub id: Text,
    /// Title.
    pub title: Text,
    /// URL path.
    pub url: Text,
    /// Format: blog, guide, comparison, case_study, roi_calculator, pricing, security, docs, webinar, demo, trial, careers, support, ...
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub format: Name,
    /// Stages it serves.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub stages: Vec<Name>,
    /// Roles it speaks to.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub roles: Vec<Name>,
    /// Industries it is about (empty: all).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub industries: Vec<Name>,
    /// Topics.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub topics: Vec<Name>,
    /// Gated behind a form.
    #[serde(default)]
    pub gated: bool,
    /// Editorial priority 0–1.
    #[serde(default)]
    pub priority: f64,
    /// First day shown (YYYY-MM-DD, UTC).
    #[serde(default)]
    pub start: Option<String>,
    /// Last day shown (YYYY-MM-DD, UTC, inclusive).
    #[serde(default)]
    pub end: Option<String>,
    /// Targeting condition over the decision attributes.
    #[serde(default)]
    pub when: Option<ConditionDoc>,
    /// Call to action kind: read, download, watch, demo, trial, contact_sales, calculate...
    #[serde(default = "read")]
    pub cta: Text,
    /// Beta prior for exploration (successes+1, failures+1).
    #[serde(default)]
    pub prior: Option<PriorSpec>,
}

/// Beta prior of a content item's click-through.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PriorSpec {
    /// Alpha (> 0).
    pub alpha: f64,
    /// Beta (> 0).
    pub beta: f64,
}

/// A page slot.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    /// Slot id, e.g. `hero`.
    pub id: String,
    /// Formats allowed in the slot.
    pub formats: Vec<String>,
    /// Number of picks (1–10).
    #[serde(default = "one_u32")]
    pub count: u32,
    /// Content shown to the holdout group and when nothing is eligible.
    pub default: String,
}

/// A next-best action, chosen by the first rule whose condition holds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Action id: `talk_to_sales`, `self_serve`, `nurture` or your own.
    pub id: String,
    /// Why, for people.
    #[serde(default)]
    pub label: String,
    /// Condition over the decision attributes.
    #[serde(default)]
    pub when: Option<ConditionDoc>,
    /// Content offered as the call to action.
    #[serde(default)]
    pub cta: Option<String>,
}

/// Ranking.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RecommendSpec {
    /// Weight of the stage-distribution affinity.
    pub stage_weight: f64,
    /// Weight of the pull toward the next stage.
    pub next_stage_weight: f64,
    /// Weight of the role affinity.
    pub role_weight: f64,
    /// Weight of an industry match.
    pub industry_weight: f64,
    /// Weight of topic interest.
    pub topic_weight: f64,
    /// Weight of editorial priority.
    pub priority_weight: f64,
    /// Boost of the next-best action's call-to-action content, so slots agree with the action.
    pub action_weight: f64,
    /// At most this many picks of one format in a slot (each slot counts its own).
    pub max_per_format: u32,
    /// At most this many picks sharing a topic in a slot (each slot counts its own).
    pub max_per_topic: u32,
    /// Condition a visitor must meet for gated content to be eligible.
    pub gated_requires: Option<ConditionDoc>,
    /// Thompson-sampling exploration.
    pub exploration: ExplorationSpec,
}

impl Default for RecommendSpec {
    fn default() -> Self {
        RecommendSpec {
            stage_weight: 1.0,
            next_stage_weight: 0.4,
            role_weight: 0.5,
            industry_weight: 0.3,
            topic_weight: 0.3,
            priority_weight: 0.2,
            action_weight: 0.5,
            max_per_format: 2,
            max_per_topic: 2,
            gated_requires: None,
            exploration: ExplorationSpec::default(),
        }
    }
}

/// Exploration settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ExplorationSpec {
    /// Whether to explore at all.
    pub enabled: bool,
    /// Weight of the sampled click-through deviation from its mean.
    pub weight: f64,
    /// How many top candidates per slot are sampled (1–32).
    pub shortlist: u32,
}

impl Default for ExplorationSpec {
    fn default() -> Self {
        ExplorationSpec {
            enabled: true,
            weight: 0.5,
            shortlist: 4,
        }
    }
}

/// Sticky holdout group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct HoldoutSpec {
    /// Percent of visitors (0–50) held out.
    pub percent: f64,
    /// Hash seed (GrowthBook hash v2 of seed + visitor id).
    pub seed: String,
}

impl Default for HoldoutSpec {
    fn default() -> Self {
        HoldoutSpec {
            percent: 0.0,
            seed: "holdout".to_string(),
        }
    }
}

/// Visitor-state bounds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct StateSpec {
    /// Recent events kept exactly (2–64, more than `engagement.burst.max_events`).
    pub recent_events: u32,
    /// Consumed content remembered (most recent first, 1–256).
    pub consumed_limit: u32,
    /// Dwell (seconds, 0 to 86400: an event's dwell is at most a day) from
    /// which a page view counts as consumed.
    pub consumed_min_dwell_seconds: f64,
}

impl Default for StateSpec {
    fn default() -> Self {
        StateSpec {
            recent_events: 12,
            consumed_limit: 48,
            consumed_min_dwell_seconds: 5.0,
        }
    }
}

/// Signals to emit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct SignalsSpec {
    /// Signal names; all when absent.
    pub emit: Vec<String>,
}

impl Default for SignalsSpec {
    fn default() -> Self {
        SignalsSpec {
            emit: crate::signals::ALL_SIGNALS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

fn one_u32() -> u32 {
    1
}
