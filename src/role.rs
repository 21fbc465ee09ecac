//! Buying-committee role from the job title (normalised, abbreviations
//! expanded; the later a phrase stands in the title, the more it says: "Head
//! of IT Procurement" is procurement), else from the department given (weaker
//! than any title: [`DEPARTMENT_STRENGTH`]), from BANT authority answers, and from
//! behaviour (the roles of the content read), as a distribution with a
//! confidence floor.

use crate::context::Person;
use crate::decay::{factor, round_to};
use crate::decision::{Prob, RoleResult};
use crate::engine::{Engine, Role};
use crate::stage::argmax;
use crate::state::VisitorState;
use crate::text::Text;
use crate::title::{contains_phrase, normalize};

/// How strongly a department indicates its role: below any title's (0.5–1),
/// which also tells the state's remembered role from a department.
pub const DEPARTMENT_STRENGTH: f64 = 0.4;

/// What the title (or the department) says: the best role index with its
/// strength, and the seniority index.
pub struct TitleReading {
    /// Role index and match strength (0.5–1 from the title,
    /// [`DEPARTMENT_STRENGTH`] from the department).
    pub role: Option<(usize, f64)>,
    /// Seniority index.
    pub seniority: Option<usize>,
}

/// The seniority level remembered in the state (by hash), if any.
pub fn seniority_in_state(engine: &Engine, s: &VisitorState) -> Option<usize> {
    engine
        .role_model
        .seniority
        .iter()
        .position(|x| x.hash == s.seniority && s.seniority != 0)
}

/// Reads the person's job title and department; a department counts only
/// when the title names no role.
pub fn read_person(engine: &Engine, title: Option<&str>, department: Option<&str>) -> TitleReading {
    let rm = &engine.role_model;
    let t = title
        .map(|t| normalize(t, &rm.synonyms))
        .unwrap_or_default();
    let role = best_phrase(engine, &t, |r| &r.titles)
        .map(|(i, end)| (i, 0.5 + 0.5 * end as f64 / t.len().max(1) as f64))
        .or_else(|| {
            let d = normalize(department?, &rm.synonyms);
            best_phrase(engine, &d, |r| &r.departments).map(|(i, _)| (i, DEPARTMENT_STRENGTH))
        });
    let seniority = rm
        .seniority
        .iter()
        .position(|s| s.titles.iter().any(|p| contains_phrase(&t, p)));
    TitleReading { role, seniority }
}

/// The role (with its strength) and the seniority the person's fields give,
/// read with full consent, as `decide` and `score` read them. A title given
/// replaces what the state remembers (its role or, naming none, the
/// department's, and its seniority); a department given without a title
/// replaces a remembered department's role, not a title's; nothing given (or
/// blank) keeps what the state remembers.
pub fn person_reading(
    engine: &Engine,
    s: &VisitorState,
    person: &Person,
) -> (Option<(usize, f64)>, Option<usize>) {
    let department = given(&person.department);
    if let Some(title) = given(&person.title) {
        let r = read_person(engine, Some(title), department);
        return (r.role, r.seniority);
    }
    let remembered = engine
        .roles
        .iter()
        .position(|r| r.hash == s.title_role && s.title_role != 0)
        .map(|i| (i, f64::from(s.title_strength) / 100.0));
    let role = match (department, remembered) {
        (_, Some(r)) if r.1 > DEPARTMENT_STRENGTH => Some(r),
        (Some(d), _) => read_person(engine, None, Some(d)).role,
        (None, r) => r,
    };
    (role, seniority_in_state(engine, s))
}

/// A field the person gave: not missing, not blank.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|t| !t.trim().is_empty())
}

/// The role whose phrase ends latest in `text`, and where it ends.
fn best_phrase(
    engine: &Engine,
    text: &[String],
    phrases: fn(&Role) -> &Vec<Vec<String>>,
) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for (i, r) in engine.roles.iter().enumerate() {
        for phrase in phrases(r) {
            if let Some(end) = phrase_end(text, phrase) {
                if best.map_or(true, |(_, e)| end > e) {
                    best = Some((i, end));
                }
            }
        }
    }
    best
}

