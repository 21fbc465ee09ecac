//! `buyerpath calibrate fit`: CRM outcomes in, a new playbook revision and a
//! report out.
//!
//! The model stays in the playbook's shape: one 0/1 feature per band (and
//! per `otherwise`) of every criterion, as the engine matches them; unknown
//! attributes are the reference level (0 points, as in the engine). An
//! L2-regularised logistic regression pulls every band toward its current
//! points (rescaled to log-odds), so thin evidence moves little. Coefficients
//! become whole points (10 points double the odds), tiers are cut from the
//! new score distribution, and everything is measured on a held-out split
//! against the current playbook and a plain logistic regression.

use super::crm::{self, Outcome, Record};
use super::features::{self, Layout, Row, Scorer};
use super::generate::Rng;
use super::logistic::{self, sigmoid};
use super::metrics::{self, round, TierRow};
use super::points::{self, POINTS_PER_LOGIT};
use super::progress::Steps;
use super::{patch, refuse_overwrite, report, RevisionArgs};
use anyhow::{anyhow, bail, Context as _, Result};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `buyerpath calibrate fit`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// CRM export: CSV or JSONL, one row per account or opportunity.
    #[arg(long)]
    pub export: PathBuf,
    /// Seed of the learn/held-out split.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Share of rows held out to measure (0.1–0.5).
    #[arg(long, default_value_t = 0.3)]
    pub holdout: f64,
    /// L2 penalty λ: the prior is N(current points, 1/λ) on the log-odds scale.
    #[arg(long, default_value_t = 2.0)]
    pub l2: f64,
    /// Outcomes that count as success (comma-separated). Closed rows of a kind
    /// (new deals: won, lost; customers: renewed, expanded, churned) that
    /// names none of are left out.
    #[arg(long, default_value = "won,renewed,expanded")]
    pub positive: String,
    /// Tier shares, best first, in percent (e.g. `10,20,30`); default: the shares the current playbook gives on the same rows.
    #[arg(long)]
    pub tier_shares: Option<String>,
    /// A criterion known for fewer learning rows than this gets a warning.
    #[arg(long, default_value_t = 50)]
    pub min_rows: usize,
}

/// One level (band) in the report.
#[derive(Debug, Clone, Serialize)]
pub struct BandReport {
    pub band: String,
    pub accounts: usize,
    pub won: usize,
    pub win_rate: Option<f64>,
    pub old_points: f64,
    pub new_points: f64,
}

/// One criterion in the report.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionReport {
    pub id: String,
    pub label: String,
    pub attribute: String,
    /// Rows where the attribute is known, and their success rate.
    pub known: usize,
    pub known_win_rate: Option<f64>,
    /// Unknown attribute: 0 points.
    pub unknown: usize,
    pub unknown_win_rate: Option<f64>,
    pub bands: Vec<BandReport>,
    /// Standard deviation of the criterion's points over the learning rows.
    pub old_importance: f64,
    pub new_importance: f64,
    pub warning: Option<String>,
}

/// AUC of each scorer on the held-out rows.
#[derive(Debug, Clone, Serialize)]
pub struct Aucs {
    pub current: Option<f64>,
    pub calibrated: Option<f64>,
    /// The calibrated model before rounding to points and the 0–100 score.
    pub calibrated_unrounded: Option<f64>,
    pub plain_logistic: Option<f64>,
}

