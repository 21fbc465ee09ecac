//! The playbook's criteria and bands as features. Which band a row falls in
//! is decided by the engine itself (a probe copy of the playbook where band
//! `j` of every criterion is worth `j + 1` points and `otherwise` −1), so a
//! band means here exactly what it means at decision time: `in` lists,
//! ranges, `when` conditions, named lists, arrays, case folding.
//! An unknown attribute is no feature at all: neutral, as in the engine.

use super::crm::Record;
use anyhow::{anyhow, Context as _, Result};
use buyerpath::{Consent, Context, DecideRequest, Engine};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Any fixed time: fit does not depend on it.
const NOW: u64 = 1_800_000_000_000;

/// One level of a criterion: a band, or `otherwise`.
#[derive(Debug, Clone)]
pub struct Level {
    pub label: String,
    /// Current points × the criterion's weight.
    pub old_points: f64,
    pub otherwise: bool,
}

/// A criterion with its levels and where they sit in the feature vector.
#[derive(Debug, Clone)]
pub struct Criterion {
    /// Switched off by its author (`"weight": 0`): not learnt, not rewritten.
    pub off: bool,
    pub id: String,
    pub label: String,
    pub attribute: String,
    pub levels: Vec<Level>,
    /// Index of its first level in the feature vector.
    pub offset: usize,
    /// Whether a band tests a range (`min`, `max`): the attribute is a number.
    pub numeric: bool,
}

impl Criterion {
    /// The records whose attribute is there but not a number where the
    /// criterion's bands are ranges (a CRM column holding `lots`): the
    /// engine puts them in no band, so they would teach `otherwise`.
    /// Their count and the first such value.
    pub fn not_numbers<'a>(
        &self,
        records: impl Iterator<Item = &'a Record>,
    ) -> (usize, Option<String>) {
        if !self.numeric {
            return (0, None);
        }
        let mut count = 0;
        let mut first = None;
        for r in records {
            match attribute(r, &self.attribute) {
                Some(Value::Number(_)) | Some(Value::Null) | None => {}
                Some(other) => {
                    count += 1;
                    first.get_or_insert_with(|| match other {
                        Value::String(s) => s.chars().take(40).collect(),
                        v => v.to_string().chars().take(40).collect(),
                    });
                }
            }
        }
        (count, first)
    }
}

/// A record's value of a `company.*`, `account.*`, `bant.*` or
/// `campaign.*` attribute (`company.hq.country` looks inside objects), as
/// the export gave it; `None` where the row has none (or another scope).
pub fn attribute<'a>(r: &'a Record, attribute: &str) -> Option<&'a Value> {
    let (scope, key) = attribute.split_once('.')?;
    let map = match scope {
        "company" => &r.company,
        "account" => &r.account,
        "bant" => &r.bant,
        "campaign" => &r.campaign,
        _ => return None,
    };
    let mut parts = key.split('.');
    let mut at = map.get(parts.next()?);
    for part in parts {
        at = at.and_then(|v| v.get(part));
    }
    at.filter(|v| !v.is_null())
}

/// The feature layout of a playbook.
#[derive(Debug, Clone)]
pub struct Layout {
    pub criteria: Vec<Criterion>,
    pub n_features: usize,
}

/// A row as the active feature indices (at most one per criterion).
pub type Row = Vec<u32>;

impl Layout {
    /// Reads the fit section of a playbook document.
    pub fn from_playbook(doc: &Value) -> Result<Layout> {
        let crits = doc
            .pointer("/fit/criteria")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("the playbook has no fit.criteria"))?;
        let mut criteria = Vec::new();
        let mut offset = 0;
        for c in crits {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let weight = c.get("weight").and_then(Value::as_f64).unwrap_or(1.0);
            let mut levels: Vec<Level> = c
                .get("bands")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(j, b)| Level {
                    label: b
                        .get("label")
                        .and_then(Value::as_str)
                        .filter(|l| !l.is_empty())
                        .map_or_else(|| format!("band {}", j + 1), str::to_string),
                    old_points: b.get("points").and_then(Value::as_f64).unwrap_or(0.0) * weight,
                    otherwise: false,
                })
                .collect();
            levels.push(Level {
                label: "anything else".into(),
                old_points: c.get("otherwise").and_then(Value::as_f64).unwrap_or(0.0) * weight,
                otherwise: true,
            });
            let n = levels.len();
            let numeric = c
                .get("bands")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|b| b.get("min").is_some() || b.get("max").is_some());
            criteria.push(Criterion {
                off: weight == 0.0,
                numeric,
                id: s("id"),
                label: s("label"),
                attribute: s("attribute"),
                levels,
                offset,
            });
            offset += n;
        }
        Ok(Layout {
            criteria,
            n_features: offset,
        })
    }

    /// Current points of every feature.
    pub fn old_points(&self) -> Vec<f64> {
        self.criteria
            .iter()
            .flat_map(|c| c.levels.iter().map(|l| l.old_points))
            .collect()
    }
}

