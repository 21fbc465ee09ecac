//! `buyerpath calibrate content`: each content item's Beta prior for the
//! exploration step, from what the store saw, and the lift of
//! personalisation over the holdout.
//!
//! From the signals: an **impression** is a content id in a `Content
//! Recommended` slot. A **click** on it is the visitor's **next page**: the
//! first of their signals strictly later than the recommendation (so never
//! one of its own decision's signals, which share its time) and from another
//! page than the recommending one (signals without a page are passed over), if it comes within 30 minutes and its page
//! is that content's URL; or a `Content Clicked` / `CTA Clicked` track event
//! naming it, later than the recommendation, within 30 minutes, and no later
//! than that next page. Either must come before the content is recommended
//! again: one visit is at most one click, on the last recommendation of the
//! content before it (a page recommending it three times on the way there
//! gets one click, not three). **Progress** is a forward `Stage Changed`
//! strictly later than the impression and within 7 days of it.
//!
//! Only recommendations decided under the playbook's own revision count
//! (each signal's `context.playbook`, the store's `playbook_revision`): the
//! evidence its priors have not absorbed yet, since a revision written by
//! this command holds the evidence of the revisions before it. `--from-revision
//! N` counts revisions N and later; recommendations of another playbook id
//! never count; a signal naming no revision (not sent by the engine) counts.
//! Whatever followed a counted recommendation (pages, clicks, stage moves)
//! counts whatever revision decided it, and the lift compares the visitors
//! with a counted recommendation. The lift is the collector's (`/api/funnel`,
//! one function for both: [`crate::serve::views::lift`]): a visitor is in the
//! group of their first counted recommendation and converts by reaching MQL
//! or SQL strictly after it (progress, a stage move, is not a conversion).
//! How many recommendations were left out, and under which revisions, is
//! printed and reported.
//!
//! Priors are the current prior plus clicks and non-clicks, then held to at
//! most `--max-strength` pseudo-observations and a mean of at least
//! `--floor` × the average click-through, so that new and unlucky content is
//! still explored. Per stage × role priors are written where a cell has
//! `--min-impressions`.

use super::metrics::round;
use super::progress::Steps;
use super::{patch, refuse_overwrite, Current, RevisionArgs};
use crate::serve::iso;
pub use crate::serve::views::lift::Lift;
use crate::serve::views::lift::{Exposure, Tally};
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
    /// Count the recommendations decided under revision N of the playbook
    /// and later ones (default: the playbook's own revision, the evidence its
    /// priors have not absorbed yet).
    #[arg(long, value_name = "N")]
    pub from_revision: Option<u64>,
}

/// One stored event, as the calibration needs it.
#[derive(Debug, Clone)]
pub struct Ev {
    pub visitor: String,
    pub event: String,
    pub ts: i64,
    pub props: Value,
    pub path: Option<String>,
    /// The playbook id and revision it was decided under (`context.playbook`).
    pub playbook: Option<String>,
    pub revision: Option<i64>,
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
                let ts = match v
                    .get("timestamp")
                    .filter(|t| !t.is_null())
                    .or_else(|| v.get("originalTimestamp"))
                {
                    None | Some(Value::Null) => {
                        bail!("{} line {}: no timestamp", path.display(), i + 1)
                    }
                    // RFC 3339 with its offset, as the collector reads it.
                    Some(t) => match t.as_i64().or_else(|| t.as_str().and_then(iso::parse_ms)) {
                        Some(ts) => ts,
                        None => bail!(
                            "{} line {}: timestamp {t} is neither an RFC 3339 date-time with its zone (Z or ±HH:MM) nor milliseconds since the epoch",
                            path.display(),
                            i + 1
                        ),
                    },
                };
                out.push(ev(visitor, s("event"), ts, &v));
            }
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
        playbook: v
            .pointer("/context/playbook/id")
            .and_then(Value::as_str)
            .map(str::to_string),
        revision: v
            .pointer("/context/playbook/revision")
            .and_then(Value::as_i64),
    }
}

/// Which recommendations count: those of playbook `playbook_id` (or naming
/// none) decided under revision `from_revision` or later (or naming none).
pub struct Scope<'a> {
    pub playbook_id: Option<&'a str>,
    pub from_revision: i64,
}

/// Whether a recommendation counts, and if not, why.
enum Counted {
    Yes,
    EarlierRevision(i64),
    OtherPlaybook,
}

impl Scope<'_> {
    fn check(&self, e: &Ev) -> Counted {
        if let (Some(mine), Some(theirs)) = (self.playbook_id, e.playbook.as_deref()) {
            if mine != theirs {
                return Counted::OtherPlaybook;
            }
        }
        match e.revision {
            Some(r) if r < self.from_revision => Counted::EarlierRevision(r),
            _ => Counted::Yes,
        }
    }
}

