//! The account and funnel views. They read the signals as the engine emitted
//! them (the decision as it was made, under the playbook revision stamped on
//! each signal) and never recompute a classification.

pub mod accounts;
pub mod calibration;
pub mod funnel;
pub mod lift;
pub mod signals;

use foldhash::HashMap;
use serde::Deserialize;
use serde_json::Value;
use signals::Strings;
use std::sync::Arc;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The signals the views read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Classified,
    StageChanged,
    Recommended,
    Mql,
    Sql,
    Trigger,
    /// Not a signal: Segment's group call (`account`: its `groupId`), which
    /// says which account a visitor is of. See [`Groups`].
    Group,
}

impl Kind {
    const NAMES: [(&'static str, Kind); 6] = [
        ("Visitor Classified", Kind::Classified),
        ("Stage Changed", Kind::StageChanged),
        ("Content Recommended", Kind::Recommended),
        ("MQL Reached", Kind::Mql),
        ("SQL Reached", Kind::Sql),
        ("Sales Trigger Fired", Kind::Trigger),
    ];

    fn parse(name: &str) -> Option<Kind> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }
}

/// Which account each visitor is of, by Segment's group calls: the account
/// of a visitor's latest group call among the signals a view reads (so up
/// to its `as_of`), and whether that call came with a trusted write key. A
/// signal that names no account of its own (the engine did not know the
/// company: no enrichment) is about that account.
pub struct Groups<'a>(HashMap<&'a str, (&'a str, bool)>);

impl<'a> Groups<'a> {
    /// The links of the group calls among `signals` (in time order).
    pub fn of(signals: &'a [Signal]) -> Groups<'a> {
        let calls = signals.iter().filter(|s| s.kind == Kind::Group);
        Groups(
            calls
                .filter_map(|s| Some((&*s.visitor, (s.account.as_deref()?, s.trusted))))
                .filter(|(visitor, _)| !visitor.is_empty())
                .collect(),
        )
    }

    /// The account `s` is about: its own, else its visitor's by a group call.
    pub fn account(&self, s: &'a Signal) -> Option<&'a str> {
        self.placed(s).map(|(account, _)| account)
    }

    /// The account `s` is about, and whether it is a verified fact that `s`
    /// is about it: `s` came with a trusted key and names the account
    /// itself, or a group call with a trusted key placed its visitor there.
    /// (A browser's group call must not make a verified signal of another
    /// visitor's the fit of an account it names.)
    pub fn placed(&self, s: &'a Signal) -> Option<(&'a str, bool)> {
        match s.account.as_deref() {
            Some(own) => Some((own, s.trusted)),
            None => {
                let (account, trusted) = *self.0.get(&*s.visitor)?;
                Some((account, s.trusted && trusted))
            }
        }
    }
}

/// One stored buyerpath signal. Its strings are shared (one copy of each
/// distinct string among the signals kept: [`signals::Strings`]).
#[derive(Debug, Clone)]
pub struct Signal {
    /// The row's SQLite rowid.
    pub row: i64,
    /// `anonymousId`, else `userId`.
    pub visitor: Arc<str>,
    pub kind: Kind,
    pub account: Option<Arc<str>>,
    pub playbook_id: Arc<str>,
    pub revision: Option<i64>,
    /// The corrected timestamp, ms since the epoch.
    pub ts: i64,
    pub props: Props,
    /// Sent with a trusted (server-side) write key; otherwise client-asserted.
    pub trusted: bool,
}

impl Signal {
    /// The stage this signal puts the visitor in, if it says.
    pub fn stage(&self) -> Option<&str> {
        match self.kind {
            Kind::Classified => self.props.stage.as_deref(),
            Kind::StageChanged => self.props.to.as_deref(),
            _ => None,
        }
    }
}

/// The properties the views read (of all six signals), decoded without
/// building a JSON tree for each row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Props {
    pub fit_tier: Option<Arc<str>>,
    pub fit_score: Option<f64>,
    pub qualified: Option<bool>,
    /// The gates that failed (Visitor Classified): why `qualified` is false.
    pub failed_gates: Option<Vec<Arc<str>>>,
    pub engagement_score: Option<f64>,
    pub seniority_weight: Option<f64>,
    pub lifecycle: Option<Arc<str>>,
    pub role: Option<Arc<str>>,
    pub stage: Option<Arc<str>>,
    pub from: Option<Arc<str>>,
    pub to: Option<Arc<str>>,
    pub moved_back: Option<bool>,
    pub trigger: Option<Arc<str>>,
    pub holdout: Option<bool>,
    pub slots: Option<Vec<Slot>>,
}

/// One slot of a Content Recommended signal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Slot {
    pub content_ids: Vec<Arc<str>>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    properties: Option<Props>,
}

/// The largest seniority weight the views take: the playbook's limit on a
/// multiplier (they are about 0.5 to 2: Demandbase's C-level 2.0).
pub const MAX_SENIORITY_WEIGHT: f64 = buyerpath::playbook::MAX_SENIORITY_MULTIPLIER;

impl Props {
    /// Reads an event's properties; a field of an unexpected type is skipped,
    /// not fatal, and so is a number outside what the engine reports.
    fn from_payload(text: &str, strings: &mut Strings) -> Props {
        Self::decode(text).bounded().shared(strings)
    }

    /// The same with each string replaced by its shared copy.
    fn shared(self, strings: &mut Strings) -> Props {
        let mut list = |l: &[Arc<str>]| l.iter().map(|x| strings.get(x)).collect::<Vec<_>>();
        let failed_gates = self.failed_gates.as_deref().map(&mut list);
        let slots = self.slots.as_deref().map(|slots| {
            slots
                .iter()
                .map(|slot| Slot {
                    content_ids: list(&slot.content_ids),
                })
                .collect()
        });
        let mut one = |x: Option<Arc<str>>| x.map(|x| strings.get(&x));
        Props {
            fit_tier: one(self.fit_tier),
            lifecycle: one(self.lifecycle),
            role: one(self.role),
            stage: one(self.stage),
            from: one(self.from),
            to: one(self.to),
            trigger: one(self.trigger),
            failed_gates,
            slots,
            ..self
        }
    }

    /// The numbers as the engine makes them, or none: a fit or engagement
    /// score from 0 to 100, a seniority weight from 0 to
    /// [`MAX_SENIORITY_WEIGHT`]. A public write key is in every page, so a
    /// forged signal could otherwise rank an account first with `1e308`.
    fn bounded(mut self) -> Props {
        let within = |x: Option<f64>, hi: f64| x.filter(|x| (0.0..=hi).contains(x));
        self.fit_score = within(self.fit_score, 100.0);
        self.engagement_score = within(self.engagement_score, 100.0);
        self.seniority_weight = within(self.seniority_weight, MAX_SENIORITY_WEIGHT);
        self
    }

    fn decode(text: &str) -> Props {
        if let Ok(p) = serde_json::from_str::<Payload>(text) {
            return p.properties.unwrap_or_default();
        }
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let Some(m) = v.get("properties").and_then(Value::as_object) else {
            return Props::default();
        };
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(Arc::from);
        let n = |k: &str| m.get(k).and_then(Value::as_f64);
        let b = |k: &str| m.get(k).and_then(Value::as_bool);
        let slots = m.get("slots").and_then(Value::as_array).map(|a| {
            a.iter()
                .map(|slot| Slot {
                    content_ids: slot
                        .get("content_ids")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(Arc::from)
                        .collect(),
                })
                .collect()
        });
        let strings = |k: &str| {
            m.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(Arc::from).collect())
        };
        Props {
            fit_tier: s("fit_tier"),
            fit_score: n("fit_score"),
            qualified: b("qualified"),
            failed_gates: strings("failed_gates"),
            engagement_score: n("engagement_score"),
            seniority_weight: n("seniority_weight"),
            lifecycle: s("lifecycle"),
            role: s("role"),
            stage: s("stage"),
            from: s("from"),
            to: s("to"),
            moved_back: b("moved_back"),
            trigger: s("trigger"),
            holdout: b("holdout"),
            slots,
        }
    }
}

