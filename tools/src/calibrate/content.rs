//! `buyerpath calibrate content`: each content item's Beta prior for the
//! exploration step, from what the store saw, and the lift of
//! personalisation over the holdout.
//!
//! From the signals: an **impression** is a content id in a `Content
//! Recommended` slot; a **click** is the same visitor's next signal within
//! 30 minutes from a page whose path is that content's URL (or a `Content
//! Clicked` / `CTA Clicked` track event naming it); **progress** is a forward
//! `Stage Changed` within 7 days of the impression. Priors are the current
//! prior plus clicks and non-clicks, then held to at most `--max-strength`
//! pseudo-observations and a mean of at least `--floor` × the average
//! click-through, so that new and unlucky content is still explored.
//! Per stage × role priors are written where a cell has `--min-impressions`.

use super::metrics::round;
use super::{patch, refuse_overwrite, Current, RevisionArgs};
use anyhow::{bail, Context as _, Result};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const CLICK_WINDOW_MS: i64 = 30 * 60 * 1000;
const PROGRESS_WINDOW_MS: i64 = 7 * 86_400_000;

/// Options of `buyerpath calibrate content`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    // The playbook, and where its new revision (with updated
    // `content[].prior`) and the report (per content × stage × role priors
    // and the lift, JSON and Markdown) go.
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// The collector's SQLite database (read only).
    #[arg(long, conflicts_with = "signals")]
    pub db: Option<PathBuf>,
    /// Or: the signals as Segment JSONL (one event per line).
    #[arg(long)]
    pub signals: Option<PathBuf>,
    /// Most pseudo-observations a prior may hold (keeps exploring).
    #[arg(long, default_value_t = 200.0)]
    pub max_strength: f64,
    /// Lowest prior mean, as a share of the average click-through.
    #[arg(long, default_value_t = 0.5)]
    pub floor: f64,
    /// Impressions a stage × role cell needs for its own prior.
    #[arg(long, default_value_t = 30)]
    pub min_impressions: usize,
}

/// One stored event, as the calibration needs it.
#[derive(Debug, Clone)]
pub struct Ev {
    pub visitor: String,
    pub event: String,
    pub ts: i64,
    pub props: Value,
    pub path: Option<String>,
}

/// Counts for one content item (or one cell).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub impressions: usize,
    pub clicks: usize,
    pub progress: usize,
}

/// A Beta prior with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Prior {
    pub content_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub alpha: f64,
    pub beta: f64,
    pub mean: f64,
}

/// Conversion of treated visitors vs the holdout, with a 95% interval.
#[derive(Debug, Clone, Serialize)]
pub struct Lift {
    pub treated_visitors: usize,
    pub treated_converted: usize,
    pub holdout_visitors: usize,
    pub holdout_converted: usize,
    pub treated_rate: Option<f64>,
    pub holdout_rate: Option<f64>,
    /// Difference in conversion (treated − holdout), percentage points as a fraction, and its 95% CI.
    pub difference: Option<f64>,
    pub difference_ci95: Option<(f64, f64)>,
    /// Relative lift (treated / holdout − 1) and its 95% CI (log ratio).
    pub lift: Option<f64>,
    pub lift_ci95: Option<(f64, f64)>,
}

