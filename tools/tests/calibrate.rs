//! `buyerpath calibrate`: on a generated CRM export with a known truth, the
//! calibrated playbook recovers the truth's ranking of criteria, beats the
//! hand-written playbook on held-out rows and matches a plain logistic
//! regression; outputs are deterministic; bad input fails clearly.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn playbook() -> PathBuf {
    root().join("examples/acme/playbook.json")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn generate(dir: &Path, seed: u64, rows: usize) -> PathBuf {
    let out = dir.join("crm.csv");
    ok(&[
        "calibrate",
        "generate",
        "--seed",
        &seed.to_string(),
        "--rows",
        &rows.to_string(),
        "--out",
        s(&out),
    ]);
    out
}

fn fit(dir: &Path, export: &Path, extra: &[&str]) -> (PathBuf, Value) {
    let out = dir.join("playbook.r2.json");
    let mut args = vec![
        "calibrate",
        "fit",
        "--playbook",
        s(&playbook()).to_owned().leak(),
        "--export",
        s(export),
        "--out",
        s(&out),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("playbook.r2.report.json")).unwrap(),
    )
    .unwrap();
    (out, report)
}

/// Average ranks (ties share their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && v[idx[j]] == v[idx[i]] {
            j += 1;
        }
        for k in i..j {
            r[idx[k]] = (i + j + 1) as f64 / 2.0;
        }
        i = j;
    }
    r
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn calibration_recovers_the_truth_and_beats_the_hand_written_playbook() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 11, 4000);
    let (out, report) = fit(dir.path(), &export, &[]);
    let auc = &report["auc"];
    let (current, calibrated, plain) = (
        auc["current"].as_f64().unwrap(),
        auc["calibrated"].as_f64().unwrap(),
        auc["plain_logistic"].as_f64().unwrap(),
    );
    eprintln!("held-out AUC: current {current}, calibrated {calibrated}, plain LR {plain}");
    assert!(
        calibrated > current + 0.03,
        "calibrated {calibrated} vs current {current}"
    );
    assert!(
        calibrated >= plain - 0.01,
        "calibrated {calibrated} vs plain LR {plain}"
    );

    // The truth's ranking of criteria (by the spread of their true log-odds).
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("crm.truth.json")).unwrap())
            .unwrap();
    let imp = truth["importance"].as_object().unwrap();
    let crits = report["criteria"].as_array().unwrap();
    let (mut t, mut new, mut old, mut ids) = (vec![], vec![], vec![], vec![]);
    for c in crits {
        let id = c["id"].as_str().unwrap();
        if let Some(x) = imp.get(id) {
            ids.push(id.to_string());
            t.push(x.as_f64().unwrap());
            new.push(c["new_importance"].as_f64().unwrap());
            old.push(c["old_importance"].as_f64().unwrap());
        }
    }
    let (rho_new, rho_old) = (spearman(&t, &new), spearman(&t, &old));
    eprintln!("Spearman with the truth: calibrated {rho_new:.3}, current {rho_old:.3}");
    assert!(
        rho_new >= 0.7 && rho_new > rho_old + 0.1,
        "{rho_new} vs {rho_old}"
    );
    let top = |v: &[f64], k: usize| -> Vec<String> {
        let mut i: Vec<usize> = (0..v.len()).collect();
        i.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
        i.into_iter().take(k).map(|j| ids[j].clone()).collect()
    };
    let (truth_top, new_top) = (top(&t, 3), top(&new, 6));
    assert!(
        truth_top.iter().all(|x| new_top.contains(x)),
        "truth top 3 {truth_top:?} not in calibrated top 6 {new_top:?}"
    );

    // The calibrated tiers fall steeply and hold their promise on held-out rows.
    let tiers = report["tiers_calibrated"].as_array().unwrap();
    let first = tiers
        .iter()
        .find(|t| t["test_n"].as_u64().unwrap() >= 30)
        .unwrap();
    let last = tiers.last().unwrap();
    assert!(
        first["test_rate"].as_f64().unwrap() > 3.0 * last["test_rate"].as_f64().unwrap(),
        "{tiers:?}"
    );

    // A playbook `buyerpath check` accepts, one revision up, with the author's formatting kept.
    let checked = ok(&["check", s(&out)]);
    assert!(checked.contains("revision 2"), "{checked}");
    let text = std::fs::read_to_string(&out).unwrap();
    let original = std::fs::read_to_string(playbook()).unwrap();
    assert_eq!(
        text.lines().count(),
        original.lines().count() + count_new_otherwise(&original, &text)
    );
    let md = std::fs::read_to_string(dir.path().join("playbook.r2.report.md")).unwrap();
    assert!(md.contains("+10 points double the odds"), "{md}");
}

