//! A decision written as compact ASCII JSON: the bytes
//! `serde_json::to_writer(&decision)` writes, with every non-ASCII character
//! escaped as `\uXXXX` (checked on every journey vector and on hostile
//! strings), without serde's machinery: keys are written as literals and a
//! string is copied in runs between the bytes that need escaping. These are
//! the exact bytes every runtime reproduces: `decideJson` returns them and
//! the journey vectors hold their SHA-256. serde_json's writer spent most of
//! its time in three writes and a byte-by-byte escape scan for each of the
//! ~600 keys and strings of a decision; and Node turns ASCII from Wasm memory
//! into a string ~3× faster than UTF-8 with a few accented titles in it.
//!
//! The signals inside it are written the same way, and so are `scoreJson`'s
//! and `observeJson`'s answers (`write_scores`, `write_observed`).
//!
//! A brief answer (`Detail::Brief`, `write_as`) is the same text without the
//! lists that explain the numbers: key for key the full text with those
//! lists' keys and values taken out (checked in every runtime).

use crate::context::Detail;
use crate::decision::{
    CriterionResult, Decision, EngagementResult, FitResult, GateResult, Pick, Prob, RoleResult,
    SlotResult, StageResult,
};
use crate::observe::Observed;
use crate::score::Scores;
use crate::signals::{Properties, Signal};
use serde_json::ser::{CompactFormatter, Formatter};

