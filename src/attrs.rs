//! The attributes conditions see at decision time. Filled in two steps: what
//! is known before classification (company, person, account, BANT, campaign,
//! page), then the classification itself (fit, engagement, stage, role,
//! lifecycle, traits), so later conditions can use it.
//!
//! The attributes read as one JSON document (`company.industry`, `fit.tier`,
//! `traits.pricing_interest`), but that document is not built: every path is
//! sorted at compile time by where it starts ([`Root`]). The request's maps
//! and the engagement traits are borrowed, the few computed values sit in
//! fixed slots, and a path naming a whole object (`{"company": {"$exists":
//! true}}`) reads a document built on first use.

use crate::condition::{Path, NULL};
use crate::context::{Consent, Context};
use crate::engine::Engine;
use crate::hash::fnv1a32;
use crate::state::VisitorState;
use crate::time::DAY_MS;
use serde_json::{Map, Value};
use std::cell::OnceCell;

/// A computed attribute with a fixed place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Qualified,
    Consent,
    Lifecycle,
    FitScore,
    FitTier,
    EngagementScore,
    StageId,
    StageConfidence,
    RoleId,
    RoleConfidence,
    VisitorEvents,
    VisitorDays,
    PageContentId,
    PageFormat,
    PageUrl,
    PageReferrer,
    PersonTitle,
    PersonDepartment,
    PersonSeniority,
    CampaignSource,
    CampaignMedium,
    CampaignName,
}
const SLOTS: usize = 22;

/// The slots of the document's objects, by (object, key).
pub(crate) const NESTED: [(&str, &str, Slot); 19] = [
    ("fit", "score", Slot::FitScore),
    ("fit", "tier", Slot::FitTier),
    ("engagement", "score", Slot::EngagementScore),
    ("stage", "id", Slot::StageId),
    ("stage", "confidence", Slot::StageConfidence),
    ("role", "id", Slot::RoleId),
    ("role", "confidence", Slot::RoleConfidence),
    ("visitor", "events", Slot::VisitorEvents),
    ("visitor", "days_since_first", Slot::VisitorDays),
    ("page", "content_id", Slot::PageContentId),
    ("page", "format", Slot::PageFormat),
    ("page", "url", Slot::PageUrl),
    ("page", "referrer", Slot::PageReferrer),
    ("person", "title", Slot::PersonTitle),
    ("person", "department", Slot::PersonDepartment),
    ("person", "seniority", Slot::PersonSeniority),
    ("campaign", "source", Slot::CampaignSource),
    ("campaign", "medium", Slot::CampaignMedium),
    ("campaign", "name", Slot::CampaignName),
];

/// Where an attribute path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// Below `company.` (the request's map).
    Company,
    /// Below `account.`.
    Account,
    /// Below `traits.` (engagement traits, after classification).
    Traits,
    /// Below `bant.` (the visitor's answers, by dimension).
    Bant,
    /// A computed value (and anything below it).
    Slot(Slot),
    /// A whole object of the document (`company`, `fit`...): read from the
    /// document built on first use.
    Doc,
    /// Not in the document: always `null`.
    Null,
}

impl Root {
    /// Where a path split into `segs` starts, and how many segments that takes.
    pub(crate) fn of(segs: &[&str]) -> (Root, usize) {
        let (first, second) = match segs {
            [] => return (Root::Null, 0),
            [first] => (*first, None),
            [first, second, ..] => (*first, Some(*second)),
        };
        match (first, second) {
            ("qualified", _) => (Root::Slot(Slot::Qualified), 1),
            ("consent", _) => (Root::Slot(Slot::Consent), 1),
            ("lifecycle", _) => (Root::Slot(Slot::Lifecycle), 1),
            ("company", Some(_)) => (Root::Company, 1),
            ("account", Some(_)) => (Root::Account, 1),
            ("traits", Some(_)) => (Root::Traits, 1),
            ("bant", Some(_)) => (Root::Bant, 1),
            ("company" | "account" | "traits" | "bant", None) => (Root::Doc, 0),
            (object, None) if NESTED.iter().any(|(o, _, _)| *o == object) => (Root::Doc, 0),
            (object, Some(key)) => NESTED
                .iter()
                .find(|(o, k, _)| *o == object && *k == key)
                .map_or((Root::Null, 0), |(_, _, s)| (Root::Slot(*s), 2)),
            (_, None) => (Root::Null, 0),
        }
    }
}

