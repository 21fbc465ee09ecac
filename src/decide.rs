//! One decision: gates → fit → engagement → stage → role → lifecycle →
//! triggers → holdout → picks → action → signals, then the state update
//! (sequence, stage, lifecycle, triggers fired, remembered fit and title role).

use crate::attrs::{Attrs, Classification};
use crate::context::{Consent, DecideRequest};
use crate::decay::round_to;
use crate::decision::{ActionResult, Decision, PlaybookRef, TriggerFired};
use crate::engine::Engine;
use crate::error::{Error, Issue};
use crate::state::VisitorState;
use crate::text::Text;
use crate::{engagement, fit, gates, lifecycle, recommend, role, signals, stage};
use serde_json::Value;

/// The lifecycle reason of a host-flagged bot's decision (explain names it).
pub(crate) const BOT_REASON: &str = "flagged as a bot: not scored";

/// Decides for a visitor and updates their state.
pub fn decide(
    engine: &Engine,
    s: &mut VisitorState,
    req: &DecideRequest,
) -> Result<Decision, Error> {
    if let Some(issue) = crate::context::now_out_of_range(req.now) {
        return Err(issue.into());
    }
    let ctx = &req.context;
    let now = req.now;
    let slots = resolve_slots(engine, req.slots.as_deref())?;
    if s.first_seen == 0 {
        s.first_seen = now;
    }
    let full = ctx.consent == Consent::Full;
    if !full {
        // Without full consent nothing the person typed (title, form answers)
        // is used or kept: the classification is anonymous.
        s.title_role = 0;
        s.title_strength = 0;
        s.seniority = 0;
        s.bant.clear();
        // Campaign touches are kept only with full consent, and forgotten
        // when it is withdrawn, as the title and the answers are.
        s.first_touch = None;
        s.last_touch = None;
    }
    let (title_role, seniority) = if full {
        role::person_reading(engine, s, &ctx.person)
    } else {
        (None, None)
    };
    let seniority_id = seniority
        .and_then(|i| engine.role_model.seniority.get(i))
        .map(|x| x.id.as_str());
    let mut attrs = Attrs::base(engine, s, ctx, now, seniority_id);
    let (gate_results, qualified) = gates::evaluate(engine, &attrs);
    let fit = fit::evaluate(engine, s, &attrs);
    let mut eng = engagement::evaluate(engine, s, &attrs, now);
    // A host-flagged bot is shown content but never scored, promoted or reported.
    let bot = ctx.bot;
    if bot {
        eng.result.silence();
        eng.traits.values_mut().for_each(|v| *v = Value::from(0.0));
    }
    let st = stage::evaluate(engine, s, &attrs, now);
    let role = role::evaluate(engine, s, title_role, seniority, now);
    let (lc_ix, lifecycle) = if bot {
        let stage = crate::state::LIFECYCLE
            .get(usize::from(s.lifecycle))
            .copied()
            .unwrap_or("anonymous");
        (
            s.lifecycle,
            crate::decision::LifecycleResult {
                stage: Text::lit(stage),
                reason: BOT_REASON.to_string(),
                changed: false,
            },
        )
    } else {
        lifecycle::evaluate(engine, s, &fit.tier, qualified, eng.result.score)
    };

    attrs.classify(Classification {
        qualified,
        fit: (fit.score, &fit.tier),
        engagement: eng.result.score,
        stage: (&st.result.id, st.result.confidence),
        role: (&role.id, role.confidence),
        lifecycle: &lifecycle.stage,
        traits: &eng.traits,
    });

    let fired: Vec<&crate::engine::Trigger> = engine
        .triggers
        .iter()
        .filter(|t| {
            !bot && s.fired.binary_search(&t.hash).is_err()
                && t.condition.holds(&attrs, &engine.lists)
        })
        .collect();
    let holdout = engine.holdout_percent > 0.0
        && crate::hash::hash(&engine.holdout_seed, &s.visitor_id, 2)
            .is_some_and(|h| h < engine.holdout_percent / 100.0);
    let seq = s.seq.saturating_add(1);
    let role_p: Vec<f64> = role.distribution.iter().map(|p| p.p).collect();
    // The action first: it depends only on the attributes, and slots follow it.
    let chosen = engine.actions.iter().find(|a| {
        a.when
            .as_ref()
            .map(|c| c.holds(&attrs, &engine.lists))
            .unwrap_or(true)
    });
    let visitor = recommend::Visitor {
        id: &s.visitor_id,
        seq,
        stage_p: &st.p,
        stage: st.index,
        stage_ok: &st.eligible,
        role_p: &role_p,
        industry: ctx
            .company
            .get("industry")
            .and_then(Value::as_str)
            .map(str::to_lowercase),
        attrs: &attrs,
        page: ctx
            .page
            .content_id
            .as_deref()
            .and_then(|id| engine.content_by_id(id)),
        now,
        action_cta: chosen.and_then(|a| a.cta),
    };
    let (slot_results, explored) = recommend::recommend(engine, s, &visitor, &slots, holdout);
    let action = chosen
        .map(|a| ActionResult {
            id: a.id.clone(),
            label: a.label.clone(),
            cta: a
                .cta
                .and_then(|i| engine.content.get(i))
                .map(|c| c.id.clone()),
        })
        .unwrap_or_else(|| ActionResult {
            id: "nurture".into(),
            label: "keep nurturing".into(),
            cta: None,
        });

    let mut d = Decision {
        visitor_id: s.visitor_id.clone(),
        seq,
        now,
        playbook: PlaybookRef {
            id: engine.id.clone(),
            revision: engine.revision,
        },
        qualified,
        gates: gate_results,
        fit,
        engagement: eng.result,
        stage: st.result,
        role,
        lifecycle,
        triggers: fired
            .iter()
            .map(|t| TriggerFired {
                id: t.id.clone(),
                label: t.label.clone(),
            })
            .collect(),
        holdout,
        explored,
        slots: slot_results,
        action,
        signals: Vec::new(),
    };
    let digest = signals::classification_digest(&d, ctx.consent);
    if !bot {
        d.signals = signals::build(engine, &d, ctx, digest != s.classified, s.first_seen);
    }

    // State update.
    s.seq = seq;
    s.revision = engine.revision;
    s.stage = engine.stages.get(st.index).map(|x| x.hash).unwrap_or(0);
    // A decision at consent `none` signals nothing, and a bot's neither: what
    // they would have signalled is not recorded as done, so the visitor's
    // next decision with consent fires the triggers, takes the lifecycle
    // step (MQL, SQL Reached) and reports the classification (the layer
    // keeps the visitor when consent comes after the first decision).
    if ctx.consent != Consent::None && !bot {
        s.lifecycle = lc_ix;
        for t in fired {
            if let Err(i) = s.fired.binary_search(&t.hash) {
                s.fired.insert(i, t.hash);
            }
        }
        s.classified = digest;
    }
    if full && !ctx.campaign.is_empty() {
        let c = short_campaign(&ctx.campaign);
        s.first_touch.get_or_insert_with(|| c.clone());
        s.last_touch = Some(c);
    }
    if !d.fit.from_state && d.fit.coverage > 0.0 {
        s.fit_score = stored_fit_score(engine, d.fit.score, &d.fit.tier);
        s.fit_tier = engine
            .tiers
            .iter()
            .position(|t| t.id == d.fit.tier)
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(255);
    }
    if full {
        // What the person's fields gave (or the state kept), remembered.
        let role = title_role.and_then(|(i, st)| engine.roles.get(i).map(|x| (x.hash, st)));
        s.title_role = role.map(|x| x.0).unwrap_or(0);
        s.title_strength = role
            .map(|x| round_to(x.1 * 100.0, 0).clamp(0.0, 100.0) as u8)
            .unwrap_or(0);
        s.seniority = seniority
            .and_then(|i| engine.role_model.seniority.get(i))
            .map(|x| x.hash)
            .unwrap_or(0);
    }
    Ok(d)
}