/// The decision's exact text (what `decideJson` returns).
pub fn text(d: &Decision) -> String {
    let mut out = Vec::with_capacity(4096);
    write(d, &mut out);
    // ASCII by construction.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `d` as compact JSON to `out`.
pub fn write(d: &Decision, out: &mut Vec<u8>) {
    write_as(d, Detail::Full, out);
}

/// Appends `d` as compact JSON to `out`, with the lists that explain its
/// numbers only when `detail` is `Full` (`Brief`: the same keys in the same
/// order, those lists left out).
pub fn write_as(d: &Decision, detail: Detail, out: &mut Vec<u8>) {
    let full = detail.is_full();
    raw(out, "{\"visitor_id\":");
    string(out, &d.visitor_id);
    raw(out, ",\"seq\":");
    integer(out, u64::from(d.seq));
    raw(out, ",\"now\":");
    integer(out, d.now);
    raw(out, ",\"playbook\":{\"id\":");
    string(out, &d.playbook.id);
    raw(out, ",\"revision\":");
    integer(out, u64::from(d.playbook.revision));
    raw(out, "},");
    scores(out, d.qualified, &d.gates, &d.fit, &d.engagement, full);
    raw(out, ",\"stage\":");
    stage(out, &d.stage, full);
    raw(out, ",\"role\":");
    role(out, &d.role, full);
    raw(out, ",\"lifecycle\":{\"stage\":");
    string(out, &d.lifecycle.stage);
    raw(out, ",\"reason\":");
    string(out, &d.lifecycle.reason);
    raw(out, ",\"changed\":");
    boolean(out, d.lifecycle.changed);
    raw(out, "},\"triggers\":");
    list(out, &d.triggers, |out, t| {
        raw(out, "{\"id\":");
        string(out, &t.id);
        raw(out, ",\"label\":");
        string(out, &t.label);
        raw(out, "}");
    });
    raw(out, ",\"holdout\":");
    boolean(out, d.holdout);
    raw(out, ",\"explored\":");
    boolean(out, d.explored);
    raw(out, ",\"slots\":");
    list(out, &d.slots, |out, s| slot(out, s, full));
    raw(out, ",\"action\":{\"id\":");
    string(out, &d.action.id);
    raw(out, ",\"label\":");
    string(out, &d.action.label);
    if let Some(cta) = &d.action.cta {
        raw(out, ",\"cta\":");
        string(out, cta);
    }
    raw(out, "},\"signals\":");
    list(out, &d.signals, signal);
    raw(out, "}");
}

/// A Segment `track` event, its keys in the order serde writes the
/// struct's fields (alphabetical: the same as a sorted map's).
fn signal(out: &mut Vec<u8>, s: &Signal) {
    raw(out, "{\"anonymousId\":");
    string(out, &s.anonymous_id);
    raw(out, ",\"context\":{");
    let c = &s.context;
    if let Some(k) = &c.campaign {
        // Only the parameters given (never all absent: no campaign then).
        raw(out, "\"campaign\":{");
        let mut sep = "";
        for (key, value) in [
            ("\"medium\":", &k.medium),
            ("\"name\":", &k.name),
            ("\"source\":", &k.source),
        ] {
            if let Some(v) = value {
                raw(out, sep);
                raw(out, key);
                string(out, v);
                sep = ",";
            }
        }
        raw(out, "},");
    }
    raw(out, "\"consent\":");
    string(out, c.consent);
    raw(out, ",\"library\":{\"name\":");
    string(out, c.library.name);
    raw(out, ",\"version\":");
    string(out, c.library.version);
    raw(out, "}");
    if let Some(p) = &c.page {
        raw(out, ",\"page\":{\"path\":");
        string(out, &p.path);
        raw(out, "}");
    }
    raw(out, ",\"playbook\":{\"id\":");
    string(out, &c.playbook.id);
    raw(out, ",\"revision\":");
    integer(out, u64::from(c.playbook.revision));
    raw(out, "}},\"event\":");
    string(out, s.event);
    raw(out, ",\"messageId\":");
    string(out, &s.message_id);
    raw(out, ",\"originalTimestamp\":");
    string(out, &s.original_timestamp);
    raw(out, ",\"properties\":");
    properties(out, &s.properties);
    raw(out, ",\"type\":");
    string(out, s.kind);
    raw(out, "}");
}

/// A signal's properties: an object whose first key may be the optional
/// `account`, so each key after it says whether a comma goes first.
fn properties(out: &mut Vec<u8>, p: &Properties) {
    let mut o = Obj::open(out);
    match p {
        Properties::Classified(c) => {
            o.opt_str("account", c.account.as_deref());
            o.num("engagement_score", c.engagement_score);
            o.key("failed_gates");
            list(o.out, &c.failed_gates, |out, t| string(out, t));
            o.key("fit_reasons");
            list(o.out, &c.fit_reasons, |out, t| string(out, t));
            o.num("fit_score", c.fit_score);
            o.str("fit_tier", &c.fit_tier);
            o.str("lifecycle", &c.lifecycle);
            o.bool("qualified", c.qualified);
            o.opt_str("role", c.role.as_deref());
            o.opt_num("role_confidence", c.role_confidence);
            o.opt_str("seniority", c.seniority.as_deref());
            o.opt_num("seniority_weight", c.seniority_weight);
            o.str("stage", &c.stage);
            o.num("stage_confidence", c.stage_confidence);
        }
        Properties::StageChanged(c) => {
            o.opt_str("account", c.account.as_deref());
            o.num("confidence", c.confidence);
            o.key("from");
            opt_string(o.out, c.from.as_deref());
            o.bool("moved_back", c.moved_back);
            o.str("to", &c.to);
        }
        Properties::Recommended(r) => {
            o.opt_str("account", r.account.as_deref());
            o.str("action", &r.action);
            o.bool("explored", r.explored);
            o.bool("holdout", r.holdout);
            o.key("slots");
            list(o.out, &r.slots, |out, s| {
                raw(out, "{\"content_ids\":");
                list(out, &s.content_ids, |out, t| string(out, t));
                raw(out, ",\"default\":");
                boolean(out, s.default);
                raw(out, ",\"slot\":");
                string(out, &s.slot);
                raw(out, "}");
            });
            o.str("stage", &r.stage);
        }
        Properties::Mql(q) | Properties::Sql(q) => {
            o.opt_str("account", q.account.as_deref());
            o.opt_num("engagement_score", q.engagement_score);
            o.str("fit_tier", &q.fit_tier);
            o.str("reason", &q.reason);
        }
        Properties::Trigger(t) => {
            o.opt_str("account", t.account.as_deref());
            o.str("fit_tier", &t.fit_tier);
            o.str("label", &t.label);
            o.str("stage", &t.stage);
            o.str("trigger", &t.trigger);
        }
    }
    o.out.push(b'}');
}

/// An object being written: keys after the first get a comma.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        raw(self.out, k);
        raw(self.out, "\":");
    }
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        string(self.out, v);
    }
    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }
    fn num(&mut self, k: &str, v: f64) {
        self.key(k);
        number(self.out, v);
    }
    fn opt_num(&mut self, k: &str, v: Option<f64>) {
        if let Some(v) = v {
            self.num(k, v);
        }
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        boolean(self.out, v);
    }
}

