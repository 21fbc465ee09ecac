//! `GET /api/calibration`: what a candidate playbook revision (`serve
//! --candidate playbook.r2.json`, written by `buyerpath calibrate fit`) would
//! do to the store's accounts before anyone adopts it: how many move up or
//! down a tier, the tier-to-tier matrix and every mover.
//!
//! The store's signals carry the fit as it was decided (tier, score and the
//! top five reasons), not the firmographics behind it, so an account cannot
//! be re-scored from the store alone. The firmographics come from
//! `--accounts` (a CRM export or account list in `calibrate fit`'s format,
//! joined on `company.domain`, else `account_id`, else `id`): each matched account is scored by
//! the engine under the current playbook and under the candidate, on the
//! same attributes, so a move is the revision's doing and nothing else's.
//!
//! Up and down follow the tiers' order: in each playbook tiers rank by their
//! `min` (a higher `min` is a higher tier), a tier id both playbooks have is
//! the same tier (never a move), and a tier only one of them has sits between
//! its neighbours there ([`TierOrder`]).

use super::{accounts, round, Signal};
use crate::calibrate::crm::{self, Record};
use crate::calibrate::features::{self, Layout, Scorer};
use crate::serve::config::{Config, PlaybookMeta};
use crate::serve::iso;
use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Movers returned at most (the counts cover every account).
const MOVERS_LIMIT: usize = 500;
/// Store accounts without firmographics listed at most.
const UNSCORED_LIMIT: usize = 50;

/// What `--candidate` and `--accounts` load at start.
#[derive(Debug)]
pub struct Setup {
    /// The playbook in use (`--playbook`), compiled once at start.
    current: Scorer,
    candidate_path: PathBuf,
    /// The candidate revision, compiled once at start.
    candidate: Scorer,
    candidate_meta: PlaybookMeta,
    /// Problems worth saying before anyone adopts the candidate.
    warnings: Vec<String>,
    accounts: Option<Accounts>,
    /// Which tier is above which, across both playbooks.
    order: TierOrder,
}

/// The `--accounts` file, indexed by account domain.
#[derive(Debug)]
struct Accounts {
    path: PathBuf,
    rows: usize,
    /// Normalised domain (or id) → record; the last row of a domain wins.
    /// Rows with neither are not here: nothing joins them.
    by_key: BTreeMap<String, Record>,
    /// Keys that appeared on more than one row.
    repeated: usize,
}