/// The fit score as the state keeps it, a whole number, on the same side of
/// the tier thresholds as the score itself: 49.5 in tier C (B from 50) is
/// kept as 49, not 50, so that a browser-safe playbook (fit from the state)
/// sees a score its own tier agrees with.
fn stored_fit_score(engine: &Engine, score: f64, tier: &Text) -> u8 {
    let round = round_to(score, 0).clamp(0.0, 100.0);
    let in_tier = |x: f64| crate::fit::tier_for(engine, x).is_some_and(|t| t.id == *tier);
    let other = if round > score {
        score.floor()
    } else {
        score.ceil()
    };
    // A tier holding no whole number keeps the plain rounding.
    let kept = if in_tier(round) || !in_tier(score) || !in_tier(other) {
        round
    } else {
        other
    };
    kept.clamp(0.0, 100.0) as u8
}

/// Campaign parameters as kept in the state: at most 32 characters each.
fn short_campaign(c: &crate::context::Campaign) -> crate::context::Campaign {
    let cut = |v: &Option<String>| v.as_ref().map(|s| s.chars().take(32).collect::<String>());
    crate::context::Campaign {
        source: cut(&c.source),
        medium: cut(&c.medium),
        name: cut(&c.name),
    }
}

fn resolve_slots<'e>(
    engine: &'e Engine,
    ids: Option<&[String]>,
) -> Result<Vec<&'e crate::engine::Slot>, Error> {
    let Some(ids) = ids else {
        return Ok(engine.slots.iter().collect());
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut issues = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match engine.slots.iter().find(|s| &s.id == id) {
            Some(s) => {
                if !out.iter().any(|x: &&crate::engine::Slot| x.id == s.id) {
                    out.push(s);
                }
            }
            None => issues.push(
                Issue::new(
                    "unknown_slot",
                    format!("$.slots[{i}]"),
                    format!("unknown slot `{}`", crate::error::truncate(id, 64)),
                )
                .expected(format!("one of {}", engine.slot_ids().join(", ")))
                .hint_or(
                    crate::suggest::did_you_mean(id, engine.slot_ids()),
                    crate::error::ONE_OF_EXPECTED,
                ),
            ),
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(Error { issues })
    }
}