/// A string, or `null`.
fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => raw(out, "null"),
    }
}

fn gate(out: &mut Vec<u8>, g: &GateResult) {
    raw(out, "{\"id\":");
    string(out, &g.id);
    raw(out, ",\"kind\":");
    string(out, &g.kind);
    raw(out, ",\"status\":");
    string(out, g.status);
    raw(out, "}");
}

fn fit(out: &mut Vec<u8>, f: &FitResult, full: bool) {
    raw(out, "{\"score\":");
    number(out, f.score);
    raw(out, ",\"tier\":");
    string(out, &f.tier);
    raw(out, ",\"coverage\":");
    number(out, f.coverage);
    if full {
        raw(out, ",\"criteria\":");
        list(out, &f.criteria, |out, c: &CriterionResult| {
            raw(out, "{\"id\":");
            string(out, &c.id);
            raw(out, ",\"band\":");
            string(out, &c.band);
            raw(out, ",\"points\":");
            number(out, c.points);
            raw(out, "}");
        });
    }
    if f.from_state {
        raw(out, ",\"from_state\":true");
    }
    raw(out, "}");
}

fn engagement(out: &mut Vec<u8>, e: &EngagementResult, full: bool) {
    raw(out, "{\"score\":");
    number(out, e.score);
    raw(out, ",\"points\":");
    number(out, e.points);
    if full {
        raw(out, ",\"top\":");
        list(out, &e.top, |out, r| {
            raw(out, "{\"rule\":");
            string(out, &r.rule);
            raw(out, ",\"points\":");
            number(out, r.points);
            raw(out, "}");
        });
    }
    raw(out, ",\"ignored_events\":");
    integer(out, u64::from(e.ignored_events));
    raw(out, "}");
}

fn stage(out: &mut Vec<u8>, s: &StageResult, full: bool) {
    raw(out, "{\"id\":");
    string(out, &s.id);
    raw(out, ",\"confidence\":");
    number(out, s.confidence);
    raw(out, ",\"changed\":");
    boolean(out, s.changed);
    if let Some(p) = &s.previous {
        raw(out, ",\"previous\":");
        string(out, p);
    }
    raw(out, ",\"moved_back\":");
    boolean(out, s.moved_back);
    if full {
        raw(out, ",\"distribution\":");
        list(out, &s.distribution, prob);
    }
    raw(out, "}");
}

fn role(out: &mut Vec<u8>, r: &RoleResult, full: bool) {
    raw(out, "{\"id\":");
    string(out, &r.id);
    raw(out, ",\"confidence\":");
    number(out, r.confidence);
    if let Some(s) = &r.seniority {
        raw(out, ",\"seniority\":");
        string(out, s);
    }
    if full {
        raw(out, ",\"evidence\":");
        list(out, &r.evidence, |out, e| {
            string(out, e);
        });
        raw(out, ",\"distribution\":");
        list(out, &r.distribution, prob);
    }
    raw(out, "}");
}

fn prob(out: &mut Vec<u8>, p: &Prob) {
    raw(out, "{\"id\":");
    string(out, &p.id);
    raw(out, ",\"p\":");
    number(out, p.p);
    raw(out, "}");
}

fn slot(out: &mut Vec<u8>, s: &SlotResult, full: bool) {
    raw(out, "{\"slot\":");
    string(out, &s.slot);
    raw(out, ",\"picks\":");
    list(out, &s.picks, |out, p| pick(out, p, full));
    raw(out, ",\"default\":");
    boolean(out, s.default);
    raw(out, "}");
}