fn read_doc(path: &Path, what: &str) -> Result<Value> {
    // Read as `check` and `calibrate` read a playbook (a byte order mark is skipped).
    let text = crate::input::read_playbook(path)
        .with_context(|| format!("reading the {what} {}", path.display()))?
        .and_then(|text| buyerpath::Engine::from_json(&text).map(|_| text))
        .map_err(|e| anyhow::anyhow!("the {what} {} is not valid: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

impl Setup {
    /// Reads and checks `--candidate` (and `--accounts`); `None` without a candidate.
    pub fn load(
        candidate: Option<&Path>,
        accounts: Option<&Path>,
        playbook: &Path,
    ) -> Result<Option<Arc<Setup>>> {
        let Some(candidate_path) = candidate else {
            if accounts.is_some() {
                bail!("--accounts is only used with --candidate (the revision to review)");
            }
            return Ok(None);
        };
        let current = read_doc(playbook, "playbook")?;
        let doc = read_doc(candidate_path, "candidate playbook (--candidate)")?;
        let meta = PlaybookMeta::from_value(&doc);
        let cur = PlaybookMeta::from_value(&current);
        if doc.pointer("/fit/criteria").is_none() {
            bail!(
                "the candidate playbook {} has no fit criteria: nothing to compare",
                candidate_path.display()
            );
        }
        let mut warnings = Vec::new();
        if meta.id != cur.id {
            warnings.push(format!(
                "the candidate is playbook `{}`, the current one `{}`",
                meta.id, cur.id
            ));
        }
        if meta.revision <= cur.revision {
            warnings.push(format!(
                "the candidate's revision ({}) is not above the current one ({}): edges and browsers cache per revision and would not pick it up",
                meta.revision, cur.revision
            ));
        }
        let order = TierOrder::new(&current, &doc);
        if meta.tiers != cur.tiers {
            warnings.push(format!(
                "the tiers differ (current {}, candidate {}): a tier of the same id is the same tier, and up and down follow the order {}",
                cur.tiers.join(", "),
                meta.tiers.join(", "),
                order.describe()
            ));
        }
        let accounts = match accounts {
            None => None,
            Some(path) => {
                let export = crm::read_accounts(path)?;
                let rows = export.records.len();
                if rows == 0 {
                    warnings.push(format!(
                        "{} has no account rows: no account can be re-scored",
                        path.display()
                    ));
                }
                let keyless = export.records.iter().filter(|r| r.key.is_none()).count();
                if rows > 0 && keyless == rows {
                    warnings.push(format!(
                        "no row of {} has a `company.domain` or an `id`: no store account can be joined to it, so none is re-scored",
                        path.display()
                    ));
                } else if keyless > 0 {
                    warnings.push(format!(
                        "{keyless} rows of {} have neither `company.domain` nor `id`: they join no store account",
                        path.display()
                    ));
                }
                if let Some(w) = missing_attributes(&doc, &export.records, path)? {
                    warnings.push(w);
                }
                let mut by_key = BTreeMap::new();
                let mut repeated = 0;
                for r in export.records {
                    let Some(key) = r.key.clone() else { continue };
                    if by_key.insert(key, r).is_some() {
                        repeated += 1;
                    }
                }
                if repeated > 0 {
                    warnings.push(format!(
                        "{repeated} rows of {} repeat an account already listed: the last row of each account is used",
                        path.display()
                    ));
                }
                Some(Accounts {
                    path: path.to_path_buf(),
                    rows,
                    by_key,
                    repeated,
                })
            }
        };
        // Both compile once, now: a broken candidate stops the server at
        // start, and every request reuses them.
        Ok(Some(Arc::new(Setup {
            current: Scorer::new(&current)?,
            candidate_path: candidate_path.to_path_buf(),
            candidate: Scorer::new(&doc)?,
            candidate_meta: meta,
            warnings,
            accounts,
            order,
        })))
    }

    /// What the review should be read with (also in its view), for the start-up banner.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A line for the start-up banner.
    pub fn describe(&self) -> String {
        format!(
            "{} revision {}{}",
            self.candidate_path.display(),
            self.candidate_meta.revision,
            self.accounts.as_ref().map_or_else(
                || " (no --accounts: accounts cannot be re-scored)".to_string(),
                |a| format!(
                    ", firmographics from {} ({} rows)",
                    a.path.display(),
                    a.rows
                )
            )
        )
    }
}

/// The firmographic attributes (`company.*`, `account.*`) the candidate's fit
/// criteria read that no row of the accounts file has, as one warning: those
/// criteria score every account as unknown (0 points) under both revisions,
/// so the review cannot show the moves they would cause. (What a visit
/// brings, `person.*`, `bant.*` and `campaign.*`, an account list need not
/// carry: the store's accounts were decided without it too.)
fn missing_attributes(
    candidate: &Value,
    records: &[Record],
    path: &Path,
) -> Result<Option<String>> {
    if records.is_empty() {
        return Ok(None);
    }
    let layout = Layout::from_playbook(candidate)?;
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for c in &layout.criteria {
        let firmographic = matches!(
            c.attribute.split_once('.'),
            Some(("company" | "account", _))
        );
        if !firmographic
            || records
                .iter()
                .any(|r| features::attribute(r, &c.attribute).is_some())
        {
            continue;
        }
        match missing.iter_mut().find(|(a, _)| *a == c.attribute) {
            Some((_, ids)) => ids.push(c.id.clone()),
            None => missing.push((c.attribute.clone(), vec![c.id.clone()])),
        }
    }
    if missing.is_empty() {
        return Ok(None);
    }
    let n: usize = missing.iter().map(|(_, ids)| ids.len()).sum();
    let list = missing
        .iter()
        .map(|(a, ids)| match ids.len() {
            1..=3 => format!("`{a}` ({})", ids.join(", ")),
            n => format!("`{a}` ({n} criteria)"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(format!(
        "no row of {} has {list}: {n} of the candidate's {} fit criteria read them and score every account as unknown (0 points) under both revisions, so the review cannot show the moves they would cause",
        path.display(),
        layout.criteria.len()
    )))
}

/// Which tier is above which, across the current playbook and the candidate.
/// Each playbook ranks its tiers by `min`, best first. A tier id both have is
/// one tier (the shared ones in the current playbook's order); a tier only one
/// playbook has sits between the shared tiers around it there, and tiers of
/// the two playbooks in the same gap rank by their place among their own
/// playbook's tiers in that gap (so one tier renamed is level with the old
/// one; `min`s on two revisions' scales are not compared). Tiers a playbook does not list rank
/// below all.
#[derive(Debug)]
struct TierOrder {
    /// (id, level) of the current playbook's tiers; level 0 is the best.
    current: Vec<(String, usize)>,
    candidate: Vec<(String, usize)>,
    /// Ids by level, best first.
    levels: Vec<Vec<String>>,
}

impl TierOrder {
    fn new(current: &Value, candidate: &Value) -> TierOrder {
        let tiers = |doc: &Value| -> Vec<(String, f64)> {
            let mut t: Vec<(String, f64)> = doc
                .pointer("/fit/tiers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    (
                        t.get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        t.get("min").and_then(Value::as_f64).unwrap_or(0.0),
                    )
                })
                .collect();
            // Best first; a stable sort keeps the listed order on equal `min`s.
            t.sort_by(|a, b| b.1.total_cmp(&a.1));
            t
        };
        let (cur, cand) = (tiers(current), tiers(candidate));
        let shared: Vec<&str> = cur
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| cand.iter().any(|(c, _)| c == id))
            .collect();
        // (2i + 1) for the i-th shared tier, (2j, -min) for a tier of one
        // playbook below j shared tiers there.
        // (2i + 1) for the i-th shared tier; (2j, place) for a tier of one
        // playbook below j shared tiers there, `place` its rank among that
        // playbook's own tiers in the same gap, scaled to (0, 1): the two
        // playbooks' scores are on their own scales, so their `min`s are not
        // compared, and one tier renamed in a gap stays level with the old one.
        let key = |list: &[(String, f64)], i: usize| -> (usize, f64) {
            let is_shared = |t: &String| shared.contains(&t.as_str());
            let id = list.get(i).map_or("", |(id, _)| id.as_str());
            if let Some(p) = shared.iter().position(|s| *s == id) {
                return (2 * p + 1, 0.0);
            }
            let above = list.iter().take(i).filter(|(t, _)| is_shared(t)).count();
            let gap: Vec<usize> = (0..list.len())
                .filter(|&j| {
                    list.get(j).is_some_and(|(t, _)| !is_shared(t))
                        && list.iter().take(j).filter(|(t, _)| is_shared(t)).count() == above
                })
                .collect();
            let k = gap.iter().position(|&j| j == i).unwrap_or(0);
            (2 * above, (k as f64 + 0.5) / gap.len().max(1) as f64)
        };
        let keyed = |list: &[(String, f64)]| -> Vec<(String, (usize, f64))> {
            (0..list.len())
                .filter_map(|i| list.get(i).map(|(id, _)| (id.clone(), key(list, i))))
                .collect()
        };
        let (cur_k, cand_k) = (keyed(&cur), keyed(&cand));
        let mut keys: Vec<(usize, f64)> = cur_k.iter().chain(&cand_k).map(|(_, k)| *k).collect();
        let cmp = |a: &(usize, f64), b: &(usize, f64)| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1));
        keys.sort_by(cmp);
        keys.dedup_by(|a, b| cmp(a, b).is_eq());
        let level = |k: &(usize, f64)| keys.iter().position(|x| cmp(x, k).is_eq()).unwrap_or(0);
        let leveled = |list: Vec<(String, (usize, f64))>| -> Vec<(String, usize)> {
            list.into_iter().map(|(id, k)| (id, level(&k))).collect()
        };
        let (current, candidate) = (leveled(cur_k), leveled(cand_k));
        let mut levels: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
        for (id, l) in current.iter().chain(&candidate) {
            if let Some(ids) = levels.get_mut(*l) {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        TierOrder {
            current,
            candidate,
            levels,
        }
    }

    /// The level of a tier of the current playbook (`false`) or of the
    /// candidate (`true`); an unlisted tier is below every listed one.
    fn level(&self, candidate: bool, tier: &str) -> usize {
        let list = if candidate {
            &self.candidate
        } else {
            &self.current
        };
        list.iter()
            .find(|(id, _)| id == tier)
            .map_or(self.levels.len(), |(_, l)| *l)
    }

    /// `S > A > B = B2 > C`, best first.
    fn describe(&self) -> String {
        self.levels
            .iter()
            .map(|ids| ids.join(" = "))
            .collect::<Vec<_>>()
            .join(" > ")
    }
}

fn playbook_json(meta: &PlaybookMeta) -> Value {
    json!({"id": meta.id, "revision": meta.revision, "tiers": meta.tiers})
}

/// The answer without `--candidate`.
pub fn no_candidate(meta: &PlaybookMeta) -> Value {
    json!({
        "status": "no_candidate",
        "message": "no candidate revision loaded: start the collector with --candidate playbook.rN.json (and --accounts crm.csv for the firmographics) to see how it would re-tier the accounts",
        "current": playbook_json(meta),
        "candidate": null,
    })
}

/// One store account scored under both playbooks.
struct Scored {
    account: String,
    from: String,
    to: String,
    old_score: f64,
    new_score: f64,
    old_rank: usize,
    new_rank: usize,
    signalled: Value,
}

/// The calibration view at `as_of`.
pub fn view(signals: &[Signal], config: &Config, as_of: i64) -> Value {
    let Some(setup) = config.calibration.as_deref() else {
        return no_candidate(&config.playbook);
    };
    match compute(setup, signals, &config.playbook, as_of) {
        Ok(v) => v,
        Err(e) => json!({"status": "error", "error": format!("{e:#}")}),
    }
}

fn compute(setup: &Setup, signals: &[Signal], meta: &PlaybookMeta, as_of: i64) -> Result<Value> {
    // The store's accounts, derived exactly as the account view derives them.
    let store = accounts::view(signals, meta, as_of);
    let list = store
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("the account view has no account list"))?;
    let mut matched: Vec<(String, Value, &Record)> = Vec::new();
    let mut unscored: Vec<String> = Vec::new();
    for a in list {
        let name = a.get("account").and_then(Value::as_str).unwrap_or("");
        let signalled = json!({
            "fit_tier": a.get("fit_tier"),
            "fit_score": a.get("fit_score"),
            "firmographics": a.get("firmographics"),
        });
        let record = setup
            .accounts
            .as_ref()
            .and_then(|f| f.by_key.get(&buyerpath::lists::normalize_domain(name)));
        match record {
            Some(r) => matched.push((name.to_string(), signalled, r)),
            None => unscored.push(name.to_string()),
        }
    }
    let records: Vec<Record> = matched.iter().map(|(_, _, r)| (*r).clone()).collect();
    let old = setup.current.scores(&records)?;
    let new = setup.candidate.scores(&records)?;
    let cand = &setup.candidate_meta;
    let scored: Vec<Scored> = matched
        .into_iter()
        .zip(old.into_iter().zip(new))
        .map(|((account, signalled, _), ((os, ot), (ns, nt)))| Scored {
            old_rank: setup.order.level(false, &ot),
            new_rank: setup.order.level(true, &nt),
            account,
            from: ot,
            to: nt,
            old_score: os,
            new_score: ns,
            signalled,
        })
        .collect();

    // Rows: the current playbook's tiers; columns: the candidate's (plus any
    // tier the engine reported that a playbook does not list).
    let mut rows_t = meta.tiers.clone();
    let mut cols_t = cand.tiers.clone();
    for s in &scored {
        if !rows_t.contains(&s.from) {
            rows_t.push(s.from.clone());
        }
        if !cols_t.contains(&s.to) {
            cols_t.push(s.to.clone());
        }
    }
    let mut counts = vec![vec![0usize; cols_t.len()]; rows_t.len()];
    let (mut up, mut down, mut same) = (0usize, 0usize, 0usize);
    for s in &scored {
        let r = rows_t.iter().position(|t| *t == s.from);
        let c = cols_t.iter().position(|t| *t == s.to);
        if let (Some(r), Some(c)) = (r, c) {
            if let Some(cell) = counts.get_mut(r).and_then(|row| row.get_mut(c)) {
                *cell += 1;
            }
        }
        match s.new_rank.cmp(&s.old_rank) {
            std::cmp::Ordering::Less => up += 1,
            std::cmp::Ordering::Greater => down += 1,
            std::cmp::Ordering::Equal => same += 1,
        }
    }
    let per_tier = |tiers: &[String], f: &dyn Fn(&Scored) -> &str| -> Vec<Value> {
        tiers
            .iter()
            .map(|t| json!({"tier": t, "accounts": scored.iter().filter(|s| f(s) == t).count()}))
            .collect()
    };
    // Each cell's move (the dashboard colours the matrix by it).
    let moves: Vec<Vec<&str>> = rows_t
        .iter()
        .map(|f| {
            cols_t
                .iter()
                .map(
                    |t| match setup.order.level(true, t).cmp(&setup.order.level(false, f)) {
                        std::cmp::Ordering::Less => "up",
                        std::cmp::Ordering::Greater => "down",
                        std::cmp::Ordering::Equal => "same",
                    },
                )
                .collect()
        })
        .collect();
    let before = per_tier(&rows_t, &|s| s.from.as_str());
    let after = per_tier(&cols_t, &|s| s.to.as_str());

    let mut movers: Vec<&Scored> = scored.iter().filter(|s| s.old_rank != s.new_rank).collect();
    // The biggest jumps first, then the best new score.
    movers.sort_by(|a, b| {
        let jump = |s: &Scored| s.old_rank.abs_diff(s.new_rank);
        jump(b)
            .cmp(&jump(a))
            .then(b.new_score.total_cmp(&a.new_score))
            .then(a.account.cmp(&b.account))
    });
    let movers_total = movers.len();
    let movers: Vec<Value> = movers
        .into_iter()
        .take(MOVERS_LIMIT)
        .map(|s| {
            json!({
                "account": s.account,
                "direction": if s.new_rank < s.old_rank { "up" } else { "down" },
                "from": s.from,
                "to": s.to,
                "old_score": round(s.old_score, 1),
                "new_score": round(s.new_score, 1),
                "signalled": s.signalled,
            })
        })
        .collect();
    // Where the store's signalled tier differs from the current playbook's on
    // the file's attributes (older revision, or a browser's own firmographics).
    let signalled_differs = scored
        .iter()
        .filter(|s| {
            s.signalled
                .get("fit_tier")
                .and_then(Value::as_str)
                .is_some_and(|t| t != s.from)
        })
        .count();

    let total = list.len();
    let status = if setup.accounts.is_none() {
        "no_firmographics"
    } else {
        "ready"
    };
    let message = match &setup.accounts {
        None => "the store's signals carry each account's fit as decided (tier, score, top reasons), not the firmographics behind it: start the collector with --accounts crm.csv (the CRM export or an account list, as for calibrate fit) to re-score the accounts".to_string(),
        Some(_) => format!(
            "candidate revision {} would move {up} of {} accounts up a tier and {down} down; {same} keep their tier",
            cand.revision,
            scored.len()
        ),
    };
    Ok(json!({
        "status": status,
        "message": message,
        "as_of": iso::format(as_of),
        "current": playbook_json(meta),
        "candidate": {
            "path": setup.candidate_path.display().to_string(),
            "id": cand.id,
            "revision": cand.revision,
            "tiers": cand.tiers,
        },
        "warnings": setup.warnings,
        "firmographics": match &setup.accounts {
            None => json!({
                "source": null,
                "note": "the store holds the fit as decided, not the attributes: pass --accounts",
            }),
            Some(f) => json!({
                "source": "accounts_file",
                "path": f.path.display().to_string(),
                "rows": f.rows,
                "repeated": f.repeated,
                "note": "each account is scored under both playbooks on the file's attributes, joined on company.domain (else account_id, else id)",
            }),
        },
        "accounts": total,
        "scored": scored.len(),
        "unscored": unscored.len(),
        "unscored_accounts": unscored.iter().take(UNSCORED_LIMIT).collect::<Vec<_>>(),
        "up": up,
        "down": down,
        "same": same,
        "signalled_differs": signalled_differs,
        "before": before,
        "after": after,
        "matrix": {
            "from": rows_t,
            "to": cols_t,
            "counts": counts,
            "moves": moves,
        },
        "tier_order": setup.order.levels,
        "movers_total": movers_total,
        "movers": movers,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::TierOrder;
    use serde_json::json;

    fn order(cur: &[(&str, f64)], cand: &[(&str, f64)]) -> TierOrder {
        let doc = |t: &[(&str, f64)]| json!({"fit": {"tiers": t.iter().map(|(id, min)| json!({"id": id, "min": min})).collect::<Vec<_>>()}});
        TierOrder::new(&doc(cur), &doc(cand))
    }

    #[test]
    fn tiers_of_two_playbooks_are_ordered_without_comparing_their_scales() {
        // A tier added on top sits above the shared ones.
        let o = order(
            &[("A", 80.0), ("B", 50.0), ("C", 0.0)],
            &[("S", 45.0), ("A", 30.0), ("B", 15.0), ("C", 0.0)],
        );
        assert!(o.level(true, "S") < o.level(false, "A"));
        assert_eq!(o.level(false, "B"), o.level(true, "B"));
        // The middle tier renamed, on a candidate's lower scale: level with the old one.
        let o = order(
            &[("A", 80.0), ("B", 50.0), ("C", 0.0)],
            &[("A", 30.0), ("B2", 15.0), ("C", 0.0)],
        );
        assert_eq!(o.level(false, "B"), o.level(true, "B2"));
        // Every tier renamed: the best stays the best, the worst the worst.
        let o = order(
            &[("hot", 80.0), ("warm", 50.0), ("cold", 0.0)],
            &[("t1", 30.0), ("t2", 15.0), ("t3", 0.0)],
        );
        assert_eq!(o.level(false, "hot"), o.level(true, "t1"));
        assert_eq!(o.level(false, "cold"), o.level(true, "t3"));
        assert!(o.level(true, "t1") < o.level(true, "t2"));
    }
}