fn count_new_otherwise(original: &str, new: &str) -> usize {
    new.matches("\"otherwise\"").count() - original.matches("\"otherwise\"").count()
}

#[test]
fn same_input_and_seed_give_byte_identical_output() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ea = generate(a.path(), 5, 1500);
    let eb = generate(b.path(), 5, 1500);
    assert_eq!(std::fs::read(&ea).unwrap(), std::fs::read(&eb).unwrap());
    // Same file name in both: the report names its input.
    let shared = a.path().join("shared.csv");
    std::fs::copy(&ea, &shared).unwrap();
    let (oa, _) = fit(a.path(), &shared, &[]);
    let first = std::fs::read(&oa).unwrap();
    let report = std::fs::read(a.path().join("playbook.r2.report.md")).unwrap();
    // A second run refuses to overwrite...
    let o = run(&[
        "calibrate",
        "fit",
        "--playbook",
        s(&playbook()),
        "--export",
        s(&shared),
        "--out",
        s(&oa),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    // ...and with --force writes the same bytes.
    fit(a.path(), &shared, &["--force"]);
    assert_eq!(std::fs::read(&oa).unwrap(), first);
    assert_eq!(
        std::fs::read(a.path().join("playbook.r2.report.md")).unwrap(),
        report
    );
}

#[test]
fn bad_exports_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no-outcome.csv");
    std::fs::write(&p, "id,company.industry\n1,software\n").unwrap();
    let o = run(&[
        "calibrate",
        "fit",
        "--playbook",
        s(&playbook()),
        "--export",
        s(&p),
        "--out",
        s(&dir.path().join("x.json")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("no `outcome` column"),
        "{err}"
    );

    let p = dir.path().join("bad-outcome.jsonl");
    std::fs::write(
        &p,
        "{\"company\":{\"industry\":\"software\"},\"outcome\":\"won\"}\n{\"company.industry\":\"retail\",\"outcome\":\"maybe\"}\n",
    )
    .unwrap();
    let o = run(&[
        "calibrate",
        "fit",
        "--playbook",
        s(&playbook()),
        "--export",
        s(&p),
        "--out",
        s(&dir.path().join("x.json")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2: unknown outcome `maybe`"), "{err}");
    assert!(!dir.path().join("x.json").exists());
}

/// Signals as the store holds them: a Content Recommended, then a page view
/// of the picked content's URL when the visitor clicked, then a stage move.
#[test]
fn content_priors_follow_clicks_and_lift_has_an_interval() {
    let dir = tempfile::tempdir().unwrap();
    let pb: Value = serde_json::from_str(&std::fs::read_to_string(playbook()).unwrap()).unwrap();
    let url = |id: &str| -> String {
        pb["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (good, poor) = (
        "blog-what-is-data-observability",
        "guide-data-observability-primer",
    );
    let mut lines = Vec::new();
    let mut x: u64 = 12345;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 10_000) as f64 / 10_000.0
    };
    let t0 = 1_790_000_000_000i64;
    for v in 0..2000 {
        let holdout = v % 10 == 0;
        let id = format!("v{v}");
        let ts = t0 + v as i64 * 60_000;
        let ev = |event: &str, ts: i64, props: Value, path: &str| {
            json!({"type": "track", "event": event, "anonymousId": id, "timestamp": ts,
                   "properties": props, "context": {"page": {"path": path}}})
            .to_string()
        };
        lines.push(ev(
            "Visitor Classified",
            ts,
            json!({"role": "technical_evaluator"}),
            "/",
        ));
        lines.push(ev(
            "Content Recommended",
            ts + 1,
            json!({"holdout": holdout, "stage": "problem_identification",
                   "slots": [{"slot": "reading", "content_ids": [good, poor]}]}),
            "/",
        ));
        if rnd() < 0.30 {
            lines.push(ev("Visitor Classified", ts + 60_000, json!({}), &url(good)));
        } else if rnd() < 0.03 {
            lines.push(ev("Visitor Classified", ts + 60_000, json!({}), &url(poor)));
        }
        let p = if holdout { 0.10 } else { 0.20 };
        // The lift's conversion: MQL reached after the recommendation.
        if rnd() < p {
            lines.push(ev("MQL Reached", ts + 3_600_000, json!({}), "/"));
        }
    }
    let signals = dir.path().join("signals.jsonl");
    std::fs::write(&signals, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("pb.r2.json");
    let stdout = ok(&[
        "calibrate",
        "content",
        "--playbook",
        s(&playbook()),
        "--signals",
        s(&signals),
        "--out",
        s(&out),
    ]);
    eprintln!("{stdout}");
    assert!(stdout.contains("personalisation lift"), "{stdout}");
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pb.r2.content.json")).unwrap(),
    )
    .unwrap();
    let prior = |id: &str| {
        r["priors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["content_id"] == id && p.get("stage").is_none())
            .unwrap()["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(
        prior(good) > 0.2 && prior(poor) < 0.1,
        "{} {}",
        prior(good),
        prior(poor)
    );
    // The floor: never below half the average click-through.
    assert!(prior(poor) >= 0.5 * r["click_through"].as_f64().unwrap() - 1e-3);
    // A stage × role cell of its own where there is enough data.
    assert!(r["priors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["content_id"] == good
            && p["stage"] == "problem_identification"
            && p["role"] == "technical_evaluator"));
    let lift = &r["lift"];
    let (lo, hi) = (
        lift["lift_ci95"][0].as_f64().unwrap(),
        lift["lift_ci95"][1].as_f64().unwrap(),
    );
    assert!(
        lo < 1.0 && 1.0 < hi && lo > 0.0,
        "true lift +100% within ({lo}, {hi})"
    );
    ok(&["check", s(&out)]);
}

/// A numeric column holding words (`lots`) is learned from as "no band"; the
/// report says so instead of staying silent.
#[test]
fn words_in_a_numeric_column_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 11, 600);
    let text = std::fs::read_to_string(&export).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "company.employees")
        .unwrap();
    let mut out = vec![header.join(",")];
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        if i % 3 == 0 {
            cells[col] = "lots".into();
        }
        out.push(cells.join(","));
    }
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, out.join("\n") + "\n").unwrap();
    let (_, report) = fit(dir.path(), &broken, &[]);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("`company.employees` that is not a number (such as `lots`)"),
        "{warnings}"
    );
    let (_, clean) = fit(dir.path(), &export, &["--force"]);
    assert!(!clean["warnings"].to_string().contains("not a number"));
}