/// The whole report (also written as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub playbook_id: String,
    pub old_revision: u64,
    pub new_revision: u64,
    pub export: String,
    pub rows: usize,
    pub open_skipped: usize,
    /// Closed rows of the kind (new deals or customers) no success outcome names.
    pub other_kind_skipped: usize,
    pub successes: usize,
    pub success_rate: Option<f64>,
    pub positive: Vec<String>,
    pub learn_rows: usize,
    pub test_rows: usize,
    pub seed: u64,
    pub l2: f64,
    pub points_per_logit: f64,
    /// Log-odds per current point (the scale of the prior).
    pub current_scale: f64,
    pub auc: Aucs,
    pub tiers_current: Vec<TierRow>,
    pub tiers_calibrated: Vec<TierRow>,
    pub thresholds_current: Vec<(String, f64)>,
    pub thresholds_calibrated: Vec<(String, f64)>,
    pub criteria: Vec<CriterionReport>,
    pub warnings: Vec<String>,
    pub out: String,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if !(0.1..=0.5).contains(&args.holdout) {
        bail!("--holdout must be between 0.1 and 0.5");
    }
    // Before any file is read: a mistyped option is said at once.
    if !(args.l2 > 0.0 && args.l2.is_finite()) {
        bail!(
            "--l2 must be a positive number (given {}): the penalty that pulls each band's points toward its current ones",
            args.l2
        );
    }
    let current = args.revision.read()?;
    let out = args.revision.out_path(current.next_revision()?);
    let (report_md, report_json) = args.revision.report_paths(&out, "report.md");
    RevisionArgs::refuse_collisions(
        &[
            ("--out", &out),
            ("--report (Markdown)", &report_md),
            ("--report (JSON)", &report_json),
        ],
        &[
            ("the playbook", &args.revision.playbook),
            ("the CRM export", &args.export),
        ],
    )?;
    for p in [&out, &report_md, &report_json] {
        refuse_overwrite(p, args.revision.force)?;
    }
    let positive = parse_positive(&args.positive)?;
    let steps = Steps::start(
        "calibrate fit",
        format!("reading {}", args.export.display()),
    );
    let export = crm::read(&args.export, &positive)?;
    let (new_text, report) = calibrate(&current.text, &current.doc, &export, args, &out, &steps)?;
    steps.step("writing the new revision and its report");
    let report_text = serde_json::to_string_pretty(&report)? + "\n";
    let md = report::markdown(&report);
    super::write_all(&[
        (&out, new_text.as_bytes()),
        (&report_md, md.as_bytes()),
        (&report_json, report_text.as_bytes()),
    ])?;
    drop(steps);
    let f = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{v:.3}"));
    outln!(
        "held-out AUC: current {}  calibrated {}  plain logistic regression {}",
        f(report.auc.current),
        f(report.auc.calibrated),
        f(report.auc.plain_logistic)
    );
    for w in &report.warnings {
        outln!("warning: {w}");
    }
    outln!(
        "wrote {} (revision {}), {} and {}",
        out.display(),
        report.new_revision,
        report_md.display(),
        report_json.display()
    );
    outln!(
        "review the report, then `buyerpath check {}` and publish it",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_positive(s: &str) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match Outcome::parse(part) {
            Some(Outcome::Open) | None => bail!(
                "--positive: `{part}` is not an outcome: use won, lost, churned, renewed or expanded"
            ),
            Some(o) => out.push(o),
        }
    }
    if out.is_empty() {
        bail!("--positive: name at least one outcome");
    }
    Ok(out)
}

/// A stratified split by account: every row of an account (`groups`, as
/// [`crm::account_groups`] numbers them) on the same side, so that no
/// held-out row is an account the model learnt from. Accounts are stratified
/// by whether most of their rows are successes (a tie counts as success), and
/// the same share of each stratum is held out; with one row per account this
/// is a plain row split.
fn split(y: &[bool], groups: &[usize], share: f64, seed: u64) -> Vec<bool> {
    let n_groups = groups.iter().max().map_or(0, |g| g + 1);
    // (successes, rows) per account.
    let mut tally = vec![(0usize, 0usize); n_groups];
    for (g, b) in groups.iter().zip(y) {
        if let Some(t) = tally.get_mut(*g) {
            t.0 += usize::from(*b);
            t.1 += 1;
        }
    }
    let mut rng = Rng::new(seed);
    let mut held = vec![false; n_groups];
    for class in [true, false] {
        let mut idx: Vec<usize> = (0..n_groups)
            .filter(|&g| tally.get(g).is_some_and(|(w, n)| (2 * w >= *n) == class))
            .collect();
        rng.shuffle(&mut idx);
        let k = (idx.len() as f64 * share).round() as usize;
        for &g in idx.iter().take(k) {
            if let Some(h) = held.get_mut(g) {
                *h = true;
            }
        }
    }
    groups
        .iter()
        .map(|g| held.get(*g).copied().unwrap_or(false))
        .collect()
}