/// The attributes of one decision.
#[derive(Debug)]
pub struct Attrs<'a> {
    company: &'a Map<String, Value>,
    account: &'a Map<String, Value>,
    /// BANT answers as (dimension id, option id), in the state's order.
    bant: Vec<(&'a str, Value)>,
    traits: Option<&'a Map<String, Value>>,
    /// The keys of the `company`, `account` and `traits` maps with their
    /// hashes, for lookups by a path's precomputed key hash (a B-tree search
    /// compares the key with up to all of a node's keys, byte by byte).
    keys: Vec<(Root, u32, &'a str, &'a Value)>,
    slots: [Value; SLOTS],
    doc: OnceCell<Value>,
}

/// Adds a map's keys, with their hashes, to a lookup index. An attribute
/// with no value (null, a blank string, an empty list or object: what an
/// enrichment provider sends for one it does not know) is left out, so it
/// reads as absent: neutral in fit, `unknown` rather than failed in a gate.
fn index<'a>(
    keys: &mut Vec<(Root, u32, &'a str, &'a Value)>,
    root: Root,
    m: &'a Map<String, Value>,
) {
    let blank = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    keys.extend(
        m.iter()
            .filter(|(_, v)| !blank(v))
            .map(|(k, v)| (root, fnv1a32(k.as_bytes()), k.as_str(), v)),
    );
}