/// A command missing its input says so first, before what is in the way.
#[test]
fn content_without_a_source_says_so_before_an_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("playbook.json");
    std::fs::copy(playbook(), &pb).unwrap();
    std::fs::write(dir.path().join("playbook.r2.json"), "{}").unwrap();
    let out = run(&["calibrate", "content", "--playbook", s(&pb)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("give the store"), "{err}");
}

/// A run that must fail: its stderr.
fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The arguments of `calibrate fit --playbook P --export E`, then `extra`.
fn fit_args<'a>(playbook: &'a Path, export: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "calibrate",
        "fit",
        "--playbook",
        s(playbook),
        "--export",
        s(export),
    ];
    args.extend_from_slice(extra);
    args
}

/// One signal: a Content Recommended of `pricing`.
const SIGNAL: &str = r#"{"type":"track","anonymousId":"a","event":"Content Recommended","timestamp":1793610000000,"properties":{"holdout":false,"slots":[{"content_ids":["pricing"]}]}}"#;

#[test]
fn reports_and_the_new_revision_never_share_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 3, 300);
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let pb = s(&playbook()).to_owned();
    // `--report x.json`: the JSON report there, the Markdown one next to it.
    let fit = |out: &str, report: &str| -> Vec<String> {
        [
            "calibrate",
            "fit",
            "--playbook",
            &pb,
            "--export",
            s(&export),
            "--out",
            out,
            "--report",
            report,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let args = fit(&p("r2.json"), &p("rep.json"));
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(p("rep.json")).unwrap()).unwrap();
    assert_eq!(json["new_revision"], 2);
    assert!(std::fs::read_to_string(p("rep.md"))
        .unwrap()
        .starts_with('#'));
    // `--report` = `--out`, or an input: refused, even with --force.
    for (out, report) in [(p("new.json"), p("new.json")), (p("new2.json"), pb.clone())] {
        let mut args = fit(&out, &report);
        args.push("--force".into());
        let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(err.contains("same file") || err.contains("itself"), "{err}");
        assert!(!Path::new(&out).exists());
    }
    let signals = dir.path().join("s.jsonl");
    std::fs::write(&signals, format!("{SIGNAL}\n")).unwrap();
    let content = |out: &str, report: &str| {
        run(&[
            "calibrate",
            "content",
            "--playbook",
            &pb,
            "--signals",
            s(&signals),
            "--out",
            out,
            "--report",
            report,
        ])
    };
    assert!(content(&p("c2.json"), &p("crep.md")).status.success());
    assert!(std::fs::read_to_string(p("crep.md"))
        .unwrap()
        .starts_with('#'));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(p("crep.json")).unwrap()).unwrap();
    assert_eq!(json["new_revision"], 2);
    let o = content(&p("c3.json"), &p("c3.json"));
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("c3.json").exists());

    // A report that cannot be written: nothing is written, not even the new
    // playbook (the corrected run would then be refused as an overwrite),
    // and no temporary file stays behind.
    let nowhere = p("no-such-dir/r.md");
    let err = fails(
        &fit(&p("half.json"), &nowhere)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(err.contains("cannot write"), "{err}");
    assert!(!dir.path().join("half.json").exists());
    let o = content(&p("half2.json"), &nowhere);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("half2.json").exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_duplicate_csv_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("dup.csv");
    std::fs::write(
        &export,
        "id,outcome,company.industry,outcome\na,won,software,lost\n",
    )
    .unwrap();
    let out = dir.path().join("o.json");
    let err = fails(&fit_args(&playbook(), &export, &["--out", s(&out)]));
    assert!(
        err.contains("names `outcome` twice (columns 2 and 4)"),
        "{err}"
    );
}