/// The recommendations that did not count.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeftOut {
    /// Decided under a revision before the first one counted: how many per revision.
    pub earlier_revisions: BTreeMap<i64, usize>,
    /// Decided under another playbook (another `context.playbook.id`).
    pub other_playbooks: usize,
}

impl LeftOut {
    fn earlier(&self) -> usize {
        self.earlier_revisions.values().sum()
    }

    /// `1` or `1, 2 and 3`.
    fn revisions(&self) -> String {
        let list: Vec<String> = self
            .earlier_revisions
            .keys()
            .map(ToString::to_string)
            .collect();
        match list.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => list.join(""),
        }
    }
}

/// What the signals say: per content, per (content, stage, role), and the lift.
pub struct Evidence {
    pub content: BTreeMap<String, Counts>,
    pub cells: BTreeMap<(String, String, String), Counts>,
    pub lift: Lift,
    pub left_out: LeftOut,
    /// Counted recommendations that name no playbook revision.
    pub without_revision: usize,
}

/// The content ids of a `Content Recommended`, slot by slot.
fn recommended(e: &Ev) -> Vec<&str> {
    e.props
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
        .filter_map(Value::as_str)
        .collect()
}

/// The content id a `Content Clicked` / `CTA Clicked` names.
fn clicked_id(e: &Ev) -> Option<&str> {
    if matches!(e.event.as_str(), "Content Clicked" | "CTA Clicked") {
        e.props.get("content_id").and_then(Value::as_str)
    } else {
        None
    }
}

/// For each of one visitor's signals (in time order) that recommends
/// content: each content id with whether it was clicked and whether the
/// visitor progressed (the rules of the module comment). In time linear in
/// the signals: every "next" is found by one backward pass.
fn outcomes<'a>(
    evs: &[&'a Ev],
    urls: &BTreeMap<String, String>,
    rank: &dyn Fn(&str) -> Option<usize>,
) -> Vec<Vec<(&'a str, bool, bool)>> {
    let n = evs.len();
    let at = |k: usize| evs.get(k).copied();
    // The first signal later than signal i (past its own decision's).
    let mut later = vec![n; n];
    // The first signal at or after k that has a page.
    let mut paged = vec![n; n + 1];
    // For a signal with a page: the first one after it on another page.
    let mut other_page = vec![n; n];
    // The first forward stage move at or after k.
    let mut forward_at = vec![n; n + 1];
    for i in (0..n).rev() {
        let Some(e) = at(i) else { continue };
        let after = |v: &[usize]| v.get(i + 1).copied().unwrap_or(n);
        let l = match at(i + 1) {
            Some(x) if x.ts > e.ts => i + 1,
            Some(_) => after(&later),
            None => n,
        };
        let p = if e.path.is_some() { i } else { after(&paged) };
        let o = if e.path.is_some() {
            let m = after(&paged);
            match at(m) {
                Some(x) if x.path != e.path => m,
                Some(_) => other_page.get(m).copied().unwrap_or(n),
                None => n,
            }
        } else {
            n
        };
        let f = if forward(e, rank) {
            i
        } else {
            after(&forward_at)
        };
        for (v, x) in [
            (&mut later, l),
            (&mut paged, p),
            (&mut other_page, o),
            (&mut forward_at, f),
        ] {
            if let Some(slot) = v.get_mut(i) {
                *slot = x;
            }
        }
    }
    let mut out: Vec<Vec<(&str, bool, bool)>> = vec![Vec::new(); n];
    // The next recommendation of a content id, and the next click event
    // naming it, at or after the end of the group being read.
    let mut next_rec: std::collections::HashMap<&str, usize> = Default::default();
    let mut next_click: std::collections::HashMap<&str, usize> = Default::default();
    let mut end = n;
    while end > 0 {
        // The group of signals at one millisecond: [start, end).
        let ts = at(end - 1).map_or(0, |e| e.ts);
        let mut start = end - 1;
        while start > 0 && at(start - 1).is_some_and(|e| e.ts == ts) {
            start -= 1;
        }
        for i in start..end {
            let Some(e) = at(i) else { continue };
            if e.event != "Content Recommended" {
                continue;
            }
            let l = later.get(i).copied().unwrap_or(n);
            let k0 = paged.get(l).copied().unwrap_or(n);
            let next_page = match at(k0) {
                Some(x) if e.path.is_none() || x.path != e.path => k0,
                Some(_) => other_page.get(k0).copied().unwrap_or(n),
                None => n,
            };
            let within =
                |k: usize| at(k).is_some_and(|x| x.ts.saturating_sub(e.ts) <= CLICK_WINDOW_MS);
            let progressed = at(forward_at.get(l).copied().unwrap_or(n))
                .is_some_and(|x| x.ts.saturating_sub(e.ts) <= PROGRESS_WINDOW_MS);
            let ids = recommended(e);
            let mut list = Vec::with_capacity(ids.len());
            for id in ids {
                let again = next_rec.get(id).copied().unwrap_or(n);
                let url = urls.get(id);
                let by_page = within(next_page)
                    && again >= next_page
                    && url.is_some()
                    && at(next_page).is_some_and(|x| x.path.as_ref() == url);
                let by_event = next_click
                    .get(id)
                    .is_some_and(|&c| within(c) && c <= next_page && c < again);
                list.push((id, by_page || by_event, progressed));
            }
            if let Some(slot) = out.get_mut(i) {
                *slot = list;
            }
        }
        for i in (start..end).rev() {
            let Some(e) = at(i) else { continue };
            if e.event == "Content Recommended" {
                for id in recommended(e) {
                    next_rec.insert(id, i);
                }
            }
            if let Some(id) = clicked_id(e) {
                next_click.insert(id, i);
            }
        }
        end = start;
    }
    out
}