fn pick<T: Clone>(v: &[T], mask: &[bool], want: bool) -> Vec<T> {
    v.iter()
        .zip(mask)
        .filter(|(_, m)| **m == want)
        .map(|(x, _)| x.clone())
        .collect()
}

/// Log-odds per current point: a one-variable logistic regression of the
/// outcome on the current raw points (Newton's method), each row by its weight.
fn current_scale(x: &[f64], y: &[bool], weight: &[f64]) -> f64 {
    let (mut a, mut k) = (0.0f64, 0.0f64);
    for _ in 0..50 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for ((&xi, &yi), &wi) in x.iter().zip(y).zip(weight) {
            let p = sigmoid(a + k * xi);
            let r = wi * (p - f64::from(u8::from(yi)));
            let w = wi * p * (1.0 - p);
            g0 += r;
            g1 += r * xi;
            h00 += w;
            h01 += w * xi;
            h11 += w * xi * xi;
        }
        let det = h00 * h11 - h01 * h01;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (h11 * g0 - h01 * g1) / det;
        let dk = (h00 * g1 - h01 * g0) / det;
        a -= da;
        k -= dk;
        if da.abs().max(dk.abs()) < 1e-10 {
            break;
        }
    }
    if k.is_finite() {
        k.max(0.0)
    } else {
        0.0
    }
}