/// Loads the track events from a store (read only) or a JSONL file.
pub fn load(db: Option<&Path>, signals: Option<&Path>) -> Result<Vec<Ev>> {
    let mut out = Vec::new();
    match (db, signals) {
        (Some(path), _) => {
            if !path.exists() {
                bail!("{}: no such database", path.display());
            }
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut stmt = conn
                .prepare(
                    "SELECT coalesce(anonymous_id, user_id), event, timestamp, payload FROM events
                     WHERE type = 'track' ORDER BY timestamp, rowid",
                )
                .context("reading the events table (is this a buyerpath store?)")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let payload: String = r.get(3)?;
                let v: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                out.push(ev(
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get(2)?,
                    &v,
                ));
            }
        }
        (None, Some(path)) => {
            let text = crate::input::read(path)?;
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line)
                    .with_context(|| format!("{} line {}: not JSON", path.display(), i + 1))?;
                if v.get("type").and_then(Value::as_str) != Some("track") {
                    continue;
                }
                let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let visitor = if s("anonymousId").is_empty() {
                    s("userId")
                } else {
                    s("anonymousId")
                };
                let ts = v
                    .get("timestamp")
                    .or_else(|| v.get("originalTimestamp"))
                    .and_then(|t| t.as_i64().or_else(|| t.as_str().and_then(parse_iso)))
                    .with_context(|| format!("{} line {}: no timestamp", path.display(), i + 1))?;
                out.push(ev(visitor, s("event"), ts, &v));
            }
            out.sort_by_key(|e| e.ts);
        }
        (None, None) => {
            bail!("give the store (--db buyerpath.sqlite) or the signals (--signals events.jsonl)")
        }
    }
    Ok(out)
}

fn ev(visitor: String, event: String, ts: i64, v: &Value) -> Ev {
    Ev {
        visitor,
        event,
        ts,
        props: v.get("properties").cloned().unwrap_or(Value::Null),
        path: v
            .pointer("/context/page/path")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// `2026-11-23T10:00:00Z` (or with fractional seconds) → ms since the epoch.
fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let n = |a: usize, l: usize| -> Option<i64> { s.get(a..a + l)?.parse().ok() };
    if b.len() < 19 {
        return None;
    }
    let (y, m, d) = (n(0, 4)?, n(5, 2)?, n(8, 2)?);
    let (hh, mm, ss) = (n(11, 2)?, n(14, 2)?, n(17, 2)?);
    let frac: i64 = match s.get(19..20) {
        Some(".") => {
            let digits: String = s
                .get(20..)?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let padded = format!("{digits:0<3}");
            padded.get(..3)?.parse().ok()?
        }
        _ => 0,
    };
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + frac)
}

/// What the signals say: per content, per (content, stage, role), and the lift.
pub struct Evidence {
    pub content: BTreeMap<String, Counts>,
    pub cells: BTreeMap<(String, String, String), Counts>,
    pub lift: Lift,
}

/// Folds the events (in time order) into counts. `urls`: content id → URL path.
pub fn evidence(events: &[Ev], urls: &BTreeMap<String, String>, stages: &[String]) -> Evidence {
    let mut by_visitor: BTreeMap<&str, Vec<&Ev>> = BTreeMap::new();
    for e in events {
        by_visitor.entry(e.visitor.as_str()).or_default().push(e);
    }
    let rank = |s: &str| stages.iter().position(|x| x == s);
    let mut content: BTreeMap<String, Counts> = BTreeMap::new();
    let mut cells: BTreeMap<(String, String, String), Counts> = BTreeMap::new();
    let (mut tn, mut tc, mut hn, mut hc) = (0usize, 0usize, 0usize, 0usize);
    for evs in by_visitor.values() {
        let mut role = "unknown".to_string();
        let mut holdout: Option<bool> = None;
        let mut first_rec: Option<i64> = None;
        let mut converted = false;
        for (i, e) in evs.iter().enumerate() {
            let p = &e.props;
            match e.event.as_str() {
                "Visitor Classified" => {
                    if let Some(r) = p.get("role").and_then(Value::as_str) {
                        role = r.to_string();
                    }
                }
                "Content Recommended" => {
                    if holdout.is_none() {
                        holdout = p.get("holdout").and_then(Value::as_bool);
                    }
                    first_rec.get_or_insert(e.ts);
                    let stage = p.get("stage").and_then(Value::as_str).unwrap_or("unknown");
                    let ids = p
                        .get("slots")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .flat_map(|s| {
                            s.get("content_ids")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                        })
                        .filter_map(Value::as_str);
                    let later = evs.get(i + 1..).unwrap_or(&[]);
                    for id in ids {
                        let url = urls.get(id);
                        let clicked = later
                            .iter()
                            .take_while(|x| x.ts - e.ts <= CLICK_WINDOW_MS)
                            .any(|x| {
                                (url.is_some() && x.path.as_ref() == url)
                                    || (matches!(
                                        x.event.as_str(),
                                        "Content Clicked" | "CTA Clicked"
                                    ) && x.props.get("content_id").and_then(Value::as_str)
                                        == Some(id))
                            });
                        let progressed = later
                            .iter()
                            .take_while(|x| x.ts - e.ts <= PROGRESS_WINDOW_MS)
                            .any(|x| forward(x, &rank));
                        for c in [
                            content.entry(id.to_string()).or_default(),
                            cells
                                .entry((id.to_string(), stage.to_string(), role.clone()))
                                .or_default(),
                        ] {
                            c.impressions += 1;
                            c.clicks += usize::from(clicked);
                            c.progress += usize::from(progressed);
                        }
                    }
                }
                _ => {}
            }
            if first_rec.is_some_and(|t| e.ts > t)
                && (forward(e, &rank) || matches!(e.event.as_str(), "MQL Reached" | "SQL Reached"))
            {
                converted = true;
            }
        }
        match holdout {
            Some(true) => {
                hn += 1;
                hc += usize::from(converted);
            }
            Some(false) => {
                tn += 1;
                tc += usize::from(converted);
            }
            None => {}
        }
    }
    Evidence {
        content,
        cells,
        lift: lift(tn, tc, hn, hc),
    }
}