fn pick(out: &mut Vec<u8>, p: &Pick, full: bool) {
    raw(out, "{\"id\":");
    string(out, &p.id);
    raw(out, ",\"title\":");
    string(out, &p.title);
    raw(out, ",\"url\":");
    string(out, &p.url);
    raw(out, ",\"format\":");
    string(out, &p.format);
    raw(out, ",\"cta\":");
    string(out, &p.cta);
    raw(out, ",\"score\":");
    number(out, p.score);
    if full {
        raw(out, ",\"reasons\":");
        list(out, p.reasons.iter(), string);
    }
    raw(out, "}");
}

/// Appends a visitor's scores (`scoreJson`'s answer) as compact ASCII JSON
/// (what `serde_json::to_writer(&scores)` writes, non-ASCII escaped): the decision's own
/// gates, fit and engagement, written as the decision writes them; with
/// `Detail::Brief`, without the gates, the fit criteria and the top
/// engagement rules, as a brief decision writes them.
pub fn write_scores(sc: &Scores, detail: Detail, out: &mut Vec<u8>) {
    out.push(b'{');
    scores(
        out,
        sc.qualified,
        &sc.gates,
        &sc.fit,
        &sc.engagement,
        detail.is_full(),
    );
    out.push(b'}');
}

/// `"qualified":…,"gates":…,"fit":…,"engagement":…`: the keys a decision
/// and a visitor's scores both write, in that order (without the gates and
/// the explaining lists unless `full`).
fn scores(
    out: &mut Vec<u8>,
    qualified: bool,
    gates: &[GateResult],
    f: &FitResult,
    e: &EngagementResult,
    full: bool,
) {
    raw(out, "\"qualified\":");
    boolean(out, qualified);
    if full {
        raw(out, ",\"gates\":");
        list(out, gates, gate);
    }
    raw(out, ",\"fit\":");
    fit(out, f, full);
    raw(out, ",\"engagement\":");
    engagement(out, e, full);
}

/// Appends what one observed event did (`observeJson`'s answer) as compact
/// ASCII JSON (what `serde_json::to_writer(&observed)` writes, non-ASCII
/// escaped).
pub fn write_observed(o: &Observed, out: &mut Vec<u8>) {
    raw(out, "{\"burst\":");
    boolean(out, o.burst);
    raw(out, ",\"points\":");
    list(out, &o.points, |out, (id, p)| {
        out.push(b'[');
        string(out, id);
        out.push(b',');
        number(out, *p);
        out.push(b']');
    });
    if let Some(h) = &o.hand_raise {
        raw(out, ",\"hand_raise\":");
        string(out, h);
    }
    out.push(b'}');
}