#[test]
fn csv_problems_name_the_line_an_editor_shows() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("lines.csv");
    std::fs::write(
        &export,
        "id,company.industry,outcome\na,software,won\n\n\nb,\"multi\nline\",lost\nc,software,won\nd,software,lost\ne,software,maybe\n",
    )
    .unwrap();
    let (out, pb) = (dir.path().join("o.json"), playbook());
    let args = fit_args(&pb, &export, &["--out", s(&out)]);
    let err = fails(&args);
    assert!(err.contains("line 9: unknown outcome `maybe`"), "{err}");
    std::fs::write(&export, "id,outcome\na,won\n\n\"b\nc\",won\nd\n").unwrap();
    let err = fails(&args);
    assert!(err.contains("line 6: not a valid CSV row"), "{err}");
}

#[test]
fn a_byte_order_mark_is_read_in_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let bom = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("\u{feff}{text}")).unwrap();
        p
    };
    let pb = bom("pb.json", &std::fs::read_to_string(playbook()).unwrap());
    let csv = generate(dir.path(), 3, 300);
    ok(&fit_args(
        &pb,
        &csv,
        &["--out", s(&dir.path().join("r2.json"))],
    ));
    // 80 accounts (the split keeps an account's rows on one side).
    let rows: String = (0..40)
        .map(|i| {
            format!(
                "{{\"id\":\"a{i}\",\"company\":{{\"industry\":\"software\"}},\"outcome\":\"won\"}}\n{{\"id\":\"b{i}\",\"outcome\":\"lost\"}}\n"
            )
        })
        .collect();
    let export = bom("crm.jsonl", &rows);
    ok(&fit_args(
        &playbook(),
        &export,
        &["--out", s(&dir.path().join("r3.json"))],
    ));
    let signals = bom("s.jsonl", &format!("{SIGNAL}\n"));
    ok(&[
        "calibrate",
        "content",
        "--playbook",
        s(&pb),
        "--signals",
        s(&signals),
        "--out",
        s(&dir.path().join("c2.json")),
    ]);
}

#[test]
fn export_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "bad.jsonl",
            "{\"id\":\"a\",\"outcome\":\"won\"}\n{\"id\":\n",
        ),
        ("ragged.csv", "id,outcome\na,won\nb\n"),
    ] {
        let export = dir.path().join(name);
        std::fs::write(&export, text).unwrap();
        let err = fails(&fit_args(
            &playbook(),
            &export,
            &["--out", s(&dir.path().join("o.json"))],
        ));
        assert!(
            err.contains(&format!("in the CRM export {}", s(&export))),
            "{err}"
        );
    }
}

#[test]
fn an_export_without_rows_or_outcome_values_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let blank: String = (0..60).map(|i| format!("r{i},software,\n")).collect();
    for (text, says) in [
        (String::new(), "no rows"),
        ("id,company.industry,outcome\n".to_string(), "no rows"),
        (
            format!("id,company.industry,outcome\n{blank}"),
            "`outcome` column is empty in all 60 row(s)",
        ),
    ] {
        let export = dir.path().join("e.csv");
        std::fs::write(&export, text).unwrap();
        let err = fails(&fit_args(
            &playbook(),
            &export,
            &["--out", s(&dir.path().join("o.json"))],
        ));
        assert!(err.contains(says) && !err.contains("there is no"), "{err}");
    }
}

#[test]
fn the_highest_revision_cannot_be_raised() {
    let dir = tempfile::tempdir().unwrap();
    let mut pb: Value =
        serde_json::from_str(&std::fs::read_to_string(playbook()).unwrap()).unwrap();
    pb["revision"] = json!(u32::MAX);
    let max = dir.path().join("max.json");
    std::fs::write(&max, pb.to_string()).unwrap();
    let export = generate(dir.path(), 3, 300);
    let err = fails(&fit_args(&max, &export, &[]));
    assert!(
        err.contains("revision 4294967295 cannot be raised: it is the highest"),
        "{err}"
    );
}