impl<'a> Attrs<'a> {
    /// The pre-classification attributes.
    pub fn base(
        engine: &'a Engine,
        s: &VisitorState,
        ctx: &'a Context,
        now: u64,
        seniority: Option<&str>,
    ) -> Attrs<'a> {
        let mut keys = Vec::with_capacity(ctx.company.len() + ctx.account.len() + 16);
        index(&mut keys, Root::Company, &ctx.company);
        index(&mut keys, Root::Account, &ctx.account);
        let mut a = Attrs {
            company: &ctx.company,
            account: &ctx.account,
            keys,
            bant: s
                .bant
                .iter()
                .filter_map(|(d, o)| engine.bant_option(*d, *o))
                .map(|(d, o)| (d.id.as_str(), Value::from(o.id.as_str())))
                .collect(),
            traits: None,
            slots: std::array::from_fn(|_| Value::Null),
            doc: OnceCell::new(),
        };
        let text = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
        if ctx.consent == Consent::Full {
            a.put(Slot::PersonTitle, text(&ctx.person.title));
            a.put(Slot::PersonDepartment, text(&ctx.person.department));
        }
        a.put(
            Slot::PersonSeniority,
            seniority.map_or(Value::Null, Value::from),
        );
        a.put(Slot::CampaignSource, text(&ctx.campaign.source));
        a.put(Slot::CampaignMedium, text(&ctx.campaign.medium));
        a.put(Slot::CampaignName, text(&ctx.campaign.name));
        if let Some(id) = &ctx.page.content_id {
            a.put(Slot::PageContentId, Value::from(id.as_str()));
            let format = engine
                .content_by_id(id)
                .and_then(|i| engine.content.get(i))
                .and_then(|item| engine.formats.get(item.format));
            if let Some(f) = format {
                a.put(Slot::PageFormat, Value::from(f.as_str()));
            }
        }
        a.put(Slot::PageUrl, text(&ctx.page.url));
        a.put(Slot::PageReferrer, text(&ctx.page.referrer));
        a.put(Slot::Consent, Value::from(ctx.consent.as_str()));
        let days = if s.first_seen > 0 {
            now.saturating_sub(s.first_seen) / DAY_MS
        } else {
            0
        };
        a.put(Slot::VisitorEvents, Value::from(s.events));
        a.put(Slot::VisitorDays, Value::from(days));
        a
    }

    /// Adds the classification (the document's `qualified`, `fit`,
    /// `engagement`, `stage`, `role`, `lifecycle` and `traits`).
    pub fn classify(&mut self, c: Classification<'a>) {
        self.put(Slot::Qualified, Value::from(c.qualified));
        self.put(Slot::FitScore, Value::from(c.fit.0));
        self.put(Slot::FitTier, Value::from(c.fit.1));
        self.put(Slot::EngagementScore, Value::from(c.engagement));
        self.put(Slot::StageId, Value::from(c.stage.0));
        self.put(Slot::StageConfidence, Value::from(c.stage.1));
        self.put(Slot::RoleId, Value::from(c.role.0));
        self.put(Slot::RoleConfidence, Value::from(c.role.1));
        self.put(Slot::Lifecycle, Value::from(c.lifecycle));
        self.traits = Some(c.traits);
        index(&mut self.keys, Root::Traits, c.traits);
    }

    /// The request's account map.
    pub fn account(&self) -> &'a Map<String, Value> {
        self.account
    }

    fn put(&mut self, slot: Slot, v: Value) {
        if let Some(x) = self.slots.get_mut(slot as usize) {
            *x = v;
        }
        self.doc = OnceCell::new();
    }

    fn slot(&self, slot: Slot) -> &Value {
        self.slots.get(slot as usize).unwrap_or(&NULL)
    }

    /// The value at a condition's path, `null` when absent (array elements
    /// are reached by index, as GrowthBook's `getPath`).
    pub(crate) fn at(&self, p: &Path) -> &Value {
        self.get(p, true)
    }

    /// The value at a path through objects only; `null` counts as absent.
    pub(crate) fn lookup(&self, p: &Path) -> Option<&Value> {
        Some(self.get(p, false)).filter(|v| !v.is_null())
    }

    fn get(&self, p: &Path, arrays: bool) -> &Value {
        let in_map = |root: Root| -> &Value {
            let Some(key) = p.seg(p.skip) else {
                return &NULL;
            };
            let hit = self
                .keys
                .iter()
                .find(|(r, h, k, _)| *h == p.key_hash && *r == root && *k == key);
            match hit {
                Some((_, _, _, v)) => p.walk(v, p.skip + 1, arrays),
                None => &NULL,
            }
        };
        match p.root {
            Root::Company | Root::Account | Root::Traits => in_map(p.root),
            Root::Bant => {
                // The document's object keeps the last answer of a dimension.
                let dim = p.seg(p.skip).unwrap_or_default();
                match self.bant.iter().rev().find(|(d, _)| *d == dim) {
                    Some((_, v)) => p.walk(v, p.skip + 1, arrays),
                    None => &NULL,
                }
            }
            // Unfilled slots (the classification before `classify`) are null.
            Root::Slot(s) => p.walk(self.slot(s), p.skip, arrays),
            Root::Doc => p.walk(self.doc(), 0, arrays),
            Root::Null => &NULL,
        }
    }

    /// The whole document, as conditions would see it written out: the
    /// request's maps, the BANT answers, and an object per group of
    /// [`NESTED`] slots (the classification's only once it is added).
    fn doc(&self) -> &Value {
        self.doc.get_or_init(|| {
            let mut m = Map::new();
            m.insert("company".into(), Value::Object(self.company.clone()));
            m.insert("account".into(), Value::Object(self.account.clone()));
            // The last answer of a dimension wins, as when collected.
            let mut bant = Map::new();
            for (d, o) in &self.bant {
                bant.insert((*d).to_string(), o.clone());
            }
            m.insert("bant".into(), Value::Object(bant));
            m.insert("consent".into(), self.slot(Slot::Consent).clone());
            for (object, key, slot) in NESTED {
                let classification = !matches!(object, "person" | "page" | "campaign" | "visitor");
                if classification && !self.classified() {
                    continue;
                }
                let entry = m.entry(object).or_insert_with(|| Value::Object(Map::new()));
                let v = self.slot(slot);
                // `person` and `page` hold only what is known.
                let known_only = matches!(object, "person" | "page");
                if let (Value::Object(o), false) = (entry, known_only && v.is_null()) {
                    o.insert(key.to_string(), v.clone());
                }
            }
            if self.classified() {
                m.insert("qualified".into(), self.slot(Slot::Qualified).clone());
                m.insert("lifecycle".into(), self.slot(Slot::Lifecycle).clone());
                let traits = self.traits.cloned().unwrap_or_default();
                m.insert("traits".into(), Value::Object(traits));
            }
            Value::Object(m)
        })
    }

    /// Whether the classification has been added (only it sets the traits).
    fn classified(&self) -> bool {
        self.traits.is_some()
    }
}

