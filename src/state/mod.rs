//! The visitor state: a bounded summary of everything seen so far. Recent
//! events are kept exactly; older history is folded into decayed aggregates
//! valued at one time, which is exact for exponential decay.

mod codec;
mod varint;

pub use codec::{decode_state, encode_state, MAX_ENCODED_LEN};

use crate::context::Campaign;
use crate::error::{Error, Issue};

/// Units of a point in the state's aggregates: millionths, so that decay
/// and growth steps of frequent events are not rounded away.
pub const UNIT: f64 = 1_000_000.0;
/// Largest aggregate value (millionths of a point: 1e9 points) a state holds; decoding refuses more.
pub const MAX_VALUE: u64 = 1_000_000_000_000_000;
/// Most topics (and stages, roles) a state remembers; the weakest topics are forgotten first.
pub const MAX_TOPICS: usize = 64;

/// Lifecycle stages, in order.
pub const LIFECYCLE: [&str; 4] = ["anonymous", "engaged", "mql", "sql"];

/// Decayed points of one engagement rule, with its daily-cap bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleAgg {
    /// FNV-1a of the rule id.
    pub hash: u32,
    /// Millionths of a point, valued at the state's `valued_at`.
    pub micro: i64,
    /// UTC day of `cap_used`.
    pub cap_day: u32,
    /// Thousandths of a point counted on `cap_day`.
    pub cap_used: i64,
}

/// Decayed evidence for one stage, role or topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    /// FNV-1a of the id.
    pub hash: u32,
    /// Millionths, valued at the state's `valued_at` (≥ 0).
    pub micro: i64,
}

/// An event kept exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recent {
    /// Timestamp (ms).
    pub ts: u64,
    /// Event kind code.
    pub kind: u8,
    /// FNV-1a of the content id (0: none).
    pub content: u32,
    /// Dwell in seconds (capped).
    pub dwell: u32,
    /// Whether the event was ignored as part of a burst.
    pub burst: bool,
}

/// Everything the engine remembers about one visitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorState {
    /// Anonymous visitor id chosen by the host.
    pub visitor_id: String,
    /// Playbook revision this state was last written with.
    pub revision: u32,
    /// First event or decision (ms; 0: never).
    pub first_seen: u64,
    /// The latest event seen (ms).
    pub anchor: u64,
    /// Time the aggregates (rules, stages, roles, topics) are valued at (ms;
    /// at most `anchor`). It moves to the latest event only once that is an
    /// eighth of the shortest half-life later (see `observe`); the points of
    /// events in between are added grown to this time.
    pub valued_at: u64,
    /// Events observed.
    pub events: u32,
    /// Events ignored as bot-like bursts.
    pub ignored: u32,
    /// Decisions made.
    pub seq: u32,
    /// Engagement aggregates, sorted by hash.
    pub rules: Vec<RuleAgg>,
    /// Stage evidence, sorted by hash.
    pub stages: Vec<Evidence>,
    /// Behavioural role evidence, sorted by hash.
    pub roles: Vec<Evidence>,
    /// Topic interest, sorted by hash.
    pub topics: Vec<Evidence>,
    /// Consumed content (hashes), most recent first.
    pub consumed: Vec<u32>,
    /// Recent events, oldest first.
    pub recent: Vec<Recent>,
    /// BANT answers as (dimension hash, bucket hash), sorted.
    pub bant: Vec<(u32, u32)>,
    /// Time of the first hand-raise (ms; 0: none).
    pub hand_raise: u64,
    /// Current reported stage (hash; 0: none yet).
    pub stage: u32,
    /// Highest lifecycle stage reached (index into `LIFECYCLE`).
    pub lifecycle: u8,
    /// Sales triggers already fired (hashes, sorted).
    pub fired: Vec<u32>,
    /// Last fit score (0–100) and tier index, for hosts that cannot compute fit (255: none).
    pub fit_score: u8,
    /// Tier index of `fit_score` (255: none).
    pub fit_tier: u8,
    /// Role derived from the job title (hash; 0: none). The title itself is never kept.
    pub title_role: u32,
    /// How strongly the title indicated `title_role` (percent, 50–100), or
    /// 40 when the department did ([`crate::role::DEPARTMENT_STRENGTH`]).
    pub title_strength: u8,
    /// Seniority derived from the job title (hash; 0: none).
    pub seniority: u32,
    /// Digest of the last classification signalled (0: none).
    pub classified: u32,
    /// First-touch campaign.
    pub first_touch: Option<Campaign>,
    /// Last-touch campaign.
    pub last_touch: Option<Campaign>,
}

impl VisitorState {
    /// How long before `now` the aggregates are valued (ms), read as a
    /// decision reads them: a `now` before the clock reads them at the clock
    /// (late events do not change what an earlier `now` sees).
    pub fn elapsed_since_valued(&self, now: u64) -> u64 {
        now.max(self.anchor).saturating_sub(self.valued_at)
    }
    /// A fresh state for a visitor id (1–64 characters of letters, digits, `-_.:`).
    pub fn new(visitor_id: &str, revision: u32) -> Result<VisitorState, Error> {
        check_visitor_id(visitor_id)?;
        Ok(VisitorState {
            visitor_id: visitor_id.to_string(),
            revision,
            fit_score: 255,
            fit_tier: 255,
            ..VisitorState::default()
        })
    }
}

/// Checks a visitor id: short, and nothing that looks like personal data.
pub fn check_visitor_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        // An IP address is personal data, never an anonymous id (also
        // written with leading zeros, `192.168.001.001`, which the parser
        // refuses but a reader does not).
        && id.parse::<std::net::IpAddr>().is_err()
        && !dotted_quad(id);
    if ok {
        Ok(())
    } else {
        Err(Issue::new(
            "invalid_visitor_id",
            "$.visitor_id",
            "a visitor id is 1–64 characters of letters, digits and `-_.:`",
        )
        .found(crate::error::truncate(id, 40))
        .hint("use a random anonymous id (e.g. a UUID), never an e-mail, a name or an IP address")
        .into())
    }
}

/// Four dot-separated groups of one to three digits: an IPv4 address
/// however its groups are padded (also with a trailing dot, or mapped into
/// IPv6 as `::ffff:…`).
fn dotted_quad(id: &str) -> bool {
    let id = id.strip_suffix('.').unwrap_or(id);
    let id = id
        .rsplit_once(':')
        .filter(|(head, _)| head.eq_ignore_ascii_case("::ffff"))
        .map_or(id, |(_, tail)| tail);
    let mut groups = 0;
    for g in id.split('.') {
        groups += 1;
        if g.is_empty() || g.len() > 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    groups == 4
}

/// The value (millionths, at `valued_at`) of an evidence entry, 0 when absent.
pub(crate) fn evidence(list: &[Evidence], hash: u32) -> i64 {
    list.binary_search_by(|e| e.hash.cmp(&hash))
        .ok()
        .and_then(|i| list.get(i))
        .map(|e| e.micro)
        .unwrap_or(0)
}

/// Looks up or inserts an entry in a hash-sorted list.
pub(crate) fn entry<T: Default>(
    list: &mut Vec<T>,
    hash: u32,
    key: impl Fn(&T) -> u32,
    make: impl Fn(u32) -> T,
) -> Option<&mut T> {
    let pos = match list.binary_search_by(|x| key(x).cmp(&hash)) {
        Ok(i) => i,
        Err(i) => {
            list.insert(i, make(hash));
            i
        }
    };
    list.get_mut(pos)
}