/// The probe playbook: same criteria, bands numbered by their points.
fn probe(doc: &Value) -> Value {
    let mut p = doc.clone();
    if let Some(crits) = p.pointer_mut("/fit/criteria").and_then(Value::as_array_mut) {
        for c in crits {
            if let Some(m) = c.as_object_mut() {
                m.insert("weight".into(), json!(1.0));
                m.insert("otherwise".into(), json!(-1.0));
                if let Some(bands) = m.get_mut("bands").and_then(Value::as_array_mut) {
                    for (j, b) in bands.iter_mut().enumerate() {
                        if let Some(bm) = b.as_object_mut() {
                            bm.insert("points".into(), json!(j as f64 + 1.0));
                        }
                    }
                }
            }
        }
    }
    p
}

/// Encodes every record as feature indices.
pub fn encode(doc: &Value, layout: &Layout, records: &[Record]) -> Result<Vec<Row>> {
    let scorer = Scorer::new(&probe(doc))?;
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let d = scorer
            .decide(r, i)
            .with_context(|| format!("line {}", r.line))?;
        let mut row = Vec::new();
        for cr in &d.fit.criteria {
            let Some(c) = layout.criteria.iter().find(|c| c.id == *cr.id) else {
                continue;
            };
            let level = if cr.points < 0.0 {
                c.levels.len().saturating_sub(1)
            } else {
                (cr.points.round() as usize).saturating_sub(1)
            };
            if level < c.levels.len() {
                row.push((c.offset + level) as u32);
            }
        }
        row.sort_unstable();
        out.push(row);
    }
    Ok(out)
}

/// A compiled playbook that scores CRM records.
#[derive(Debug)]
pub struct Scorer {
    pub engine: Engine,
    /// BANT dimension id → the form field that carries it.
    bant_fields: BTreeMap<String, String>,
}

impl Scorer {
    /// Compiles a playbook document.
    pub fn new(doc: &Value) -> Result<Scorer> {
        let engine = Engine::from_value(doc.clone())
            .map_err(|e| anyhow!("the playbook is not valid: {e}"))?;
        let bant_fields = doc
            .get("bant")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| {
                Some((
                    d.get("id")?.as_str()?.to_string(),
                    d.get("field")?.as_str()?.to_string(),
                ))
            })
            .collect();
        Ok(Scorer {
            engine,
            bant_fields,
        })
    }

    /// The engine's fit score and tier of each record.
    pub fn scores(&self, records: &[Record]) -> Result<Vec<(f64, String)>> {
        records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let d = self
                    .decide(r, i)
                    .with_context(|| format!("line {}", r.line))?;
                Ok((d.fit.score, d.fit.tier.into()))
            })
            .collect()
    }

    /// One decision for a record: BANT answers arrive as a form submission,
    /// the way the engine learns them on the site.
    pub fn decide(&self, r: &Record, i: usize) -> Result<buyerpath::Decision> {
        let engine = &self.engine;
        let mut v = engine
            .visitor(&format!("crm-{i}"))
            .map_err(|e| anyhow!("{e}"))?;
        if !r.bant.is_empty() {
            let fields: Map<String, Value> = r
                .bant
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    let field = self
                        .bant_fields
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| k.clone());
                    (field, Value::from(text))
                })
                .collect();
            let ev =
                json!({"type": "form_submit", "ts": NOW - 1000, "form": "crm", "fields": fields});
            engine
                .observe_json(&mut v, &ev.to_string())
                .map_err(|e| anyhow!("BANT answers: {e}"))?;
        }
        let req = DecideRequest {
            now: NOW,
            slots: engine.slot_ids().first().map(|s| vec![s.to_string()]),
            context: context(r),
            ..Default::default()
        };
        engine.decide(&mut v, &req).map_err(|e| anyhow!("{e}"))
    }
}

/// The engine's context for a record (full consent: the export is first-party CRM data).
pub fn context(r: &Record) -> Context {
    let s = |k: &str| {
        r.campaign
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut ctx = Context {
        consent: Consent::Full,
        company: r.company.clone(),
        account: r.account.clone(),
        ..Context::default()
    };
    ctx.campaign.source = s("source");
    ctx.campaign.medium = s("medium");
    ctx.campaign.name = s("name");
    ctx.person.title = r.title.clone();
    ctx.person.department = r.department.clone();
    ctx
}