#[test]
fn generate_refuses_a_name_fit_would_read_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("crm.jsonl");
    let err = fails(&["calibrate", "generate", "--rows", "20", "--out", s(&out)]);
    assert!(err.contains("give a `.csv` name"), "{err}");
    assert!(!out.exists());
}

#[test]
fn content_refuses_a_max_strength_that_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let signals = dir.path().join("s.jsonl");
    std::fs::write(&signals, format!("{SIGNAL}\n")).unwrap();
    for x in ["NaN", "inf"] {
        let out = dir.path().join("c.json");
        let err = fails(&[
            "calibrate",
            "content",
            "--playbook",
            s(&playbook()),
            "--signals",
            s(&signals),
            "--out",
            s(&out),
            &format!("--max-strength={x}"),
        ]);
        assert!(err.contains("--max-strength"), "{err}");
        assert!(!out.exists());
    }
}

/// A generated export's header and rows (cells as written).
fn csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// What two fits on the same data must agree on (the paths aside).
fn same_fit(a: &Value, b: &Value) {
    for k in [
        "rows",
        "successes",
        "learn_rows",
        "test_rows",
        "auc",
        "tiers_current",
        "tiers_calibrated",
        "thresholds_calibrated",
        "criteria",
        "warnings",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
}

/// Real exports list an account on several rows (one per opportunity or
/// renewal): its rows stay on one side of the learn/held-out split, so the
/// held-out figures are on accounts the fit never saw, and the repeats are
/// said.
#[test]
fn an_account_on_several_rows_stays_on_one_side_of_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let once = generate(&a, 11, 600);
    let text = std::fs::read_to_string(&once).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    // Every row twice, the second time further down (a renewal).
    let twice = b.join("twice.csv");
    std::fs::write(&twice, format!("{header}\n{body}{body}")).unwrap();
    let (_, r1) = fit(&a, &once, &[]);
    let (_, r2) = fit(&b, &twice, &[]);
    let rows = r1["rows"].as_u64().unwrap();
    assert_eq!(r2["rows"].as_u64().unwrap(), 2 * rows);
    let warnings = r2["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "{rows} of {} closed rows repeat an account of an earlier row",
            2 * rows
        )),
        "{warnings}"
    );
    assert!(!r1["warnings"].to_string().contains("repeat an account"));
    // The same accounts held out, each twice: the current playbook's
    // held-out AUC is exactly the one on the export without repeats.
    assert_eq!(
        r2["test_rows"].as_u64().unwrap(),
        2 * r1["test_rows"].as_u64().unwrap()
    );
    assert_eq!(r2["auc"]["current"], r1["auc"]["current"]);
    for (t1, t2) in r1["tiers_current"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r2["tiers_current"].as_array().unwrap())
    {
        assert_eq!(t2["test_rate"], t1["test_rate"], "{t1} {t2}");
        assert_eq!(
            t2["test_n"].as_u64().unwrap(),
            2 * t1["test_n"].as_u64().unwrap()
        );
    }
    // An account's rows weigh as one account in the fit: twice the rows are
    // not twice the evidence, so the learned points and tiers are the same.
    assert_eq!(r2["thresholds_calibrated"], r1["thresholds_calibrated"]);
    for (c1, c2) in r1["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r2["criteria"].as_array().unwrap())
    {
        let points = |c: &Value| -> Vec<Value> {
            c["bands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["new_points"].clone())
                .collect()
        };
        assert_eq!(points(c2), points(c1), "{}", c1["id"]);
    }
}

/// A JSONL export whose values are strings (`"tech": "a;b"`, `"employees":
/// "10658"`) says what the same CSV says: the same fit, to the report.
#[test]
fn a_jsonl_string_reads_as_the_same_csv_cell() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let export = generate(&a, 11, 600);
    let (header, rows) = csv_table(&export);
    let mut lines = String::new();
    for row in &rows {
        let mut obj = serde_json::Map::new();
        for (h, cell) in header.iter().zip(row) {
            if cell.is_empty() {
                continue;
            }
            match h.split_once('.') {
                Some((scope, key)) => {
                    let inner = obj
                        .entry(scope)
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .unwrap();
                    inner.insert(key.into(), Value::from(cell.as_str()));
                }
                None => {
                    obj.insert(h.clone(), Value::from(cell.as_str()));
                }
            }
        }
        lines.push_str(&Value::Object(obj).to_string());
        lines.push('\n');
    }
    assert!(lines.contains(r#""employees":"1"#) && lines.contains(r#";"#));
    let jsonl = b.join("crm.jsonl");
    std::fs::write(&jsonl, lines).unwrap();
    let (_, from_csv) = fit(&a, &export, &[]);
    let (_, from_jsonl) = fit(&b, &jsonl, &[]);
    same_fit(&from_csv, &from_jsonl);
}

/// A `;`- or tab-separated CSV (a spreadsheet in a locale whose decimal mark
/// is a comma, and the `;` one written with decimal commas) reads like the
/// comma-separated one; a `;` file whose lists
/// are not quoted says why a row has too many cells.
#[test]
fn a_semicolon_or_tab_separated_export_reads_like_a_comma_separated_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("comma");
    std::fs::create_dir_all(&base).unwrap();
    let export = generate(&base, 11, 600);
    let (_, expected) = fit(&base, &export, &[]);
    let (header, rows) = csv_table(&export);
    for (name, sep) in [("semicolon", b';'), ("tab", b'\t')] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("crm.csv");
        let mut w = csv::WriterBuilder::new()
            .delimiter(sep)
            .from_path(&path)
            .unwrap();
        w.write_record(&header).unwrap();
        let mut commas = 0;
        for row in &rows {
            // The `;` file's numbers as its locale writes them: 258175748
            // as `258.175.748`, 10657 as `10.657,0`.
            let row: Vec<String> = row
                .iter()
                .map(|cell| match cell.parse::<u64>() {
                    Ok(n) if sep == b';' && n >= 1000 => {
                        commas += 1;
                        let digits = n.to_string();
                        let mut grouped = String::new();
                        for (i, c) in digits.chars().enumerate() {
                            if i > 0 && (digits.len() - i) % 3 == 0 {
                                grouped.push('.');
                            }
                            grouped.push(c);
                        }
                        // Half with a decimal comma, half without (`1.500`).
                        if n % 2 == 0 {
                            grouped
                        } else {
                            format!("{grouped},0")
                        }
                    }
                    _ => cell.clone(),
                })
                .collect();
            w.write_record(&row).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        assert!(sep != b';' || commas > 100, "{commas} decimal commas");
        let (_, got) = fit(&sub, &path, &[]);
        same_fit(&expected, &got);
    }
    // Commas turned into `;`, lists left unquoted: a row has too many cells.
    let raw = dir.path().join("raw.csv");
    let text = std::fs::read_to_string(&export).unwrap().replace(',', ";");
    std::fs::write(&raw, text).unwrap();
    let err = fails(&fit_args(
        &playbook(),
        &raw,
        &["--out", s(&dir.path().join("o.json"))],
    ));
    assert!(
        err.contains("not a valid CSV row") && err.contains("`;`-separated"),
        "{err}"
    );
    assert!(!err.contains("there is no `outcome` column"), "{err}");
}

/// A small export says what its figures can carry: a held-out set with few
/// successes, a calibration that ranks the held-out rows worse than the
/// current points, and a band that no learning row falls in (its points
/// move by the change of scale alone).
#[test]
fn a_small_export_says_its_figures_are_rough() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 3, 120);
    let (_, r) = fit(dir.path(), &export, &[]);
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("the held-out rows hold "), "{warnings}");
    let (now, before) = (
        r["auc"]["calibrated"].as_f64().unwrap(),
        r["auc"]["current"].as_f64().unwrap(),
    );
    assert!(
        now < before,
        "this seed's calibration ranks worse: {now} {before}"
    );
    assert!(
        warnings.contains("rank the held-out rows worse than the current ones"),
        "{warnings}"
    );
    assert!(
        warnings.contains("no learning row falls in this band: `Target account`"),
        "{warnings}"
    );
}