/// Rounds to `d` decimals (figures are reported at fixed precision).
pub fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0),
    }
}

/// `a / b`, or null when `b` is zero.
pub fn ratio(a: usize, b: usize) -> Value {
    if b == 0 {
        Value::Null
    } else {
        Value::from(round(a as f64 / b as f64, 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(ratio(1, 0), Value::Null);
        assert_eq!(ratio(1, 3), Value::from(0.3333));
    }

    #[test]
    fn properties_of_an_unexpected_type_are_skipped() {
        let from_payload = |text: &str| Props::from_payload(text, &mut Strings::default());
        let p = from_payload(
            r#"{"properties":{"stage":"x","fit_tier":7,"slots":[{"content_ids":["a",1]}]}}"#,
        );
        assert_eq!(p.stage.as_deref(), Some("x"));
        assert_eq!(p.fit_tier, None);
        assert_eq!(p.slots.unwrap()[0].content_ids, vec![Arc::from("a")]);
        let p = from_payload(r#"{"context":{},"properties":{"holdout":true,"extra":[1,2]}}"#);
        assert_eq!(p.holdout, Some(true));
        let p = from_payload(
            r#"{"properties":{"qualified":false,"failed_gates":["competitors",3],"stage":1}}"#,
        );
        assert_eq!(p.failed_gates, Some(vec![Arc::from("competitors")]));
    }
}