/// The calibration itself: returns the new playbook text and the report.
pub fn calibrate(
    text: &str,
    doc: &Value,
    export: &crm::Export,
    args: &Args,
    out: &Path,
    steps: &Steps,
) -> Result<(String, Report)> {
    let records: &[Record] = &export.records;
    if records.len() < 50 {
        bail!(
            "the export has {} closed rows: at least 50 are needed to learn anything (a few hundred to be useful)",
            records.len()
        );
    }
    let n = records.len();
    steps.step(format!("encoding {n} rows"));
    let layout = Layout::from_playbook(doc)?;
    let old = Scorer::new(doc)?;
    let rows = features::encode(doc, &layout, records)?;
    // A criterion its author switched off (`"weight": 0`) is left out of
    // the model (its points stay 0 there: no row shows it, and its current
    // points, times 0, are the prior), and stays off in the new revision;
    // the report still counts its rows.
    let off: Vec<std::ops::Range<u32>> = layout
        .criteria
        .iter()
        .filter(|c| c.off)
        .filter_map(|c| {
            let start = u32::try_from(c.offset).ok()?;
            Some(start..start.checked_add(u32::try_from(c.levels.len()).ok()?)?)
        })
        .collect();
    let y: Vec<bool> = records.iter().map(|r| r.positive).collect();
    let successes = y.iter().filter(|b| **b).count();
    if successes < 10 || records.len() - successes < 10 {
        bail!(
            "the export has {successes} successes and {} failures among {} closed rows: at least 10 of each are needed; check --positive",
            records.len() - successes,
            records.len()
        );
    }
    let (groups, repeated) = crm::account_groups(records);
    let test = split(&y, &groups, args.holdout, args.seed);
    let (learn_rows, test_rows) = (pick(&rows, &test, false), pick(&rows, &test, true));
    let (learn_y, test_y) = (pick(&y, &test, false), pick(&y, &test, true));
    // Every row of an account stays on one side: with few accounts, one
    // side (or one class of it) can be empty, and then nothing is measured
    // or nothing is learnt.
    let accounts = groups.iter().max().map_or(0, |g| g + 1);
    for (side, ys) in [("held out", &test_y), ("left to learn from", &learn_y)] {
        let won = ys.iter().filter(|b| **b).count();
        if won == 0 || won == ys.len() {
            bail!(
                "the {} closed rows are {accounts} account{}, and an account's rows stay on one side of the split: with --holdout {}, the rows {side} hold {won} successes and {} failures, and both are needed; export rows of more accounts, or change --holdout or --seed",
                records.len(),
                if accounts == 1 { "" } else { "s" },
                args.holdout,
                ys.len() - won
            );
        }
    }
    let learn_rec = pick(records, &test, false);
    let test_rec = pick(records, &test, true);

    // The current playbook, as the engine scores it.
    steps.step(format!("scoring {n} rows with the current playbook"));
    let old_learn = old.scores(&learn_rec)?;
    let old_test = old.scores(&test_rec)?;
    let old_pts = layout.old_points();
    let raw = |r: &Vec<u32>| -> f64 {
        r.iter()
            .filter_map(|&f| old_pts.get(f as usize))
            .sum::<f64>()
    };
    // An account's rows (one per opportunity or renewal) weigh as one
    // account: repeated, they would count as more evidence than they are.
    let mut per_account = vec![0usize; groups.iter().max().map_or(0, |g| g + 1)];
    for &g in &groups {
        if let Some(n) = per_account.get_mut(g) {
            *n += 1;
        }
    }
    let weight: Vec<f64> = pick(&groups, &test, false)
        .iter()
        .map(|&g| 1.0 / per_account.get(g).copied().unwrap_or(1) as f64)
        .collect();
    let scale = current_scale(
        &learn_rows.iter().map(raw).collect::<Vec<_>>(),
        &learn_y,
        &weight,
    );
    let prior: Vec<f64> = old_pts.iter().map(|p| p * scale).collect();

    steps.step(format!("fitting the model on {} rows", learn_rows.len()));
    let model_rows: Vec<Row> = learn_rows
        .iter()
        .map(|r| {
            r.iter()
                .copied()
                .filter(|f| !off.iter().any(|o| o.contains(f)))
                .collect()
        })
        .collect();
    let model = logistic::fit(
        &model_rows,
        &learn_y,
        &weight,
        layout.n_features,
        args.l2,
        &prior,
    )?;
    let plain = logistic::fit(
        &model_rows,
        &learn_y,
        &weight,
        layout.n_features,
        1e-3,
        &vec![0.0; layout.n_features],
    )?;
    let new_pts = points::to_points(&model.coef);

    // The new document: points, `otherwise`, weight 1, revision + 1.
    let mut new_doc = doc.clone();
    let new_revision = doc
        .get("revision")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .checked_add(1)
        .ok_or_else(|| anyhow!("the playbook's revision cannot be raised"))?;
    if let Some(m) = new_doc.as_object_mut() {
        m.insert("revision".into(), json!(new_revision));
    }
    let crits = new_doc
        .pointer_mut("/fit/criteria")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| anyhow!("the playbook has no fit.criteria"))?;
    for (c, spec) in layout.criteria.iter().zip(crits.iter_mut()) {
        let Some(m) = spec.as_object_mut() else {
            continue;
        };
        if c.off {
            continue;
        }
        if m.contains_key("weight") {
            m.insert("weight".into(), json!(1));
        }
        let nb = c.levels.len().saturating_sub(1);
        if let Some(bands) = m.get_mut("bands").and_then(Value::as_array_mut) {
            for (j, b) in bands.iter_mut().enumerate().take(nb) {
                if let Some(bm) = b.as_object_mut() {
                    let p = new_pts.get(c.offset + j).copied().unwrap_or(0.0);
                    bm.insert("points".into(), json!(p as i64));
                }
            }
        }
        let o = new_pts.get(c.offset + nb).copied().unwrap_or(0.0);
        m.insert("otherwise".into(), json!(o as i64));
    }
    // Tiers: cut from the new score distribution on the learning rows.
    let tier_ids: Vec<String> = doc
        .pointer("/fit/tiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let old_thresholds: Vec<(String, f64)> = doc
        .pointer("/fit/tiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("id")?.as_str()?.to_string(), t.get("min")?.as_f64()?)))
        .collect();
    let shares = match &args.tier_shares {
        Some(s) => parse_shares(s, tier_ids.len())?,
        None => {
            let current = points::shares(
                &tier_ids,
                &old_learn.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
            );
            // Keep sales capacity as it is, unless a tier is (nearly) empty.
            if current.iter().all(|s| *s >= 0.02) {
                current
            } else {
                points::default_shares(tier_ids.len())
            }
        }
    };
    steps.step(format!("scoring {n} rows with the new points"));
    let provisional = Scorer::new(&new_doc)?;
    let new_learn_scores: Vec<f64> = provisional
        .scores(&learn_rec)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let mins = points::thresholds(&new_learn_scores, &shares, tier_ids.len());
    let tiers_json: Vec<Value> = tier_ids
        .iter()
        .zip(&mins)
        .map(|(id, m)| json!({"id": id, "min": *m as i64}))
        .collect();
    if let Some(t) = new_doc.pointer_mut("/fit/tiers") {
        *t = Value::Array(tiers_json);
    }
    let new_text = patch::patch(text, &new_doc);
    // The output must be a valid playbook: compile exactly what is written.
    steps.step("checking the new revision on the held-out rows");
    let new_parsed: Value = serde_json::from_str(&new_text)?;
    let new = Scorer::new(&new_parsed).context("the calibrated playbook does not compile")?;
    let new_learn = new.scores(&learn_rec)?;
    let new_test = new.scores(&test_rec)?;

    // Measures on the held-out rows.
    let score_of = |v: &[(f64, String)]| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let model_p: Vec<f64> = test_rows.iter().map(|r| sigmoid(model.logit(r))).collect();
    let plain_p: Vec<f64> = test_rows.iter().map(|r| sigmoid(plain.logit(r))).collect();
    let r4 = |x: Option<f64>| x.map(|v| round(v, 4));
    let auc = Aucs {
        current: r4(metrics::auc(&score_of(&old_test), &test_y)),
        calibrated: r4(metrics::auc(&score_of(&new_test), &test_y)),
        calibrated_unrounded: r4(metrics::auc(&model_p, &test_y)),
        plain_logistic: r4(metrics::auc(&plain_p, &test_y)),
    };
    let labelled = |v: &[(f64, String)], y: &[bool]| -> Vec<(String, bool)> {
        v.iter().zip(y).map(|((_, t), b)| (t.clone(), *b)).collect()
    };
    // What the integer points predict: intercept + points / (points per logit).
    let pts_p: Vec<f64> = test_rows
        .iter()
        .map(|r| {
            let z: f64 = r
                .iter()
                .filter_map(|&f| new_pts.get(f as usize))
                .sum::<f64>()
                / POINTS_PER_LOGIT;
            sigmoid(model.intercept + z)
        })
        .collect();
    let tiers_current = metrics::tier_table(
        &tier_ids,
        &labelled(&old_learn, &learn_y),
        &labelled(&old_test, &test_y),
        None,
    );
    let tiers_calibrated = metrics::tier_table(
        &tier_ids,
        &labelled(&new_learn, &learn_y),
        &labelled(&new_test, &test_y),
        Some(&pts_p),
    );

    // Evidence per criterion (all closed rows) and warnings.
    let mut warnings: Vec<String> = export.warnings.clone();
    if repeated > 0 {
        warnings.push(format!(
            "{repeated} of {} closed rows repeat an account of an earlier row (the same `company.domain`, else `account_id`, else `id`): each account's rows are kept on one side of the split, so the held-out figures are still on accounts the calibration never saw",
            records.len()
        ));
    }
    // Rows and successes per feature, and learning rows per feature, in one
    // pass each (a row holds at most one feature per criterion, its band).
    let mut tally = vec![(0usize, 0usize); layout.n_features];
    for (r, &won) in rows.iter().zip(&y) {
        for &f in r {
            if let Some(t) = tally.get_mut(f as usize) {
                t.0 += 1;
                t.1 += usize::from(won);
            }
        }
    }
    let mut learn_tally = vec![0usize; layout.n_features];
    for &f in learn_rows.iter().flatten() {
        if let Some(t) = learn_tally.get_mut(f as usize) {
            *t += 1;
        }
    }
    let mut criteria = Vec::new();
    for c in &layout.criteria {
        let in_crit = |r: &Vec<u32>| {
            r.iter()
                .map(|&f| f as usize)
                .find(|&f| f >= c.offset && f < c.offset + c.levels.len())
        };
        let mut bands = Vec::new();
        let mut unseen = Vec::new();
        for (j, l) in c.levels.iter().enumerate() {
            let f = c.offset + j;
            let (n, w) = tally.get(f).copied().unwrap_or((0, 0));
            // `otherwise` with no rows and no points is noise in a report.
            if l.otherwise && n == 0 && l.old_points == 0.0 && new_pts.get(f) == Some(&0.0) {
                continue;
            }
            let now = new_pts.get(f).copied().unwrap_or(0.0);
            if learn_tally.get(f) == Some(&0) && now != l.old_points {
                unseen.push(format!("`{}` {} → {}", l.label, l.old_points, now));
            }
            bands.push(BandReport {
                band: l.label.clone(),
                accounts: n,
                won: w,
                win_rate: metrics::rate(w, n),
                old_points: l.old_points,
                new_points: new_pts.get(f).copied().unwrap_or(0.0),
            });
        }
        let range = c.offset..c.offset + c.levels.len();
        let (known, known_w) = tally
            .get(range.clone())
            .unwrap_or_default()
            .iter()
            .fold((0, 0), |(n, w), t| (n + t.0, w + t.1));
        let known_learn: usize = learn_tally.get(range).unwrap_or_default().iter().sum();
        let importance = |pts: &[f64]| {
            let v: Vec<f64> = learn_rows
                .iter()
                .map(|r| in_crit(r).and_then(|f| pts.get(f)).copied().unwrap_or(0.0))
                .collect();
            round(std_dev(&v), 3)
        };
        let warning = if c.off {
            Some(
                "switched off (`\"weight\": 0`), so neither learnt nor rewritten: it stays off (give it a weight and calibrate again to learn it)"
                    .to_string(),
            )
        } else if known_learn == 0 {
            Some(format!(
                "no row of the export has `{}`: points kept at the current ones (rescaled)",
                c.attribute
            ))
        } else if known_learn < args.min_rows {
            Some(format!(
                "only {known_learn} learning rows have `{}` (fewer than {}): points stay close to the current ones",
                c.attribute, args.min_rows
            ))
        } else {
            None
        };
        let (not_numbers, example) = c.not_numbers(export.records.iter());
        if let Some(e) = example {
            warnings.push(format!(
                "{} ({}): {not_numbers} rows have a `{}` that is not a number (such as `{}`): they fall in no band",
                c.label,
                c.id,
                c.attribute,
                crate::input::visible(&e)
            ));
        }
        if let Some(w) = &warning {
            warnings.push(format!("{} ({}): {w}", c.label, c.id));
        } else if !unseen.is_empty() {
            warnings.push(format!(
                "{} ({}): no learning row falls in {}: {} by the change of scale alone, not by evidence",
                c.label,
                c.id,
                if unseen.len() == 1 { "this band" } else { "these bands" },
                unseen.join(", ")
            ));
        }
        criteria.push(CriterionReport {
            id: c.id.clone(),
            label: c.label.clone(),
            attribute: c.attribute.clone(),
            known,
            known_win_rate: metrics::rate(known_w, known),
            unknown: rows.len() - known,
            unknown_win_rate: metrics::rate(successes - known_w, rows.len() - known),
            bands,
            old_importance: importance(&old_pts),
            new_importance: importance(&new_pts),
            warning,
        });
    }
    if !model.converged {
        warnings.push("the regression did not converge: raise --l2".into());
    }
    // Numbers other rules compare the score with stay as the author wrote
    // them, on a scale that moved.
    let old_scores: Vec<f64> = old_learn.iter().map(|(s, _)| *s).collect();
    let new_scores: Vec<f64> = new_learn.iter().map(|(s, _)| *s).collect();
    for r in super::score_refs::find(doc) {
        let t = r.value;
        if matches!(r.op, "$in" | "$nin") {
            // A listed score is matched exactly: no share to keep.
            warnings.push(format!(
                "{} lists `fit.score` {t} ({}), a score of the current scale, which the new points move and which is not rewritten: compare with a range (`$gte`) instead, or write the scores the list should hold on the new scale",
                r.path, r.op
            ));
            continue;
        }
        warnings.push(format!(
            "{} compares `fit.score` with {t} ({}), a number of the current scale, which the new points move and which is not rewritten: {:.1}% of the learning rows score {t} or more now, {:.1}% would with the new points; the same share scores {} or more with them",
            r.path,
            r.op,
            100.0 * super::score_refs::share_at_or_above(&old_scores, t),
            100.0 * super::score_refs::share_at_or_above(&new_scores, t),
            super::score_refs::same_share(&old_scores, &new_scores, t)
        ));
    }
    // What the held-out figures can carry.
    let test_won = test_y.iter().filter(|b| **b).count();
    let test_lost = test_y.len() - test_won;
    if test_won.min(test_lost) < 30 {
        warnings.push(format!(
            "the held-out rows hold {test_won} successes and {test_lost} failures: their AUC and win rates are rough (an AUC is uncertain by about ±0.1 with under 30 of either); export more closed rows before trusting a difference"
        ));
    }
    if let (Some(now), Some(before)) = (auc.calibrated, auc.current) {
        if now < before {
            warnings.push(format!(
                "the calibrated points rank the held-out rows worse than the current ones (AUC {now} against {before}): keep the current revision, or learn from more rows"
            ));
        }
    }
    let report = Report {
        playbook_id: doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        old_revision: new_revision - 1,
        new_revision,
        export: args.export.display().to_string(),
        rows: records.len(),
        open_skipped: export.open,
        other_kind_skipped: export.other_kind,
        successes,
        success_rate: metrics::rate(successes, records.len()),
        positive: parse_positive(&args.positive)?
            .iter()
            .map(|o| o.as_str().to_string())
            .collect(),
        learn_rows: learn_rows.len(),
        test_rows: test_rows.len(),
        seed: args.seed,
        l2: args.l2,
        points_per_logit: round(POINTS_PER_LOGIT, 4),
        current_scale: round(scale, 5),
        auc,
        tiers_current,
        tiers_calibrated,
        thresholds_current: old_thresholds,
        thresholds_calibrated: tier_ids.iter().cloned().zip(mins.iter().copied()).collect(),
        criteria,
        warnings,
        out: out.display().to_string(),
    };
    Ok((new_text, report))
}

fn parse_shares(s: &str, tiers: usize) -> Result<Vec<f64>> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow!("--tier-shares: expected percentages such as 10,20,30"))?;
    if v.len() + 1 != tiers && v.len() != tiers {
        bail!(
            "--tier-shares: the playbook has {tiers} tiers: give {} percentages (the last tier takes the rest)",
            tiers.saturating_sub(1)
        );
    }
    if v.iter().any(|x| !(0.0..=100.0).contains(x)) || v.iter().sum::<f64>() > 100.0 + 1e-9 {
        bail!("--tier-shares: percentages must be 0–100 and add up to at most 100");
    }
    // One for every tier: the last is then not "the rest", and must be it.
    let sum: f64 = v.iter().sum();
    if v.len() == tiers && (sum - 100.0).abs() > 0.5 {
        bail!(
            "--tier-shares: a percentage for each of the {tiers} tiers must add up to 100 (these add up to {sum}); or give {} and the last tier takes the rest",
            tiers.saturating_sub(1)
        );
    }
    Ok(v.iter().map(|x| x / 100.0).collect())
}

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::{parse_shares, split};

    #[test]
    fn tier_shares_are_all_but_the_last_or_all_adding_up_to_100() {
        assert_eq!(parse_shares("10,20,30", 4).unwrap(), [0.1, 0.2, 0.3]);
        assert_eq!(parse_shares("10,20,30,40", 4).unwrap().len(), 4);
        let err = parse_shares("10,20,30,10", 4).unwrap_err().to_string();
        assert!(
            err.contains("must add up to 100 (these add up to 70)"),
            "{err}"
        );
        assert!(parse_shares("10,20", 4).is_err());
    }

    #[test]
    fn an_account_is_on_one_side_of_the_split() {
        // One row per account: 30% of each class held out.
        let y: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let singles: Vec<usize> = (0..100).collect();
        let t = split(&y, &singles, 0.3, 7);
        let held = |class: bool| (0..100).filter(|&i| t[i] && y[i] == class).count();
        assert_eq!((held(true), held(false)), (8, 23));
        // Three rows per account: never split, 30% of the accounts held out.
        let groups: Vec<usize> = (0..300).map(|i| i % 100).collect();
        let y3: Vec<bool> = (0..300).map(|i| y[i % 100]).collect();
        let t3 = split(&y3, &groups, 0.3, 7);
        for i in 0..300 {
            assert_eq!(t3[i], t3[i % 100], "row {i}");
        }
        assert_eq!(t3.iter().filter(|b| **b).count(), 3 * 31);
    }
}