/// Token index just after the last occurrence of `phrase` in `title`.
fn phrase_end(title: &[String], phrase: &[String]) -> Option<usize> {
    if phrase.is_empty() || phrase.len() > title.len() {
        return None;
    }
    title
        .windows(phrase.len())
        .rposition(|w| w == phrase)
        .map(|i| i + phrase.len())
}

/// The part of one read's weight (`role_model.content_view_weight`) below
/// which decayed reading no longer names a role.
const BEHAVIOUR_EVIDENCE: f64 = 0.01;

/// Computes the role distribution. `title_role` is the role read from the title
/// (now or remembered in the state), with its strength.
pub fn evaluate(
    engine: &Engine,
    s: &VisitorState,
    title_role: Option<(usize, f64)>,
    seniority: Option<usize>,
    now: u64,
) -> RoleResult {
    let rm = &engine.role_model;
    let decay = factor(s.elapsed_since_valued(now), rm.half_life_ms);
    let mut w: Vec<f64> = engine.roles.iter().map(|r| r.prior).collect();
    let mut evidence = Vec::new();
    if let Some((i, strength)) = title_role {
        if let Some(x) = w.get_mut(i) {
            *x += rm.title_weight * strength;
            let from_title = strength > DEPARTMENT_STRENGTH;
            evidence.push(Text::lit(if from_title { "title" } else { "department" }));
        }
    }
    let mut bant = false;
    for (dh, oh) in &s.bant {
        let role = engine.bant_option(*dh, *oh).and_then(|(_, o)| o.role);
        if let Some(x) = role.and_then(|i| w.get_mut(i)) {
            *x += rm.title_weight;
            bant = true;
        }
    }
    // Named once, however many answers gave it.
    if bant {
        evidence.push(Text::lit("bant"));
    }
    // Reads long past count in the distribution, but name no role: behaviour
    // is evidence while some role's share of it is at least a hundredth of
    // one read's weight (for an item of one role, about 6.6 half-lives after
    // the read).
    let mut behaviour = false;
    let material = rm.content_view_weight * BEHAVIOUR_EVIDENCE;
    for (r, x) in engine.roles.iter().zip(w.iter_mut()) {
        let e = crate::state::evidence(&s.roles, r.hash);
        if e > 0 {
            let weight = e as f64 / crate::state::UNIT * decay;
            *x += weight;
            behaviour |= weight >= material;
        }
    }
    if behaviour {
        evidence.push(Text::lit("behaviour"));
    }
    let sum: f64 = w.iter().sum();
    let n = w.len().max(1) as f64;
    let p: Vec<f64> = w
        .iter()
        .map(|x| if sum > 0.0 { x / sum } else { 1.0 / n })
        .collect();
    let top = argmax(&p);
    // Compared as shown (4 decimals): a role shown at exactly `min_confidence`
    // is named, as a condition on `role.confidence` reads it.
    let conf = round_to(p.get(top).copied().unwrap_or(0.0), 4);
    // The priors alone name no one: without evidence the role is unknown
    // (with two roles of equal priors, every visitor would be the first at 50%).
    let id = if !evidence.is_empty() && conf >= rm.min_confidence {
        engine
            .roles
            .get(top)
            .map(|r| r.id.clone())
            .unwrap_or_default()
    } else {
        Text::lit("unknown")
    };
    RoleResult {
        id,
        confidence: conf,
        seniority: seniority
            .and_then(|i| rm.seniority.get(i))
            .map(|s| s.id.clone()),
        evidence,
        distribution: engine
            .roles
            .iter()
            .zip(&p)
            .map(|(r, p)| Prob {
                id: r.id.clone(),
                p: round_to(*p, 4),
            })
            .collect(),
    }
}