/// Folds the events into counts. `urls`: content id → URL path; `scope`:
/// which recommendations count.
pub fn evidence(
    events: &[Ev],
    urls: &BTreeMap<String, String>,
    stages: &[String],
    scope: &Scope,
) -> Evidence {
    let mut by_visitor: BTreeMap<&str, Vec<&Ev>> = BTreeMap::new();
    for e in events {
        by_visitor.entry(e.visitor.as_str()).or_default().push(e);
    }
    let rank = |s: &str| stages.iter().position(|x| x == s);
    let mut content: BTreeMap<String, Counts> = BTreeMap::new();
    let mut cells: BTreeMap<(String, String, String), Counts> = BTreeMap::new();
    let mut left_out = LeftOut::default();
    let mut without_revision = 0;
    let mut tally = Tally::default();
    for evs in by_visitor.values_mut() {
        // Stable: signals of one millisecond keep the store's (or file's) order.
        evs.sort_by_key(|e| e.ts);
        let outcomes = outcomes(evs, urls, &rank);
        let mut role = "unknown".to_string();
        let mut exposure = Exposure::default();
        for (e, outcome) in evs.iter().zip(&outcomes) {
            let p = &e.props;
            match e.event.as_str() {
                "Visitor Classified" => {
                    if let Some(r) = p.get("role").and_then(Value::as_str) {
                        role = r.to_string();
                    }
                }
                "Content Recommended" => match scope.check(e) {
                    Counted::EarlierRevision(r) => {
                        *left_out.earlier_revisions.entry(r).or_default() += 1;
                    }
                    Counted::OtherPlaybook => left_out.other_playbooks += 1,
                    Counted::Yes => {
                        without_revision += usize::from(e.revision.is_none());
                        exposure.recommended(e.ts, p.get("holdout").and_then(Value::as_bool));
                        let stage = p.get("stage").and_then(Value::as_str).unwrap_or("unknown");
                        for &(id, clicked, progressed) in outcome {
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
                },
                "MQL Reached" | "SQL Reached" => exposure.reached(e.ts),
                _ => {}
            }
        }
        tally.add(&exposure);
    }
    Evidence {
        content,
        cells,
        lift: tally.lift(),
        left_out,
        without_revision,
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
    let steps = Steps::start(
        "calibrate content",
        match (&args.db, &args.signals) {
            (Some(db), _) => format!("reading the signals of {}", db.display()),
            (None, Some(f)) => format!("reading {}", f.display()),
            (None, None) => String::new(),
        },
    );
    let events = load(args.db.as_deref(), args.signals.as_deref())?;
    steps.step(format!("finding the outcomes of {} signals", events.len()));
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
    let from_revision = args.from_revision.unwrap_or(revision);
    let playbook_id = doc.get("id").and_then(Value::as_str);
    let scope = Scope {
        playbook_id,
        from_revision: i64::try_from(from_revision).unwrap_or(i64::MAX),
    };
    let ev = evidence(&events, &urls, &stages, &scope);
    let (imp, clk) = ev
        .content
        .values()
        .fold((0, 0), |(i, c), x| (i + x.impressions, c + x.clicks));
    let left = &ev.left_out;
    let other = if left.other_playbooks > 0 {
        format!(
            " ({} of another playbook than `{}` never count)",
            left.other_playbooks,
            playbook_id.unwrap_or("")
        )
    } else {
        String::new()
    };
    if imp == 0 {
        if left.earlier() > 0 {
            bail!(
                "no `Content Recommended` signal decided under revision {from_revision} or later: {} were decided under earlier revisions ({}), whose evidence this playbook's priors hold if `calibrate content` wrote it; if `calibrate fit` or a hand edit did, give --from-revision {} to count them{other}",
                left.earlier(),
                left.revisions(),
                left.earlier_revisions.keys().next().copied().unwrap_or(0)
            );
        }
        let source = match (&args.db, &args.signals) {
            (Some(db), _) => format!("the store {}", db.display()),
            (None, Some(f)) => f.display().to_string(),
            (None, None) => "the input".to_string(),
        };
        bail!("no `Content Recommended` signal in {source}{other}: nothing to learn from yet");
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
        "from_revision": from_revision,
        "left_out": ev.left_out,
        "without_revision": ev.without_revision,
        "lift": ev.lift,
        "priors": priors,
        "unknown_content": unknown,
    });
    let report_text = serde_json::to_string_pretty(&json_report)? + "\n";
    let scope_line = scope_line(&ev, revision, from_revision, playbook_id);
    let md = markdown(&json_report, &ev.lift, &priors, scope_line.as_deref());
    super::write_all(&[
        (&out, new_text.as_bytes()),
        (&report, report_text.as_bytes()),
        (&report_md, md.as_bytes()),
    ])?;
    drop(steps);
    if let Some(line) = &scope_line {
        outln!("{line}");
    }
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

/// What was left out and why, if anything was.
fn scope_line(
    ev: &Evidence,
    revision: u64,
    from_revision: u64,
    playbook_id: Option<&str>,
) -> Option<String> {
    let left = &ev.left_out;
    let mut parts = Vec::new();
    if left.earlier() > 0 {
        let s = if left.earlier_revisions.len() > 1 {
            "s"
        } else {
            ""
        };
        let revs = left.revisions();
        let why = if from_revision == revision {
            format!(
                "the playbook is revision {revision}, whose priors hold them if `calibrate content` wrote it (after `calibrate fit` or a hand edit, --from-revision {} counts them)",
                left.earlier_revisions.keys().next().copied().unwrap_or(0)
            )
        } else {
            format!("earlier than --from-revision {from_revision}")
        };
        parts.push(format!(
            "left out {} recommendations decided under revision{s} {revs} ({why})",
            left.earlier()
        ));
    }
    if left.other_playbooks > 0 {
        parts.push(format!(
            "left out {} recommendations of another playbook than `{}`",
            left.other_playbooks,
            playbook_id.unwrap_or("")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
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

fn markdown(r: &Value, lift: &Lift, priors: &[Prior], scope: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Content calibration: revision {} → {}\n\n{} impressions, {} clicks ({:.2}% click-through). {}\n",
        r["old_revision"], r["new_revision"], r["impressions"], r["clicks"],
        r["click_through"].as_f64().unwrap_or(0.0) * 100.0,
        lift_line(lift)
    );
    if let Some(line) = scope {
        let _ = writeln!(
            o,
            "Counted: recommendations decided under revision {} or later; {line}.\n",
            r["from_revision"]
        );
    }
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
    use crate::serve::views::lift::compare as lift;

    #[test]
    fn priors_keep_exploring() {
        let c = Counts {
            impressions: 10_000,
            clicks: 0,
            progress: 0,
        };
        let (a, b) = update(1.0, 1.0, &c, 200.0, 0.02);
        assert!((a + b - 200.0).abs() < 0.02 && a >= 3.99, "{a} {b}");
        let l = lift(1000, 200, 100, 10);
        assert_eq!(l.lift, Some(1.0));
        let (lo, hi) = l.lift_ci95.unwrap();
        assert!(lo > 0.0 && hi > 1.0, "{lo} {hi}");
    }

    /// 5 of 5 treated against 0 of 3 held out: a difference of 100 points,
    /// but 8 visitors do not pin it there (Wald's interval was [1, 1]).
    #[test]
    fn a_difference_at_the_rates_edges_keeps_its_uncertainty() {
        let l = lift(5, 5, 3, 0);
        assert_eq!(l.difference, Some(1.0));
        let (lo, hi) = l.difference_ci95.unwrap();
        assert!((lo - 0.29).abs() < 0.01 && hi == 1.0, "{lo} {hi}");
        // Large samples: about Wald's.
        let (lo, hi) = lift(10_000, 2_000, 10_000, 1_000).difference_ci95.unwrap();
        assert!(
            (lo - 0.0903).abs() < 0.002 && (hi - 0.1097).abs() < 0.002,
            "{lo} {hi}"
        );
    }
}