/// `[a,b,...]`, each element by `item`.
fn list<I: IntoIterator>(out: &mut Vec<u8>, items: I, mut item: impl FnMut(&mut Vec<u8>, I::Item)) {
    out.push(b'[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

fn raw(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

fn boolean(out: &mut Vec<u8>, b: bool) {
    raw(out, if b { "true" } else { "false" });
}

fn integer(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(crate::fixed::decimal(n, &mut buf));
}

/// A number as serde_json writes it: its own shortest round-trip form, and
/// `null` for NaN and the infinities.
fn number(out: &mut Vec<u8>, x: f64) {
    if short_decimal(out, x) {
        return;
    }
    // Writing to a `Vec` does not fail.
    if !x.is_finite() || CompactFormatter.write_f64(out, x).is_err() {
        raw(out, "null");
    }
}

/// Writes `x` when it is a decimal of at most four places between 0.001 and
/// 10^9 in size (what a decision's rounded scores, points and probabilities
/// are), as serde_json would: `12.0`, `0.25`, `-3.5`. If `m / 10^4 == |x|` for
/// an integer `m`, the text `m × 10^-4` reads back as `|x|` (division and reading
/// both round the same exact quotient; below 10^9 no other four-place decimal
/// is that close), and so does that text without its trailing zeros, the
/// shortest that does, which is what serde_json writes. Tested against
/// serde_json on every such decimal of a range and on random numbers.
fn short_decimal(out: &mut Vec<u8>, x: f64) -> bool {
    let a = x.abs();
    if !(1e-3..1e9).contains(&a) {
        return false;
    }
    // a × 10^4 < 10^13, so within u64. The product is rounded, so `m` may be
    // one off the four-place decimal nearest `a`: the check then fails and
    // serde_json writes the number.
    let mut m = (a * 1e4 + 0.5) as u64;
    if m as f64 / 1e4 != a {
        return false;
    }
    let mut places = 4;
    while places > 0 && m % 10 == 0 {
        m /= 10;
        places -= 1;
    }
    if x < 0.0 {
        out.push(b'-');
    }
    let scale = [1, 10, 100, 1000, 10_000].get(places).copied().unwrap_or(1);
    integer(out, m / scale);
    out.push(b'.');
    if places == 0 {
        out.push(b'0');
    } else {
        let mut buf = [0u8; 20];
        let digits = crate::fixed::decimal(m % scale, &mut buf);
        for _ in digits.len()..places {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    }
    true
}

/// A JSON string in ASCII: `"` and `\` escaped, the control characters
/// (`\b \t \n \f \r` by name, the others as `\u00XX`) as serde_json
/// escapes them, and every non-ASCII character as `\uXXXX` (a surrogate
/// pair above U+FFFF), so the text crosses into JavaScript as a one-byte
/// string (Node reads ASCII ~3× faster than UTF-8). Runs without such bytes
/// are found eight bytes at a time and copied whole.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut rest = s;
    loop {
        let clean = crate::json::ascii_prefix(rest.as_bytes());
        out.extend_from_slice(rest.as_bytes().get(..clean).unwrap_or_default());
        let Some(&b) = rest.as_bytes().get(clean) else {
            break;
        };
        // `clean` stops at an ASCII byte or at the first byte of a
        // character: a character boundary either way.
        let next = rest.get(clean..).unwrap_or_default();
        let len = match b {
            b'"' => raw_len(out, "\\\""),
            b'\\' => raw_len(out, "\\\\"),
            0x08 => raw_len(out, "\\b"),
            0x09 => raw_len(out, "\\t"),
            0x0A => raw_len(out, "\\n"),
            0x0C => raw_len(out, "\\f"),
            0x0D => raw_len(out, "\\r"),
            0..=0x1F => {
                unicode_escape(out, u16::from(b));
                1
            }
            _ => match next.chars().next() {
                Some(c) => {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units)
                        .iter()
                        .for_each(|u| unicode_escape(out, *u));
                    c.len_utf8()
                }
                None => break,
            },
        };
        rest = next.get(len..).unwrap_or_default();
    }
    out.push(b'"');
}

/// Appends `s` (an escape of one input byte) and returns 1.
fn raw_len(out: &mut Vec<u8>, s: &str) -> usize {
    raw(out, s);
    1
}

/// `\uXXXX` (lowercase hex, as serde_json writes `\u001f`).
fn unicode_escape(out: &mut Vec<u8>, u: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    raw(out, "\\u");
    for shift in [12, 8, 4, 0] {
        out.push(
            HEX.get(usize::from((u >> shift) & 0xF))
                .copied()
                .unwrap_or(b'0'),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::decision::*;

    fn hostile() -> Vec<String> {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{2028}\u{7f}");
        vec![
            String::new(),
            "plain".into(),
            "\"quoted\" \\ back\\slash".into(),
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}".into(),
            all,
        ]
    }

    fn decision(s: &str, x: f64, some: bool) -> Decision {
        let prob = |id: &str| Prob {
            id: id.into(),
            p: x,
        };
        Decision {
            visitor_id: s.into(),
            seq: u32::MAX,
            now: u64::MAX,
            playbook: PlaybookRef {
                id: s.into(),
                revision: 0,
            },
            qualified: some,
            gates: vec![GateResult {
                id: s.into(),
                kind: "k".into(),
                status: "pass",
            }],
            fit: FitResult {
                score: x,
                tier: s.into(),
                coverage: -x,
                criteria: vec![
                    CriterionResult {
                        id: s.into(),
                        band: s.into(),
                        points: x,
                    };
                    2
                ],
                from_state: some,
            },
            engagement: EngagementResult {
                score: x,
                points: x,
                top: vec![RulePoints {
                    rule: s.into(),
                    points: x,
                }],
                ignored_events: 7,
            },
            stage: StageResult {
                id: s.into(),
                confidence: x,
                changed: some,
                previous: some.then(|| s.into()),
                moved_back: !some,
                distribution: vec![prob(s), prob("b")],
            },
            role: RoleResult {
                id: s.into(),
                confidence: x,
                seniority: some.then(|| s.into()),
                evidence: vec![s.into(), "title".into()],
                distribution: vec![],
            },
            lifecycle: LifecycleResult {
                stage: s.into(),
                reason: s.into(),
                changed: some,
            },
            triggers: vec![TriggerFired {
                id: s.into(),
                label: s.into(),
            }],
            holdout: !some,
            explored: some,
            slots: vec![SlotResult {
                slot: s.into(),
                picks: vec![Pick {
                    id: s.into(),
                    title: s.into(),
                    url: s.into(),
                    format: s.into(),
                    cta: s.into(),
                    score: x,
                    reasons: [s, s].into_iter().collect(),
                }],
                default: some,
            }],
            action: ActionResult {
                id: s.into(),
                label: s.into(),
                cta: some.then(|| s.into()),
            },
            signals: vec![],
        }
    }

    /// One signal of each kind, every optional part present or not.
    fn signals(s: &str, x: f64, some: bool) -> Vec<crate::signals::Signal> {
        use crate::signals::*;
        let t = || crate::text::Text::from(s);
        let opt = || some.then(t);
        let props = vec![
            Properties::Classified(Classified {
                account: opt(),
                engagement_score: x,
                failed_gates: vec![t(), t()],
                fit_reasons: if some { vec![s.to_string()] } else { vec![] },
                fit_score: -x,
                fit_tier: t(),
                lifecycle: t(),
                qualified: some,
                role: opt(),
                role_confidence: some.then_some(x),
                seniority: opt(),
                seniority_weight: some.then_some(0.5),
                stage: t(),
                stage_confidence: x,
            }),
            Properties::StageChanged(StageChanged {
                account: opt(),
                confidence: x,
                from: opt(),
                moved_back: some,
                to: t(),
            }),
            Properties::Recommended(Recommended {
                account: opt(),
                action: t(),
                explored: some,
                holdout: !some,
                slots: vec![
                    SlotIds {
                        content_ids: vec![t(), t()],
                        default: some,
                        slot: t(),
                    },
                    SlotIds {
                        content_ids: vec![],
                        default: !some,
                        slot: t(),
                    },
                ],
                stage: t(),
            }),
            Properties::Mql(Qualified {
                account: opt(),
                engagement_score: some.then_some(x),
                fit_tier: t(),
                reason: t(),
            }),
            Properties::Sql(Qualified {
                account: (!some).then(t),
                engagement_score: (!some).then_some(-x),
                fit_tier: t(),
                reason: t(),
            }),
            Properties::Trigger(TriggerProps {
                account: opt(),
                fit_tier: t(),
                label: t(),
                stage: t(),
                trigger: t(),
            }),
        ];
        props
            .into_iter()
            .enumerate()
            .map(|(i, properties)| Signal {
                anonymous_id: t(),
                context: SignalContext {
                    // By i % 4: campaign only, both, page only, neither.
                    campaign: (i % 4 < 2).then(|| CampaignRef {
                        medium: some.then(|| s.to_string()),
                        name: Some(s.to_string()),
                        source: (!some).then(|| s.to_string()),
                    }),
                    consent: "full",
                    library: NameVersion {
                        name: "buyerpath",
                        version: "0.1.0",
                    },
                    page: (i % 4 == 1 || i % 4 == 2).then(|| PagePath { path: t() }),
                    playbook: PlaybookRef {
                        id: t(),
                        revision: u32::MAX,
                    },
                },
                event: "Visitor Classified",
                message_id: s.to_string(),
                original_timestamp: t(),
                properties,
                kind: "track",
            })
            .collect()
    }

    /// Short decimals (the fast path) and every other number are written as
    /// serde_json writes them.
    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let check = |x: f64| {
            let mut out = Vec::new();
            super::number(&mut out, x);
            let want = serde_json::to_string(&x).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{x:e}");
        };
        let mut next = crate::testing::xorshift(0x51_7cc1_b727_220a);
        for places in 0..=6 {
            let scale = 10f64.powi(places);
            for m in (0..30_000u64).chain((0..30_000).map(|_| next() % 10_000_000_000_000)) {
                let x = m as f64 / scale;
                check(x);
                check(-x);
                check(x + 1e-9);
            }
        }
        for _ in 0..200_000 {
            check(f64::from_bits(next()));
            check((next() % 2_000_000) as f64 / 1000.0 * 0.1);
        }
        // Four-place decimals above the fast path's range go to serde_json.
        for _ in 0..100_000 {
            check((10_000_000_000_000 + next() % 90_000_000_000_000) as f64 / 1e4);
        }
        for x in [
            0.0,
            -0.0,
            1e-3,
            9.99e-4,
            1e9,
            999_999_999.999_9,
            999_999_999.999_95,
            1e21,
            0.1 + 0.2,
        ] {
            check(x);
        }
    }

    /// serde_json's compact text with every non-ASCII character escaped as
    /// `\uXXXX` (outside strings, its text is ASCII).
    fn ascii(serde: &[u8]) -> String {
        let mut out = String::new();
        for c in String::from_utf8_lossy(serde).chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        out
    }

    /// The hand-escaped text reads back as the same value, and holds no
    /// byte outside ASCII.
    #[test]
    fn non_ascii_is_escaped_and_reads_back() {
        for s in hostile() {
            let d = decision(&s, 1.5, true);
            let text = super::text(&d);
            assert!(text.is_ascii(), "{text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, serde_json::to_value(&d).unwrap());
        }
        let mut out = Vec::new();
        super::string(&mut out, "é€😀\u{2028}");
        assert_eq!(out, b"\"\\u00e9\\u20ac\\ud83d\\ude00\\u2028\"");
    }

    /// Every string shape, number and optional field writes the bytes
    /// serde_json writes, non-ASCII escaped.
    #[test]
    fn writes_what_serde_json_writes() {
        let numbers = [
            0.0,
            -0.0,
            1.0,
            0.1,
            52.5,
            1e21,
            1e-7,
            123456789.125,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
        ];
        for s in hostile() {
            for x in numbers {
                for some in [false, true] {
                    let d = decision(&s, x, some);
                    let mut ours = Vec::new();
                    super::write(&d, &mut ours);
                    let theirs = serde_json::to_vec(&d).expect("serializes");
                    assert_eq!(String::from_utf8_lossy(&ours), ascii(&theirs));
                }
            }
        }
        for s in hostile() {
            for x in numbers {
                for (n, hand) in [(0, None), (1, Some(s.clone())), (3, None)] {
                    let o = crate::observe::Observed {
                        burst: hand.is_none(),
                        points: (0..n)
                            .map(|i| (s.as_str().into(), x * f64::from(i)))
                            .collect(),
                        hand_raise: hand,
                    };
                    let mut ours = Vec::new();
                    super::write_observed(&o, &mut ours);
                    let theirs = serde_json::to_vec(&o).expect("serializes");
                    assert_eq!(String::from_utf8_lossy(&ours), ascii(&theirs));
                }
            }
        }
        for s in hostile() {
            for x in numbers {
                for some in [false, true] {
                    let mut d = decision(&s, x, some);
                    let sc = crate::score::Scores {
                        qualified: d.qualified,
                        gates: d.gates.clone(),
                        fit: d.fit.clone(),
                        engagement: d.engagement.clone(),
                    };
                    let mut ours = Vec::new();
                    super::write_scores(&sc, crate::Detail::Full, &mut ours);
                    let theirs = serde_json::to_vec(&sc).expect("serializes");
                    assert_eq!(String::from_utf8_lossy(&ours), ascii(&theirs));
                    d.signals = signals(&s, x, some);
                    let mut ours = Vec::new();
                    super::write(&d, &mut ours);
                    let theirs = serde_json::to_vec(&d).expect("serializes");
                    assert_eq!(String::from_utf8_lossy(&ours), ascii(&theirs));
                }
            }
        }
        let mut n = Vec::new();
        for v in [0u64, 9, 10, 99, 100, 1 << 32, u64::MAX] {
            n.clear();
            super::integer(&mut n, v);
            assert_eq!(n, v.to_string().into_bytes());
        }
    }
}
