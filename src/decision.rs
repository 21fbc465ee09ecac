//! What `decide` returns: every number with its reasons, rounded to fixed
//! precision so the JSON is byte-identical on every runtime.

pub use crate::text::Text;
use serde::Serialize;

/// The full decision for one visitor at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Anonymous visitor id.
    pub visitor_id: String,
    /// Decision sequence number for this visitor (1-based).
    pub seq: u32,
    /// Time of the decision (ms).
    pub now: u64,
    /// Playbook id and revision.
    pub playbook: PlaybookRef,
    /// All gates passed or unknown.
    pub qualified: bool,
    /// Gate results.
    pub gates: Vec<GateResult>,
    /// ICP fit.
    pub fit: FitResult,
    /// Engagement.
    pub engagement: EngagementResult,
    /// Buying-journey stage.
    pub stage: StageResult,
    /// Buying-committee role.
    pub role: RoleResult,
    /// Lifecycle stage and why.
    pub lifecycle: LifecycleResult,
    /// Sales triggers fired by this decision.
    pub triggers: Vec<TriggerFired>,
    /// In the sticky holdout group (slots show their defaults).
    pub holdout: bool,
    /// Exploration changed at least one pick.
    pub explored: bool,
    /// Picks per requested slot.
    pub slots: Vec<SlotResult>,
    /// Next-best action.
    pub action: ActionResult,
    /// Segment-compatible track events to send (empty without consent).
    pub signals: Vec<crate::signals::Signal>,
}

/// Which playbook decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaybookRef {
    /// Playbook id.
    pub id: Text,
    /// Revision.
    pub revision: u32,
}

/// A gate's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateResult {
    /// Gate id.
    pub id: Text,
    /// Gate kind.
    pub kind: Text,
    /// `pass`, `fail` or `unknown` (attributes missing).
    pub status: &'static str,
}

/// One criterion's contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    /// Criterion id.
    pub id: Text,
    /// Matching band label, `otherwise`, or `unknown`.
    pub band: Text,
    /// Points after weight.
    pub points: f64,
}

/// Fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitResult {
    /// 0–100.
    pub score: f64,
    /// Tier id.
    pub tier: Text,
    /// Share (0–1) of the reachable points whose attribute is known.
    pub coverage: f64,
    /// Known criteria with points, largest contribution first.
    pub criteria: Vec<CriterionResult>,
    /// True when fit came from the state because the playbook has no criteria (browser-safe playbooks).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_state: bool,
}

/// A rule's decayed contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePoints {
    /// Rule id.
    pub rule: Text,
    /// Decayed points now.
    pub points: f64,
}

/// Engagement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementResult {
    /// 0–100 after decay and caps.
    pub score: f64,
    /// Raw decayed points.
    pub points: f64,
    /// Largest contributions (by absolute value), at most five.
    pub top: Vec<RulePoints>,
    /// Events ignored as bot-like bursts.
    pub ignored_events: u32,
}

impl EngagementResult {
    /// A host-flagged bot is never scored: no points, no contributions.
    pub(crate) fn silence(&mut self) {
        self.score = 0.0;
        self.points = 0.0;
        self.top.clear();
    }
}

/// A probability for one id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prob {
    /// Stage or role id.
    pub id: Text,
    /// Probability (4 decimals).
    pub p: f64,
}

/// Stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageResult {
    /// Current stage id.
    pub id: Text,
    /// Probability of the current stage.
    pub confidence: f64,
    /// The stage changed with this decision.
    pub changed: bool,
    /// The previous stage, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Text>,
    /// The change went back in the journey.
    pub moved_back: bool,
    /// Distribution over eligible stages, in playbook order.
    pub distribution: Vec<Prob>,
}

/// Role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleResult {
    /// Role id, or `unknown` below the confidence floor or with no evidence yet.
    pub id: Text,
    /// Probability of the top role.
    pub confidence: f64,
    /// Seniority from the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seniority: Option<Text>,
    /// Evidence used: `title` (or `department`), `bant`, `behaviour`.
    pub evidence: Vec<Text>,
    /// Distribution, in playbook order.
    pub distribution: Vec<Prob>,
}

/// Lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleResult {
    /// `anonymous`, `engaged`, `mql` or `sql` (the highest reached).
    pub stage: Text,
    /// Why, e.g. `tier A needs engagement 40, has 52.5`.
    pub reason: String,
    /// The stage was reached with this decision.
    pub changed: bool,
}

/// A fired sales trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerFired {
    /// Trigger id.
    pub id: Text,
    /// What the account team is told.
    pub label: Text,
}

/// One pick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pick {
    /// Content id.
    pub id: Text,
    /// Title.
    pub title: Text,
    /// URL.
    pub url: Text,
    /// Format.
    pub format: Text,
    /// Call-to-action kind.
    pub cta: Text,
    /// Ranking score (4 decimals).
    pub score: f64,
    /// Why, largest first: `stage 0.61`, `role 0.4`, `industry`, `explored`...
    pub reasons: Reasons,
}

/// Most reasons a pick gives (eight kinds, plus exploration and one spare).
pub const MAX_REASONS: usize = 10;

/// A pick's reasons, in order: one text and where each reason ends in it, so
/// a pick costs one allocation for its reasons, not one per reason (with the
/// list's own, 7 of them: in Wasm an allocation and its free cost ~40 ns).
/// Serialized as a list of strings.
#[derive(Clone, Default)]
pub struct Reasons {
    text: String,
    ends: [u32; MAX_REASONS],
    len: usize,
}

impl Reasons {
    /// Appends a reason written by `write`, which only appends (at most
    /// [`MAX_REASONS`]; the ones after are dropped).
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        if self.len >= MAX_REASONS {
            return;
        }
        if self.len == 0 {
            // A pick's reasons take ~120 bytes: one allocation, not five growths.
            self.text.reserve(128);
        }
        write(&mut self.text);
        let end = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        if let Some(slot) = self.ends.get_mut(self.len) {
            *slot = end;
            self.len += 1;
        }
    }
    /// Appends `reason`.
    pub fn push(&mut self, reason: &str) {
        self.push_with(|t| t.push_str(reason));
    }
    /// The reasons, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().take(self.len).map(move |&end| {
            let end = end as usize;
            let r = self.text.get(start..end).unwrap_or_default();
            start = end;
            r
        })
    }
    /// How many reasons there are.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Equal when they read as the same list.
impl PartialEq for Reasons {
    fn eq(&self, other: &Reasons) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Reasons {}

impl<'a> FromIterator<&'a str> for Reasons {
    fn from_iter<I: IntoIterator<Item = &'a str>>(reasons: I) -> Reasons {
        let mut r = Reasons::default();
        reasons.into_iter().for_each(|x| r.push(x));
        r
    }
}

impl std::fmt::Debug for Reasons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Reasons {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// A slot's picks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotResult {
    /// Slot id.
    pub slot: Text,
    /// Picks, best first.
    pub picks: Vec<Pick>,
    /// The slot shows its default (holdout, or nothing eligible).
    pub default: bool,
}

/// Next-best action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionResult {
    /// Action id.
    pub id: Text,
    /// Why, for people.
    pub label: Text,
    /// Content offered as the call to action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cta: Option<Text>,
}

#[cfg(test)]
mod tests {
    use super::{Reasons, MAX_REASONS};

    /// The reasons read back as pushed (empty ones too), past the cap are
    /// dropped, and they serialize as the list of strings they replace.
    #[test]
    fn reasons_are_a_list_of_strings() {
        let list = [
            "stage supplier_selection 0.33",
            "",
            "industry \"x\" é",
            "priority 0.90",
        ];
        let r: Reasons = list.into_iter().collect();
        assert_eq!(r.iter().collect::<Vec<_>>(), list);
        assert_eq!(r.len(), 4);
        assert_eq!(
            serde_json::to_string(&r).ok(),
            serde_json::to_string(&list).ok()
        );
        assert_eq!(format!("{r:?}"), format!("{list:?}"));
        let many: Vec<String> = (0..MAX_REASONS + 3).map(|i| i.to_string()).collect();
        let r: Reasons = many.iter().map(String::as_str).collect();
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            many.get(..MAX_REASONS).unwrap_or_default()
        );
        assert!(Reasons::default().is_empty());
        assert_eq!(Reasons::default().iter().count(), 0);
    }
}