/// `--positive won` asks which new deals succeed: renewals, expansions and
/// churn are another kind of outcome, left out (and counted), not read as
/// lost deals; the same the other way round.
#[test]
fn success_of_one_kind_leaves_the_other_kind_out() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 11, 600);
    let (header, rows) = csv_table(&export);
    let col = header.iter().position(|h| h == "outcome").unwrap();
    let count = |names: &[&str]| {
        rows.iter()
            .filter(|r| names.contains(&r[col].as_str()))
            .count()
    };
    let deals = count(&["won", "lost"]);
    let customers = count(&["renewed", "expanded", "churned"]);
    assert!(
        deals > 100 && customers > 20,
        "{deals} deals, {customers} customers"
    );
    for (positive, kept, skipped, phrase) in [
        ("won", deals, customers, "success names only new deals"),
        (
            "renewed,expanded",
            customers,
            deals,
            "success names only customers' outcomes",
        ),
    ] {
        let (_, report) = fit(dir.path(), &export, &["--positive", positive, "--force"]);
        assert_eq!(report["rows"], kept, "--positive {positive}");
        assert_eq!(
            report["other_kind_skipped"], skipped,
            "--positive {positive}"
        );
        let md = std::fs::read_to_string(dir.path().join("playbook.r2.report.md")).unwrap();
        assert!(
            md.contains(&format!("{skipped} closed rows of another kind skipped"))
                && md.contains(phrase),
            "{md}"
        );
    }
    // Both kinds named (the default): every closed row counts.
    let (_, report) = fit(dir.path(), &export, &["--force"]);
    assert_eq!(report["rows"], deals + customers);
    assert_eq!(report["other_kind_skipped"], 0);
}