/// A forward stage move.
fn forward(e: &Ev, rank: &dyn Fn(&str) -> Option<usize>) -> bool {
    if e.event != "Stage Changed"
        || e.props.get("moved_back").and_then(Value::as_bool) == Some(true)
    {
        return false;
    }
    let to = e.props.get("to").and_then(Value::as_str).and_then(rank);
    let from = e.props.get("from").and_then(Value::as_str).and_then(rank);
    match (from, to) {
        (Some(f), Some(t)) => t > f,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// Difference of proportions (Wald 95% CI) and relative lift (Katz log-ratio 95% CI).
pub fn lift(tn: usize, tc: usize, hn: usize, hc: usize) -> Lift {
    let rate = |c: usize, n: usize| (n > 0).then(|| c as f64 / n as f64);
    let (rt, rh) = (rate(tc, tn), rate(hc, hn));
    let (mut difference, mut difference_ci95, mut lift, mut lift_ci95) = (None, None, None, None);
    if let (Some(t), Some(h)) = (rt, rh) {
        let d = t - h;
        let se = (t * (1.0 - t) / tn as f64 + h * (1.0 - h) / hn as f64).sqrt();
        difference = Some(round(d, 4));
        difference_ci95 = Some((round(d - 1.96 * se, 4), round(d + 1.96 * se, 4)));
        if tc > 0 && hc > 0 {
            let l = (t / h).ln();
            let se = (1.0 / tc as f64 - 1.0 / tn as f64 + 1.0 / hc as f64 - 1.0 / hn as f64).sqrt();
            lift = Some(round(t / h - 1.0, 4));
            lift_ci95 = Some((
                round((l - 1.96 * se).exp() - 1.0, 4),
                round((l + 1.96 * se).exp() - 1.0, 4),
            ));
        }
    }
    Lift {
        treated_visitors: tn,
        treated_converted: tc,
        holdout_visitors: hn,
        holdout_converted: hc,
        treated_rate: rt.map(|r| round(r, 4)),
        holdout_rate: rh.map(|r| round(r, 4)),
        difference,
        difference_ci95,
        lift,
        lift_ci95,
    }
}

/// The prior after evidence, held to `max_strength` and a mean ≥ `floor_mean`.
pub fn update(
    alpha0: f64,
    beta0: f64,
    c: &Counts,
    max_strength: f64,
    floor_mean: f64,
) -> (f64, f64) {
    let mut a = alpha0 + c.clicks as f64;
    let mut b = beta0 + (c.impressions - c.clicks.min(c.impressions)) as f64;
    let s = a + b;
    if s > max_strength {
        a *= max_strength / s;
        b *= max_strength / s;
    }
    let s = a + b;
    if s > 0.0 && a / s < floor_mean {
        a = floor_mean * s;
        b = s - a;
    }
    (round(a, 2).max(0.01), round(b, 2).max(0.01))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let current = args.revision.read()?;
    let next = current.next_revision()?;
    let Current {
        text,
        doc,
        revision,
    } = current;
    let playbook = &args.revision.playbook;
    buyerpath::Engine::from_value(doc.clone())
        .map_err(|e| anyhow::anyhow!("{} is not a valid playbook: {e}", playbook.display()))?;
    if !(0.0..=1.0).contains(&args.floor)
        || !args.max_strength.is_finite()
        || args.max_strength < 2.0
    {
        bail!("--floor must be 0–1 and --max-strength a finite number of at least 2");
    }
    // What is missing from the command first, then what is in the way.
    if args.db.is_none() && args.signals.is_none() {
        bail!("give the store (--db buyerpath.sqlite) or the signals (--signals events.jsonl)");
    }
    let out = args.revision.out_path(next);
    let (report_md, report) = args.revision.report_paths(&out, "content.json");
    let mut inputs = vec![("the playbook", playbook.as_path())];
    inputs.extend(args.db.as_deref().map(|p| ("the store", p)));
    inputs.extend(args.signals.as_deref().map(|p| ("the signals file", p)));
    RevisionArgs::refuse_collisions(
        &[
            ("--out", &out),
            ("--report (JSON)", &report),
            ("--report (Markdown)", &report_md),
        ],
        &inputs,
    )?;
    for p in [&out, &report, &report_md] {
        refuse_overwrite(p, args.revision.force)?;
    }
    let events = load(args.db.as_deref(), args.signals.as_deref())?;
    let items: Vec<Value> = doc
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let urls: BTreeMap<String, String> = items
        .iter()
        .filter_map(|c| {
            Some((
                c.get("id")?.as_str()?.to_string(),
                c.get("url")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let stages: Vec<String> = doc
        .get("stages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let ev = evidence(&events, &urls, &stages);
    let (imp, clk) = ev
        .content
        .values()
        .fold((0, 0), |(i, c), x| (i + x.impressions, c + x.clicks));
    if imp == 0 {
        bail!("no `Content Recommended` signal in the store: nothing to learn from yet");
    }
    let ctr = clk as f64 / imp as f64;
    let floor_mean = args.floor * ctr;
    let mut new_doc = doc.clone();
    let mut priors = Vec::new();
    let mut unknown = Vec::new();
    if let Some(list) = new_doc.get_mut("content").and_then(Value::as_array_mut) {
        for item in list.iter_mut() {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let (a0, b0) = item
                .get("prior")
                .map(|p| {
                    (
                        p.get("alpha").and_then(Value::as_f64).unwrap_or(1.0),
                        p.get("beta").and_then(Value::as_f64).unwrap_or(1.0),
                    )
                })
                .unwrap_or((1.0, 1.0));
            let c = ev.content.get(&id).cloned().unwrap_or_default();
            let (a, b) = update(a0, b0, &c, args.max_strength, floor_mean);
            if let Some(m) = item.as_object_mut() {
                m.insert("prior".into(), json!({"alpha": a, "beta": b}));
            }
            // Cells start from the item's prior, weakened to 20 pseudo-observations.
            let k = 20.0 / (a + b);
            for ((cid, stage, role), cc) in
                ev.cells.range((id.clone(), String::new(), String::new())..)
            {
                if *cid != id {
                    break;
                }
                if cc.impressions >= args.min_impressions {
                    let (ca, cb) = update(a * k, b * k, cc, args.max_strength, floor_mean);
                    priors.push(Prior {
                        content_id: id.clone(),
                        stage: Some(stage.clone()),
                        role: Some(role.clone()),
                        counts: cc.clone(),
                        alpha: ca,
                        beta: cb,
                        mean: round(ca / (ca + cb), 4),
                    });
                }
            }
            priors.push(Prior {
                content_id: id,
                stage: None,
                role: None,
                counts: c,
                alpha: a,
                beta: b,
                mean: round(a / (a + b), 4),
            });
        }
    }
    for id in ev.content.keys() {
        if !urls.contains_key(id) {
            unknown.push(id.clone());
        }
    }
    if let Some(m) = new_doc.as_object_mut() {
        m.insert("revision".into(), json!(next));
    }
    let fields: Vec<(String, String)> = (0..items.len())
        .map(|i| (format!("/content/{i}"), "prior".to_string()))
        .chain([(String::new(), "revision".to_string())])
        .collect();
    let new_text = patch::set_fields(&text, &new_doc, &fields);
    buyerpath::Engine::from_json(&new_text)
        .map_err(|e| anyhow::anyhow!("internal: the new revision does not compile: {e}"))?;
    let json_report = json!({
        "playbook_id": doc.get("id"),
        "old_revision": revision,
        "new_revision": next,
        "events": events.len(),
        "impressions": imp,
        "clicks": clk,
        "click_through": round(ctr, 4),
        "floor_mean": round(floor_mean, 4),
        "max_strength": args.max_strength,
        "lift": ev.lift,
        "priors": priors,
        "unknown_content": unknown,
    });
    let report_text = serde_json::to_string_pretty(&json_report)? + "\n";
    let md = markdown(&json_report, &ev.lift, &priors);
    super::write_all(&[
        (&out, new_text.as_bytes()),
        (&report, report_text.as_bytes()),
        (&report_md, md.as_bytes()),
    ])?;
    outln!("{}", lift_line(&ev.lift));
    outln!(
        "wrote {} (revision {}), {} and {}",
        out.display(),
        next,
        report.display(),
        report_md.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// One line on the lift, for terminals and reports.
pub fn lift_line(l: &Lift) -> String {
    match (l.lift, l.lift_ci95, l.difference, l.difference_ci95) {
        (Some(x), Some((lo, hi)), Some(d), Some((dlo, dhi))) => format!(
            "personalisation lift: {} conversion vs the holdout (95% CI {} to {}); {} points ({} to {}); {} treated, {} holdout visitors",
            pct(x), pct(lo), pct(hi), pct(d), pct(dlo), pct(dhi), l.treated_visitors, l.holdout_visitors
        ),
        _ => format!(
            "personalisation lift: not measurable yet ({} treated, {} holdout visitors, {} and {} converted)",
            l.treated_visitors, l.holdout_visitors, l.treated_converted, l.holdout_converted
        ),
    }
}

fn markdown(r: &Value, lift: &Lift, priors: &[Prior]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Content calibration: revision {} → {}\n\n{} impressions, {} clicks ({:.2}% click-through). {}\n",
        r["old_revision"], r["new_revision"], r["impressions"], r["clicks"],
        r["click_through"].as_f64().unwrap_or(0.0) * 100.0,
        lift_line(lift)
    );
    let _ = writeln!(o, "| Content | stage | role | impressions | clicks | progress | prior mean |\n|---|---|---|---:|---:|---:|---:|");
    for p in priors.iter().filter(|p| p.counts.impressions > 0) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {:.1}% |",
            p.content_id,
            p.stage.as_deref().unwrap_or("all"),
            p.role.as_deref().unwrap_or("all"),
            p.counts.impressions,
            p.counts.clicks,
            p.counts.progress,
            p.mean * 100.0
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priors_keep_exploring() {
        let c = Counts {
            impressions: 10_000,
            clicks: 0,
            progress: 0,
        };
        let (a, b) = update(1.0, 1.0, &c, 200.0, 0.02);
        assert!((a + b - 200.0).abs() < 0.02 && a >= 3.99, "{a} {b}");
        assert_eq!(parse_iso("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        let l = lift(1000, 200, 100, 10);
        assert_eq!(l.lift, Some(1.0));
        let (lo, hi) = l.lift_ci95.unwrap();
        assert!(lo > 0.0 && hi > 1.0, "{lo} {hi}");
    }
}
