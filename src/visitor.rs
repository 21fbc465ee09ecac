//! The public per-visitor API on `Engine`: create, observe, decide, encode,
//! decode (with migration to the current playbook revision).

use crate::context::DecideRequest;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::event::Event;
use crate::observe::Observed;
use crate::state::{decode_state, encode_state, VisitorState};

/// Longest state string `encode` produces (a cookie value stays well under 4 KB).
pub const STATE_BUDGET: usize = 1200;

/// One visitor's state, kept between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub(crate) state: VisitorState,
}

/// A decoded visitor and what happened on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The visitor.
    pub visitor: Visitor,
    /// The state was written with another playbook revision and was migrated.
    pub migrated: bool,
    /// The state's signature was checked with the secret.
    pub verified: bool,
}

impl Visitor {
    /// The anonymous visitor id.
    pub fn id(&self) -> &str {
        &self.state.visitor_id
    }
    /// The state, read-only.
    pub fn state(&self) -> &VisitorState {
        &self.state
    }
    /// When the state last saw the visitor (ms): the latest event, else the first decision.
    /// The edge refuses a state idle for longer than its cookie lives (a replayed old cookie).
    pub fn last_active(&self) -> u64 {
        self.state.anchor.max(self.state.first_seen)
    }
}

impl Engine {
    /// A fresh visitor.
    pub fn visitor(&self, visitor_id: &str) -> Result<Visitor, Error> {
        Ok(Visitor {
            state: VisitorState::new(visitor_id, self.revision)?,
        })
    }
    /// Folds a checked event into the visitor's state.
    pub fn observe(&self, v: &mut Visitor, event: &Event) -> Observed {
        crate::observe::observe(self, &mut v.state, event)
    }
    /// Parses, checks and folds an event given as JSON text.
    pub fn observe_json(&self, v: &mut Visitor, event_json: &str) -> Result<Observed, Error> {
        let e = Event::from_json(event_json)?;
        Ok(self.observe(v, &e))
    }
    /// Decides for the visitor at `req.now` and updates their state.
    pub fn decide(&self, v: &mut Visitor, req: &DecideRequest) -> Result<Decision, Error> {
        crate::decide::decide(self, &mut v.state, req)
    }
    /// Gates, fit and engagement only, as `decide` would report them for the
    /// same request; the visitor's state is not changed.
    pub fn score(&self, v: &Visitor, req: &DecideRequest) -> crate::score::Scores {
        crate::score::score(self, &v.state, req)
    }
    /// Encodes the visitor's state as a cookie-safe string, signed when a secret is given.
    /// The string stays within `STATE_BUDGET` characters: past it, the least useful
    /// memories go first (campaign touches, the oldest consumed content, the oldest
    /// recent events down to 4, keeping those inside the burst window up to the
    /// burst threshold, the weakest topics), deterministically. A visitor who
    /// holds points from very many engagement rules (about 50 or more), or in
    /// the middle of a burst under a high `burst.max_events`, can need more:
    /// points are never dropped to fit (a rule's aggregate goes when it has
    /// decayed to nothing, as the state's time moves on).
    pub fn encode(&self, v: &Visitor, secret: Option<&[u8]>) -> String {
        let out = encode_state(&v.state, self.id_hash, secret);
        if out.len() <= STATE_BUDGET {
            return out;
        }
        let mut s = v.state.clone();
        // Burst detection counts the recent events inside its window before
        // a new one: those older than the window go first, and of the rest
        // never fewer than its threshold, or a visitor decoded between
        // events would never be flagged.
        let keep_recent = self.engagement.burst_max.max(4);
        let window_start = s.anchor.saturating_sub(self.engagement.burst_window_ms);
        loop {
            let trimmed = if s.last_touch.take().is_some() || s.first_touch.take().is_some() {
                true
            } else if s.consumed.len() > 8 {
                s.consumed.pop().is_some()
            } else if s.recent.len() > 4 && s.recent.first().is_some_and(|r| r.ts < window_start)
                || s.recent.len() > keep_recent
            {
                s.recent.remove(0);
                true
            } else if let Some(i) = s
                .topics
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.micro)
                .map(|(i, _)| i)
            {
                s.topics.remove(i);
                true
            } else {
                false
            };
            let out = encode_state(&s, self.id_hash, secret);
            if out.len() <= STATE_BUDGET || !trimmed {
                return out;
            }
        }
    }
    /// Decodes a state string. With a secret the state must carry a valid signature.
    /// A state from an older revision of this playbook is migrated: entries
    /// for rules, stages, roles, content and triggers that no longer exist are
    /// dropped, and the consumed and recent lists cut to this revision's
    /// limits. One from a newer revision keeps what this revision does not
    /// know (see `migrate`), so the newer revision can read it back whole.
    pub fn decode(&self, text: &str, secret: Option<&[u8]>) -> Result<Decoded, Error> {
        let (mut state, verified) = decode_state(text, self.id_hash, secret)?;
        let migrated = state.revision != self.revision;
        if migrated {
            self.migrate(&mut state);
        }
        Ok(Decoded {
            visitor: Visitor { state },
            migrated,
            verified,
        })
    }

    /// Decodes like `decode`, and refuses (`state_expired`) a state whose visitor was
    /// last active more than `max_idle_ms` before `now`: an old cookie presented again
    /// (a replay) past the lifetime the edge gave it starts a fresh visitor.
    /// A state that never saw any activity (no event, no decision) counts as expired.
    pub fn decode_at(
        &self,
        text: &str,
        secret: Option<&[u8]>,
        now: u64,
        max_idle_ms: u64,
    ) -> Result<Decoded, Error> {
        let d = self.decode(text, secret)?;
        let idle = now.saturating_sub(d.visitor.last_active());
        if idle > max_idle_ms {
            return Err(crate::error::Issue::new(
                "state_expired",
                "$.state",
                "the state was last active longer ago than the allowed idle time",
            )
            .expected(format!("at most {max_idle_ms} ms idle"))
            .found(format!("{idle} ms"))
            .hint("start a fresh visitor: an old state presented again is not trusted")
            .into());
        }
        Ok(d)
    }

    fn migrate(&self, s: &mut VisitorState) {
        use crate::playbook::limits;
        use crate::state::MAX_TOPICS;
        // A state from a newer revision (a page or an edge not yet on it,
        // during a rollout) keeps what this revision does not know, within
        // what a state can hold: the newer revision reads it back with its
        // triggers still fired and its points still there. This revision's
        // own reading skips unknown entries, as it skips those of any
        // hand-edited state.
        let newer = s.revision > self.revision;
        let rules = self.engagement.rules.len();
        migrate_list(&mut s.rules, newer, rules, limits::RULES, |r| {
            self.engagement.rule(r.hash).is_some()
        });
        migrate_list(&mut s.stages, newer, self.stages.len(), MAX_TOPICS, |e| {
            self.stages.iter().any(|x| x.hash == e.hash)
        });
        migrate_list(&mut s.roles, newer, self.roles.len(), MAX_TOPICS, |e| {
            self.roles.iter().any(|x| x.hash == e.hash)
        });
        // Content by its hash index, not a scan of the catalogue per entry.
        let knows_content = |h: &u32| self.content_with_hash(*h).next().is_some();
        migrate_list(&mut s.consumed, newer, 0, limits::CONSUMED, knows_content);
        migrate_list(
            &mut s.fired,
            newer,
            self.triggers.len(),
            limits::SMALL_SECTION,
            |h| self.triggers.iter().any(|x| x.hash == *h),
        );
        migrate_list(
            &mut s.bant,
            newer,
            self.bant.len(),
            limits::SMALL_SECTION,
            |(d, o)| self.bant_option(*d, *o).is_some(),
        );
        // This revision's bounds, as if the visitor had lived under it; kept
        // unknown content goes before content this revision knows was read.
        while s.consumed.len() > self.consumed_limit {
            let unknown = s.consumed.iter().rposition(|h| !knows_content(h));
            match unknown {
                Some(i) => s.consumed.remove(i),
                None => break,
            };
        }
        s.consumed.truncate(self.consumed_limit);
        let excess = s.recent.len().saturating_sub(self.recent_limit);
        s.recent.drain(..excess);
        if !self.stages.iter().any(|x| x.hash == s.stage) {
            s.stage = 0;
        }
        if !newer && !self.roles.iter().any(|x| x.hash == s.title_role) {
            s.title_role = 0;
            s.title_strength = 0;
        }
        if s.fit_score <= 100 {
            s.fit_tier = crate::fit::tier_for(self, f64::from(s.fit_score))
                .and_then(|t| self.tiers.iter().position(|x| x.id == t.id))
                .and_then(|i| u8::try_from(i).ok())
                .unwrap_or(255);
        }
        s.revision = self.revision;
    }
}

/// Keeps `list`'s entries this revision knows; the unknown ones too when the
/// state is from a `newer` revision and the list can still take every entry
/// of this revision's `own` beside them (`cap`: the decoder's bound).
fn migrate_list<T>(
    list: &mut Vec<T>,
    newer: bool,
    own: usize,
    cap: usize,
    known: impl Fn(&T) -> bool,
) {
    let unknown = list.iter().filter(|x| !known(x)).count();
    let keep = newer && unknown.saturating_add(own) <= cap;
    list.retain(|x| keep || known(x));
}