/// Calibration moves the score's scale: a rule on `fit.score` keeps the
/// author's number, so `fit` warns with the number that keeps its share; a
/// criterion switched off (`"weight": 0`) stays off.
#[test]
fn fit_warns_of_score_thresholds_and_keeps_a_criterion_switched_off() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 7, 1500);
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(playbook()).unwrap()).unwrap();
    doc["triggers"].as_array_mut().unwrap().insert(
        0,
        json!({"id": "high_fit", "label": "High fit score", "when": {"fit.score": {"$gte": 60}}}),
    );
    let criteria = doc["fit"]["criteria"].as_array_mut().unwrap();
    let off = criteria
        .iter_mut()
        .find(|c| c["id"] == "employees")
        .unwrap();
    off["weight"] = json!(0);
    let before = off.clone();
    let pb = dir.path().join("pb.json");
    std::fs::write(&pb, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = dir.path().join("o.json");
    ok(&fit_args(&pb, &export, &["--out", s(&out)]));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o.report.json")).unwrap())
            .unwrap();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("$.triggers[0].when.fit.score.$gte compares `fit.score` with 60"),
        "{warnings}"
    );
    assert!(warnings.contains("the same share scores"), "{warnings}");
    assert!(warnings.contains("switched off"), "{warnings}");
    let new: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let kept = new["fit"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "employees")
        .unwrap();
    assert_eq!(kept, &before, "left as it was");
}

#[test]
fn a_broken_playbook_exits_1_before_the_export_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let broken = root().join("tests/fixtures/broken-playbook.json");
    let missing = dir.path().join("no-such-export.csv");
    let out = dir.path().join("o.json");
    for args in [
        fit_args(&broken, &missing, &["--out", s(&out)]),
        vec![
            "calibrate",
            "content",
            "--playbook",
            s(&broken),
            "--signals",
            s(&missing),
            "--out",
            s(&out),
        ],
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("broken-playbook.json is not a valid playbook"),
            "{err}"
        );
        assert!(!err.contains("no-such-export"), "{err}");
    }
}

#[test]
fn generate_refuses_a_size_past_its_bound_and_escapes_what_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.csv");
    let err = fails(&[
        "calibrate",
        "generate",
        "--rows",
        "18446744073709551615",
        "--out",
        s(&out),
    ]);
    assert!(err.contains("--rows must be 10 to 200000"), "{err}");
    assert!(!out.exists());
    // An outcome or a column name with an escape sequence is shown escaped.
    let export = dir.path().join("esc.csv");
    std::fs::write(
        &export,
        "id,note\u{1b}]0;x\u{7}.x,outcome\na,1,won\nb,1,\u{1b}[2Jlost\n",
    )
    .unwrap();
    let pb = playbook();
    let err = fails(&fit_args(&pb, &export, &["--out", s(&out)]));
    assert!(err.contains(r"unknown outcome `\u{1b}[2Jlost`"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err}");
    // A header naming a column twice, and a number that is not one.
    std::fs::write(&export, "id,x\u{1b}[2J,x\u{1b}[2J,outcome\na,1,1,won\n").unwrap();
    let err = fails(&fit_args(&pb, &export, &["--out", s(&out)]));
    assert!(err.contains(r"names `x\u{1b}[2J` twice"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
    let crm = generate(dir.path(), 7, 300);
    let text = std::fs::read_to_string(&crm).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "company.employees")
        .unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[col] = "\u{1b}[2Jabc\u{7}".into();
    lines[1] = cells.join(",");
    std::fs::write(&crm, lines.join("\n") + "\n").unwrap();
    let o = run(&fit_args(
        &pb,
        &crm,
        &["--out", s(&dir.path().join("n.json"))],
    ));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains(r"such as `\u{1b}[2Jabc\u{7}`"), "{all}");
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all}");
}