/// What classification adds to the attributes.
#[derive(Debug, Clone, Copy)]
pub struct Classification<'a> {
    /// All gates passed or unknown.
    pub qualified: bool,
    /// Fit score and tier.
    pub fit: (f64, &'a str),
    /// Engagement score.
    pub engagement: f64,
    /// Stage id and confidence.
    pub stage: (&'a str, f64),
    /// Role id and confidence.
    pub role: (&'a str, f64),
    /// Lifecycle stage.
    pub lifecycle: &'a str,
    /// Engagement traits.
    pub traits: &'a Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::DecideRequest;
    use crate::Engine;
    use serde_json::json;

    /// Every path reads the same through the slots as through the document.
    #[test]
    fn slots_read_as_the_document() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/acme/playbook.json"
        ))
        .unwrap();
        let engine = Engine::from_json(&text).unwrap();
        let v = engine.visitor("t").unwrap();
        let req = DecideRequest::from_value(&json!({"now": 1_793_610_000_000u64, "context": {
            "consent": "full",
            "company": {"industry": "fintech", "tech": ["a", {"b": 1}], "n": null},
            "account": {"stage": "validation"},
            "person": {"title": "CFO"},
            "page": {"content_id": "pricing", "url": "/pricing"},
            "campaign": {"source": "g"}}}))
        .unwrap();
        let traits: Map<String, Value> =
            serde_json::from_value(json!({"pricing": 3, "deep": {"x": [1, 2]}})).unwrap();
        let mut a = Attrs::base(&engine, v.state(), &req.context, req.now, Some("vp"));
        let paths = [
            "company",
            "company.industry",
            "company.tech.0",
            "company.tech.1.b",
            "company.tech.01",
            "company.n",
            "company.missing",
            "account.stage",
            "account",
            "person",
            "person.title",
            "person.seniority",
            "person.x",
            "campaign",
            "campaign.source",
            "campaign.medium",
            "page",
            "page.content_id",
            "page.format",
            "page.url",
            "consent",
            "consent.x",
            "visitor",
            "visitor.events",
            "visitor.days_since_first",
            "qualified",
            "fit",
            "fit.score",
            "fit.tier",
            "fit.tier.x",
            "fit.other",
            "engagement.score",
            "stage",
            "stage.id",
            "stage.confidence",
            "role.id",
            "role.confidence",
            "lifecycle",
            "traits",
            "traits.pricing",
            "traits.deep.x.1",
            "traits.nope",
            "bant",
            "bant.budget",
            "nothing",
            "nothing.at.all",
            "",
            ".",
        ];
        let check = |a: &Attrs| {
            let doc = a.doc().clone();
            for raw in paths {
                let p = Path::new(raw);
                assert_eq!(a.at(&p), p.resolve(&doc), "{raw}");
                let objects_only = raw
                    .split('.')
                    .try_fold(&doc, |cur, k| cur.as_object().and_then(|m| m.get(k)))
                    .filter(|v| !v.is_null());
                assert_eq!(a.lookup(&p), objects_only, "{raw}");
            }
        };
        check(&a);
        a.classify(Classification {
            qualified: true,
            fit: (72.5, "A"),
            engagement: 12.0,
            stage: ("validation", 0.4),
            role: ("economic_buyer", 0.6),
            lifecycle: "mql",
            traits: &traits,
        });
        check(&a);
        assert_eq!(a.at(&Path::new("fit.tier")), &json!("A"));
        assert_eq!(a.at(&Path::new("traits.deep.x.1")), &json!(2));
    }
}