/// Exports as spreadsheets write them: a capitalised header is named with
/// its lower-case form, and a file that is not UTF-8 says where and how to
/// save it.
#[test]
fn capitalised_headers_and_latin1_exports_say_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.json");
    let pb = playbook();
    let export = dir.path().join("caps.csv");
    std::fs::write(&export, "id,company.industry,Outcome\na,software,won\n").unwrap();
    let err = fails(&fit_args(&pb, &export, &["--out", s(&out)]));
    assert!(err.contains("there is `Outcome`"), "{err}");
    assert!(err.contains("rename it `outcome`"), "{err}");
    let crm = generate(dir.path(), 7, 300);
    let text = std::fs::read_to_string(&crm).unwrap();
    std::fs::write(
        &crm,
        text.replacen("company.industry", "Company.Industry", 1)
            .replacen(",closed_at", ",Notes", 1),
    )
    .unwrap();
    let o = run(&fit_args(&pb, &crm, &["--out", s(&out)]));
    let all = String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    assert!(
        all.contains("column `Company.Industry` is ignored: column names are read as written, in lower case (did you mean `company.industry`?)"),
        "{all}"
    );
    // A column no name of which is read gets no such suggestion.
    assert!(
        all.contains("column `Notes` is ignored: attributes are"),
        "{all}"
    );
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(
        &latin1,
        b"id,company.country,outcome\na,US,won\nb,Espa\xf1a,lost\n",
    )
    .unwrap();
    let out = dir.path().join("o2.json");
    let err = fails(&fit_args(&pb, &latin1, &["--out", s(&out)]));
    assert!(
        err.contains("not UTF-8 text: line 3, column 7 holds the byte 0xf1"),
        "{err}"
    );
    assert!(err.contains("CSV UTF-8"), "{err}");
}

#[test]
fn a_bad_l2_is_said_before_the_export_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such.csv");
    let out = dir.path().join("o.json");
    let pb = playbook();
    let err = fails(&fit_args(&pb, &missing, &["--out", s(&out), "--l2", "0"]));
    assert!(
        err.contains("--l2 must be a positive number (given 0)"),
        "{err}"
    );
}

/// An export saved as one JSON document (an array of rows) reads as its
/// JSONL, one row per object, and a bad row names its line.
#[test]
fn a_json_array_export_reads_as_its_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook();
    let jsonl = dir.path().join("rows.jsonl");
    let crm = generate(dir.path(), 7, 300);
    let csv = std::fs::read_to_string(&crm).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Value> = lines
        .map(|l| {
            let mut m = serde_json::Map::new();
            for (h, c) in header.iter().zip(l.split(',')) {
                if !c.is_empty() {
                    m.insert((*h).to_string(), json!(c));
                }
            }
            Value::Object(m)
        })
        .collect();
    let text: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(&jsonl, text.join("\n")).unwrap();
    let array = dir.path().join("rows.json");
    std::fs::write(&array, serde_json::to_string_pretty(&rows).unwrap()).unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    ok(&fit_args(&pb, &jsonl, &["--out", s(&a)]));
    ok(&fit_args(&pb, &array, &["--out", s(&b)]));
    assert_eq!(
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap()
    );
    std::fs::write(
        &array,
        "[\n  {\"id\": \"a\", \"outcome\": \"won\"},\n  3\n]",
    )
    .unwrap();
    let err = fails(&fit_args(
        &pb,
        &array,
        &["--out", s(&dir.path().join("c.json"))],
    ));
    assert!(
        err.contains("line 3: expected a JSON object for each row"),
        "{err}"
    );
}

#[test]
fn generate_writes_both_files_or_neither() {
    // A truth file that cannot be written (a directory of its name) used to
    // leave the export replaced by the new rows.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    std::fs::write(&out, "old\n").unwrap();
    std::fs::create_dir(dir.path().join("x.truth.json")).unwrap();
    let err = fails(&[
        "calibrate",
        "generate",
        "--rows",
        "20",
        "--out",
        s(&out),
        "--force",
    ]);
    assert!(err.contains("x.truth.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
}

#[test]
fn fit_refuses_a_split_with_nothing_held_out_or_nothing_to_learn_from() {
    // Every row of one account stays on one side: one account's rows leave
    // a side empty, and nothing was measured (or learnt) though it wrote a
    // revision with every held-out figure n/a.
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), 7, 300);
    let text = std::fs::read_to_string(&export).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let domain = header
        .split(',')
        .position(|c| c == "company.domain")
        .unwrap();
    let mut one = format!("{header}\n");
    for line in lines {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[domain] = "acme.com";
        one.push_str(&cells.join(","));
        one.push('\n');
    }
    let one_account = dir.path().join("one.csv");
    std::fs::write(&one_account, one).unwrap();
    let out = dir.path().join("r2.json");
    let playbook = playbook();
    for (holdout, side) in [("0.3", "held out"), ("0.5", "left to learn from")] {
        let args = fit_args(
            &playbook,
            &one_account,
            &["--out", s(&out), "--holdout", holdout],
        );
        let err = fails(&args);
        assert!(err.contains("are 1 account,"), "{err}");
        assert!(
            err.contains(&format!("the rows {side} hold 0 successes")),
            "{err}"
        );
        assert!(!out.exists());
    }
}
