//! The `buyerpath` command line, run as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh directory of this test run under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `buyerpath score` of the example playbook and these journey files.
fn score(files: &[&Path]) -> std::process::Output {
    let mut args = vec!["score", "examples/acme/playbook.json"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    bp(&args)
}

/// Asserts that a run succeeded, showing what it said if not.
fn succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The example playbook as a JSON value, to change before writing it out.
fn example_playbook() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(root().join("examples/acme/playbook.json")).unwrap())
        .unwrap()
}

/// Runs the CLI, reads the first 16 bytes of its stdout (`stdout`) or of its
/// stderr, then closes that pipe (`| head -c 16`) and waits for it.
fn read_a_little_then_close(args: &[&str], stdout: bool) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(root())
        .args(args)
        .stdout(if stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    let read = if stdout {
        child.stdout.take().unwrap().read_exact(&mut first)
    } else {
        child.stderr.take().unwrap().read_exact(&mut first)
    };
    read.unwrap();
    // The pipe's reader is gone now.
    child.wait_with_output().unwrap()
}

fn bp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// [`bp`] with its standard output sent to `stdout` (`> file`, `>> file`).
fn bp_to(args: &[&str], stdout: std::fs::File) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(root())
        .args(args)
        .stdout(stdout)
        .output()
        .unwrap()
}

#[test]
fn check_accepts_the_example() {
    let out = bp(&["check", "examples/acme/playbook.json"]);
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn check_warns_of_a_misspelt_company_key_and_still_passes() {
    let clean = bp(&["check", "examples/acme/playbook.json"]);
    let err = String::from_utf8_lossy(&clean.stderr);
    assert!(!err.contains("warning"), "{err}");
    let dir = scratch("bp-check-warn");
    let file = dir.join("countri.json");
    let text = std::fs::read_to_string(root().join("examples/acme/playbook.json")).unwrap();
    assert!(text.contains("\"company.country\""));
    std::fs::write(
        &file,
        text.replacen("\"company.country\"", "\"company.countri\"", 1),
    )
    .unwrap();
    let out = bp(&["check", file.to_str().unwrap()]);
    succeeded(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: $.gates[0].require.company.countri"),
        "{err}"
    );
    assert!(err.contains("did you mean `company.country`?"), "{err}");
    let lines = check_json(&file);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["code"], "likely_misspelt_attribute");
    assert_eq!(lines[0]["severity"], "warning");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `check --json` of a valid playbook: its warning lines.
fn check_json(file: &Path) -> Vec<serde_json::Value> {
    let json = bp(&["check", "--json", file.to_str().unwrap()]);
    succeeded(&json);
    String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn check_reports_five_problems_in_one_run() {
    let out = bp(&["check", "tests/fixtures/broken-playbook.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("5 problems"), "{err}");
    for needle in [
        "$.content[3].stages[0]",
        "did you mean `supplier_selection`?",
        "$.fit.criteria[2].weight",
        "$.gates[0].require.company.country.$inn",
        "$.engagement.rules[1].points",
        "$.slots[0].count",
    ] {
        assert!(err.contains(needle), "missing {needle} in:\n{err}");
    }
    let json = bp(&["check", "--json", "tests/fixtures/broken-playbook.json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|l| l["code"].is_string()
        && l["path"].is_string()
        && l["message"].is_string()
        && l["severity"] == "error"));
}

#[test]
fn schema_file_is_current() {
    let out = bp(&["schema"]);
    assert!(out.status.success());
    let on_disk = std::fs::read_to_string(root().join("schema/playbook.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        on_disk,
        "run `cargo run -p buyerpath-cli -- schema -o schema/playbook.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
    assert!(schema["properties"]["content"].is_object());
}

#[test]
fn score_streams_jsonl_decisions() {
    let dir = root().join("examples/journeys");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    // Also as one JSONL file, the batch format.
    let jsonl = std::env::temp_dir().join(format!("bp-journeys-{}.jsonl", std::process::id()));
    let mut text = String::new();
    for f in &files {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        text.push_str(&v.to_string());
        text.push('\n');
    }
    text.push_str("{\"id\":\"broken\"}\n");
    std::fs::write(&jsonl, text).unwrap();
    let out = score(&[&jsonl]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one broken journey fails the run"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing_field"), "{err}");
    assert!(
        err.contains(&format!("scored {} journeys", files.len())) && err.contains("; 1 skipped"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 2 * files.len(), "{} decisions", lines.len());
    assert!(lines.iter().all(|l| l["result"]["fit"]["tier"].is_string()));
    // Same output as the .json files given directly.
    let mut args = vec!["score", "examples/acme/playbook.json"];
    args.extend(files.iter().map(String::as_str));
    let direct = bp(&args);
    assert!(direct.status.success());
    assert_eq!(String::from_utf8_lossy(&direct.stdout), stdout);
    std::fs::remove_file(jsonl).ok();
}

#[test]
fn explain_and_demo_read_like_reports() {
    let out = bp(&[
        "explain",
        "examples/acme/playbook.json",
        "examples/journeys/01-tier-a-evaluator.json",
        "--step",
        "1",
    ]);
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Fit:",
        "tier",
        "Stage:",
        "Role:",
        "Lifecycle:",
        "Slot hero",
        "because",
        "Next-best action:",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    let demo = bp(&["demo"]);
    assert!(demo.status.success());
    assert!(
        String::from_utf8_lossy(&demo.stdout)
            .matches("════")
            .count()
            >= 24
    );
}

#[test]
fn bad_input_files_give_clear_errors() {
    let out = bp(&["check", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn browser_playbook_hides_lists_and_can_strip_fit() {
    let out_path = std::env::temp_dir().join(format!("bp-browser-{}.json", std::process::id()));
    let out = bp(&[
        "browser-playbook",
        "examples/acme/playbook.json",
        "-o",
        out_path.to_str().unwrap(),
        "--salt",
        "test-salt",
    ]);
    succeeded(&out);
    let text = std::fs::read_to_string(&out_path).unwrap();
    let full: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/acme/playbook.json")).unwrap(),
    )
    .unwrap();
    // No clear-text member of any list survives.
    for (_, list) in full["lists"].as_object().unwrap() {
        if list.get("salt").is_none() {
            for v in list["values"].as_array().unwrap() {
                assert!(
                    !text.contains(&format!("\"{}\"", v.as_str().unwrap())),
                    "{v} is in clear text"
                );
            }
        }
    }
    assert!(
        bp(&["check", out_path.to_str().unwrap()]).status.success(),
        "the browser playbook is valid"
    );
    let stripped = bp(&[
        "browser-playbook",
        "examples/acme/playbook.json",
        "-o",
        out_path.to_str().unwrap(),
        "--strip-fit",
    ]);
    assert!(stripped.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(v["fit"]["criteria"].as_array().unwrap().len(), 0);
    assert!(bp(&["check", out_path.to_str().unwrap()]).status.success());
    std::fs::remove_file(out_path).ok();
}

/// `compile` writes an engine file that loads as the playbook's engine; a
/// broken playbook gets every problem and no file.
#[test]
fn compile_writes_an_engine_file_or_nothing() {
    let dir = scratch("bp-compile");
    let file = dir.join("example.bpe");
    let out = bp(&[
        "compile",
        "examples/acme/playbook.json",
        "-o",
        file.to_str().unwrap(),
    ]);
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("engine file"));
    let engine = buyerpath::Engine::from_bytes(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(engine.playbook_id(), "lumora-b2b");
    assert_eq!(engine.slot_ids(), ["hero", "reading", "cta", "sidebar"]);

    let broken = dir.join("broken.bpe");
    let out = bp(&[
        "compile",
        "tests/fixtures/broken-playbook.json",
        "-o",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("5 problems, nothing written"), "{err}");
    assert!(err.contains("did you mean `supplier_selection`?"), "{err}");
    assert!(!broken.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_refuses_to_write_over_its_playbook() {
    let dir = scratch("bp-compile-self");
    let playbook = dir.join("pb.json");
    let text = std::fs::read(root().join("examples/acme/playbook.json")).unwrap();
    std::fs::write(&playbook, &text).unwrap();
    // The same file, named directly and by another path.
    let other = dir
        .join("..")
        .join(dir.file_name().unwrap())
        .join("pb.json");
    // And a hard link: another name, the same file.
    let link = dir.join("link.json");
    std::fs::hard_link(&playbook, &link).unwrap();
    for out_path in [&playbook, &other, &link] {
        let out = bp(&[
            "compile",
            playbook.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is the playbook itself"), "{err}");
        assert_eq!(
            std::fs::read(&playbook).unwrap(),
            text,
            "the playbook is kept"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn score_skips_a_journey_file_that_is_not_json_and_scores_the_rest() {
    let dir = scratch("bp-score-trunc");
    let good = root().join("examples/journeys/01-tier-a-evaluator.json");
    let text = std::fs::read_to_string(&good).unwrap();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let out = score(&[&cut, &good, &empty]);
    assert_eq!(out.status.code(), Some(1), "a journey failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.json: skipped") && err.contains("[invalid_json]"),
        "{err}"
    );
    assert!(err.contains("empty.json: skipped"), "{err}");
    assert!(
        err.contains("scored 1 journey, ") && err.contains("; 2 skipped"),
        "{err}"
    );
    let decisions = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(decisions > 0, "the good journey was scored");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_refuses_a_step_the_journey_does_not_have() {
    let j = "examples/journeys/01-tier-a-evaluator.json";
    let all = bp(&["explain", "examples/acme/playbook.json", j]);
    assert!(all.status.success());
    let n = String::from_utf8_lossy(&all.stdout)
        .matches("· decision ")
        .count();
    assert!(n >= 2, "{n}");
    for bad in ["0".to_string(), (n + 1).to_string()] {
        let out = bp(&["explain", "examples/acme/playbook.json", j, "--step", &bad]);
        assert_eq!(out.status.code(), Some(2), "--step {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("makes {n} decisions (steps 1 to {n})")),
            "{err}"
        );
    }
    let last = bp(&[
        "explain",
        "examples/acme/playbook.json",
        j,
        "--step",
        &n.to_string(),
    ]);
    assert!(last.status.success());
    assert_eq!(
        String::from_utf8_lossy(&last.stdout)
            .matches("· decision ")
            .count(),
        1
    );
}

/// Output cut short by the reader (`| head`) ends the command quietly, and
/// a full disk is an error: neither is a panic.
#[test]
fn a_closed_or_full_stdout_is_not_a_panic() {
    let many: Vec<String> = (0..5_000).map(|i| format!("d{i}.example")).collect();
    let mut hash_list = vec!["hash-list", "--salt", "s"];
    hash_list.extend(many.iter().map(String::as_str));
    // Outputs well past a pipe's 64 KiB, so the writes must meet the closed pipe.
    let commands: [&[&str]; 2] = [
        &[
            "browser-playbook",
            "examples/acme/playbook.json",
            "--pretty",
        ],
        &hash_list,
    ];
    for args in commands {
        let out = read_a_little_then_close(args, true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "quietly: {err}");
        if std::path::Path::new("/dev/full").exists() {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let out = bp_to(args, full);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("No space left") && !err.contains("panicked"),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn hash_list_refuses_nothing_and_empty_members() {
    let none = bp(&["hash-list", "--salt", "s"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nothing to hash"));
    let empty = bp(&["hash-list", "--salt", "s", "a.com", "..."]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("value 2"));
    assert!(
        empty.stdout.is_empty(),
        "nothing hashed when one value is bad"
    );
}

#[test]
fn a_playbook_with_a_byte_order_mark_is_read() {
    let dir = scratch("bp-bom");
    let file = dir.join("bom.json");
    let mut bytes = vec![0xef, 0xbb, 0xbf];
    bytes.extend(std::fs::read(root().join("examples/acme/playbook.json")).unwrap());
    std::fs::write(&file, bytes).unwrap();
    let out = bp(&["check", file.to_str().unwrap()]);
    succeeded(&out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn score_skips_a_json_file_that_is_not_utf8_and_reads_a_stream_with_a_bom() {
    let dir = scratch("bp-score-bytes");
    let good = root().join("examples/journeys/01-tier-a-evaluator.json");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, b"\xff\xfe{").unwrap();
    let out = score(&[&bad, &good]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json: skipped: not UTF-8 text: line 1, column 1 holds the byte 0xff"),
        "{err}"
    );
    assert!(!out.stdout.is_empty(), "the good journey was scored");
    // A JSON Lines file whose first line starts with a byte order mark.
    let one: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    let line = one.to_string();
    let jsonl = dir.join("bom.jsonl");
    std::fs::write(&jsonl, format!("\u{feff}{line}\n{line}\n")).unwrap();
    let out = score(&[&jsonl]);
    succeeded(&out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_says_a_journey_without_decisions_has_nothing_to_explain() {
    let dir = scratch("bp-explain-none");
    let mut j: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("examples/journeys/01-tier-a-evaluator.json")).unwrap(),
    )
    .unwrap();
    j["steps"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s.get("decide").is_none());
    let file = dir.join("none.json");
    std::fs::write(&file, j.to_string()).unwrap();
    let out = bp(&[
        "explain",
        "examples/acme/playbook.json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "an input problem");
    assert!(String::from_utf8_lossy(&out.stderr).contains("makes no decision"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn control_characters_in_a_broken_playbook_are_shown_escaped() {
    let dir = scratch("bp-control");
    let mut p: serde_json::Value = example_playbook();
    p["content"][0]["id"] = serde_json::json!("bad\u{0}id\u{1b}[31m");
    let file = dir.join("pb.json");
    std::fs::write(&file, p.to_string()).unwrap();
    let out = bp(&["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r"bad\u{0}id\u{1b}[31m"), "{err}");
    assert!(!err.contains('\u{0}') && !err.contains('\u{1b}'), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One example journey as a JSON line.
fn journey_line() -> String {
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("examples/journeys/01-tier-a-evaluator.json")).unwrap(),
    )
    .unwrap();
    v.to_string()
}

#[test]
fn score_never_writes_over_an_input_nor_before_reading_them() {
    let dir = scratch("bp-score-clobber");
    let line = journey_line();
    let jsonl = dir.join("j.jsonl");
    std::fs::write(&jsonl, format!("{line}\n")).unwrap();
    let pb = dir.join("pb.json");
    std::fs::copy(root().join("examples/acme/playbook.json"), &pb).unwrap();
    let link = dir.join("pb-link.json");
    std::fs::hard_link(&pb, &link).unwrap();
    let before = |p: &Path| std::fs::read(p).unwrap();
    let (j0, pb0) = (before(&jsonl), before(&pb));
    // The output is a journey file, or the playbook by another name.
    for out_path in [&jsonl, &link] {
        let out = bp(&[
            "score",
            pb.to_str().unwrap(),
            jsonl.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("itself"), "{err}");
        assert_eq!(before(&jsonl), j0);
        assert_eq!(before(&pb), pb0);
    }
    // A missing input: the existing output is left as it was.
    let keep = dir.join("keep.jsonl");
    std::fs::write(&keep, "kept\n").unwrap();
    let missing = dir.join("missing.jsonl");
    let out = bp(&[
        "score",
        pb.to_str().unwrap(),
        jsonl.to_str().unwrap(),
        missing.to_str().unwrap(),
        "-o",
        keep.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "kept\n");
    // Standard input read from the output file: `-o j.jsonl < j.jsonl`.
    #[cfg(unix)]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
            .args([
                "score",
                pb.to_str().unwrap(),
                "-",
                "-o",
                jsonl.to_str().unwrap(),
            ])
            .stdin(std::fs::File::open(&jsonl).unwrap())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("standard input itself"));
        assert_eq!(before(&jsonl), j0);
        // Standard input that is not a file replaces nothing: /dev/null in and out.
        let out = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
            .args(["score", pb.to_str().unwrap(), "-", "-o", "/dev/null"])
            .stdin(std::fs::File::open("/dev/null").unwrap())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Many journey files are each opened in turn, not all at once: 300 of
    // them under a limit of 64 open files.
    #[cfg(unix)]
    {
        let many: Vec<String> = (0..300)
            .map(|i| {
                let p = dir.join(format!("m{i}.jsonl"));
                std::fs::write(&p, format!("{line}\n")).unwrap();
                p.to_str().unwrap().to_string()
            })
            .collect();
        let out_path = dir.join("many-out.jsonl");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -n 64 && exec \"$0\" score \"$@\" -o '{}'",
                out_path.display()
            ))
            .arg(env!("CARGO_BIN_EXE_buyerpath"))
            .arg(&pb)
            .args(&many);
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A named pipe is read once, in its turn (checking it by opening it
    // first lost what its writer sent, and the run hung).
    #[cfg(unix)]
    {
        let fifo = dir.join("journeys.fifo");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let writer = {
            let (fifo, line) = (fifo.clone(), line.clone());
            std::thread::spawn(move || std::fs::write(&fifo, format!("{line}\n{line}\n")).unwrap())
        };
        let out_path = dir.join("fifo-out.jsonl");
        let out = bp(&[
            "score",
            pb.to_str().unwrap(),
            fifo.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ]);
        writer.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("scored 2 journeys"));
        // Written in place at the end: no temporary file is left beside it.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A reader of stderr that goes away (`2>&1 | head -1`) ends the command
/// quietly with 141, as one of stdout does: not a panic (an abort, 134).
#[test]
fn a_closed_stderr_is_not_a_panic() {
    let dir = scratch("bp-stderr");
    let mut p: serde_json::Value = example_playbook();
    let item = p["content"][0].clone();
    for i in 0..3000 {
        let mut c = item.clone();
        c["id"] = serde_json::json!(format!("x{i}"));
        c["stages"] = serde_json::json!(["nope"]);
        p["content"].as_array_mut().unwrap().push(c);
    }
    let broken = dir.join("broken.json");
    std::fs::write(&broken, p.to_string()).unwrap();
    let bad_lines = dir.join("bad.jsonl");
    std::fs::write(&bad_lines, "[]\n".repeat(20_000)).unwrap();
    let (broken, bad_lines) = (broken.to_str().unwrap(), bad_lines.to_str().unwrap());
    let commands: [&[&str]; 3] = [
        &["check", broken],
        &["score", broken, bad_lines],
        &["score", "examples/acme/playbook.json", bad_lines],
    ];
    for args in commands {
        let out = read_a_little_then_close(args, false);
        assert_eq!(out.status.code(), Some(141), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn score_skips_a_line_that_is_not_utf8_and_names_a_directory() {
    let dir = scratch("bp-score-utf8-line");
    let line = journey_line();
    let mixed = dir.join("mixed.jsonl");
    let mut bytes = format!("{line}\n").into_bytes();
    bytes.extend_from_slice(b"{\"id\":\"x\xff\"}\n");
    bytes.extend_from_slice(format!("{line}\n").as_bytes());
    std::fs::write(&mixed, bytes).unwrap();
    let out = score(&[&mixed]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mixed.jsonl:2: skipped: the line is not UTF-8"),
        "{err}"
    );
    assert!(
        err.contains("scored 2 journeys") && err.contains("; 1 skipped"),
        "{err}"
    );
    let one = score(&[&root().join("examples/journeys/01-tier-a-evaluator.json")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        2 * String::from_utf8_lossy(&one.stdout).lines().count(),
        "the lines before and after were scored"
    );
    let d = dir.join("d.jsonl");
    std::fs::create_dir(&d).unwrap();
    let out = score(&[&d]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("d.jsonl is a directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hash_list_refuses_an_empty_salt() {
    let out = bp(&["hash-list", "--salt", "", "a.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--salt must not be empty"));
    assert!(out.stdout.is_empty());
}

#[test]
fn browser_playbook_refuses_to_write_over_its_playbook() {
    let dir = scratch("bp-browser-self");
    let pb = dir.join("full.json");
    std::fs::copy(root().join("examples/acme/playbook.json"), &pb).unwrap();
    let text = std::fs::read(&pb).unwrap();
    let out = bp(&[
        "browser-playbook",
        pb.to_str().unwrap(),
        "--strip-fit",
        "-o",
        pb.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is the playbook itself"), "{err}");
    assert_eq!(std::fs::read(&pb).unwrap(), text, "the playbook is kept");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn workload_refuses_a_catalogue_below_the_minimum_before_writing() {
    let dir = scratch("bp-workload-small");
    let out_dir = dir.join("wl");
    let out = bp(&[
        "workload",
        "--out",
        out_dir.to_str().unwrap(),
        "--catalogues",
        "50,17",
        "--histories",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("17") && err.contains("at least 50"), "{err}");
    assert!(!out_dir.exists(), "nothing written");
    // A size past any benchmark's (a typo) is refused, not gigabytes allocated.
    // So is a catalogue past what a playbook holds (it would not compile),
    // even after one that fits.
    for (flag, size) in [
        ("--catalogues", "18446744073709551615"),
        ("--catalogues", "5001"),
        ("--catalogues", "50,6000"),
        ("--histories", "1000000000000"),
    ] {
        let out = bp(&["workload", "--out", out_dir.to_str().unwrap(), flag, size]);
        assert_eq!(out.status.code(), Some(2), "{flag} {size}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("too many") && !err.contains("panicked"),
            "{err}"
        );
        assert!(!out_dir.exists(), "nothing written");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `compile -o /dev/stdout`: the engine file alone on stdout (the summary on
/// stderr), as `> file` would keep it.
#[test]
fn compile_to_stdout_writes_the_engine_file_alone() {
    let out = bp(&[
        "compile",
        "examples/acme/playbook.json",
        "-o",
        "/dev/stdout",
    ]);
    succeeded(&out);
    let engine = buyerpath::Engine::from_bytes(&out.stdout).unwrap();
    assert_eq!(engine.playbook_id(), "lumora-b2b");
    assert!(String::from_utf8_lossy(&out.stderr).contains("engine file"));
}

#[test]
fn check_warns_of_a_key_given_twice_and_still_passes() {
    let dir = scratch("bp-check-twice");
    let file = dir.join("twice.json");
    let text = std::fs::read_to_string(root().join("examples/acme/playbook.json")).unwrap();
    // A top-level key repeated at the front: the engine keeps the last.
    let twice = text.replacen('{', "{\"revision\": 99,", 1);
    std::fs::write(&file, &twice).unwrap();
    let out = bp(&["check", file.to_str().unwrap()]);
    succeeded(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("revision 1,"),
        "the last is kept"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: $.revision  [repeated_key]"), "{err}");
    let lines = check_json(&file);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["path"], "$.revision");
    assert_eq!(lines[0]["severity"], "warning");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_playbook_or_journey_exits_1_in_every_command() {
    let dir = scratch("bp-exit-1");
    let broken = "tests/fixtures/broken-playbook.json";
    let journey = "examples/journeys/01-tier-a-evaluator.json";
    let not_json = dir.join("not-a-journey.json");
    std::fs::write(&not_json, "{\"id\": ").unwrap();
    let nj = not_json.to_str().unwrap();
    let out_file = dir.join("out");
    let o = out_file.to_str().unwrap();
    for args in [
        vec!["check", broken],
        vec!["compile", broken, "-o", o],
        vec!["explain", broken, journey],
        vec!["explain", "examples/acme/playbook.json", nj],
        vec!["score", broken, journey],
        vec!["browser-playbook", nj, "-o", o],
    ] {
        let out = bp(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("not-a-journey.json") || err.contains("broken-playbook.json"),
            "{args:?} names the file: {err}"
        );
    }
    // A file that cannot be read is an error, not an input's problem.
    assert_eq!(
        bp(&["explain", "no/such.json", journey]).status.code(),
        Some(2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn escape_sequences_from_a_playbook_or_journey_do_not_reach_the_terminal() {
    let dir = scratch("bp-escapes");
    // Content titles (free text) with an escape sequence and a bell.
    let mut p = example_playbook();
    for item in p["content"].as_array_mut().unwrap() {
        let title = format!("{}\u{1b}[2J\u{7}", item["title"].as_str().unwrap());
        item["title"] = serde_json::json!(title);
    }
    let file = dir.join("pb.json");
    std::fs::write(&file, p.to_string()).unwrap();
    // A journey whose description does the same.
    let mut j: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("examples/journeys/01-tier-a-evaluator.json")).unwrap(),
    )
    .unwrap();
    j["description"] = serde_json::json!("evaluator\u{1b}]0;owned\u{7}");
    let jf = dir.join("j.json");
    std::fs::write(&jf, j.to_string()).unwrap();
    let out = bp(&["explain", file.to_str().unwrap(), jf.to_str().unwrap()]);
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"\u{1b}[2J\u{7}"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    assert!(text.contains('\n'), "line breaks are kept");
    // The demo prints the journeys' descriptions.
    let examples = dir.join("examples");
    std::fs::create_dir_all(examples.join("acme")).unwrap();
    std::fs::create_dir_all(examples.join("journeys")).unwrap();
    std::fs::copy(&file, examples.join("acme/playbook.json")).unwrap();
    std::fs::copy(&jf, examples.join("journeys/j.json")).unwrap();
    let out = bp(&["demo", "--examples", examples.to_str().unwrap()]);
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"evaluator\u{1b}]0;owned\u{7}"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn score_reads_a_json_file_whatever_the_case_of_its_extension() {
    let dir = scratch("bp-score-case");
    let file = dir.join("ONE.JSON");
    // Pretty-printed, as the example journeys are: not one journey per line.
    std::fs::copy(
        root().join("examples/journeys/01-tier-a-evaluator.json"),
        &file,
    )
    .unwrap();
    let out = score(&[&file]);
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() > 1, "{text}");
    assert!(text.lines().all(|l| l.starts_with("{\"journey\":\"")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_playbook_over_the_engines_limit_is_refused_without_reading_it_all() {
    // A file with no end would take every byte of memory before.
    let dir = scratch("bp-huge-playbook");
    let big = dir.join("big.json");
    let limit = buyerpath::playbook::MAX_PLAYBOOK_BYTES;
    std::fs::write(&big, " ".repeat(limit + 10)).unwrap();
    for args in [
        vec!["check", big.to_str().unwrap()],
        vec!["check", "/dev/zero"],
        vec!["compile", big.to_str().unwrap()],
    ] {
        let out = bp(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("[playbook_too_large]"), "{args:?}: {err}");
    }
    let err = String::from_utf8_lossy(&bp(&["check", big.to_str().unwrap()]).stderr).to_string();
    assert!(
        err.contains(&format!("found:    {} bytes", limit + 10)),
        "{err}"
    );
    let json = bp(&["check", "--json", "/dev/zero"]);
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(line["code"], "playbook_too_large");
    assert_eq!(line["severity"], "error");
}

#[test]
fn a_json_journey_is_reported_at_its_own_lines_and_a_huge_line_is_skipped() {
    let dir = scratch("bp-score-json-lines");
    // A pretty-printed journey with a bad step: reported by its file (not as
    // line 1 of it), the problem's path naming the step.
    let mut journey: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("examples/journeys/01-tier-a-evaluator.json")).unwrap(),
    )
    .unwrap();
    let good = serde_json::to_string(&journey).unwrap();
    journey["steps"][1] = serde_json::json!({"observe": {"type": "bogus", "ts": 1}});
    let file = dir.join("bad.json");
    std::fs::write(&file, serde_json::to_string_pretty(&journey).unwrap()).unwrap();
    let out = score(&[&file]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{}: skipped:\n", file.display())),
        "{err}"
    );
    assert!(err.contains("$.steps[1].observe.type"), "{err}");
    // A line past the limit is skipped whole; the next line is scored.
    let lines = dir.join("huge.jsonl");
    let mut text = "x".repeat(64 << 20 | 1);
    text.push('\n');
    text.push_str(&good);
    std::fs::write(&lines, text).unwrap();
    let out = score(&[&lines]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(":1: skipped: the line is over 64 MiB"),
        "{err}"
    );
    assert!(err.contains("scored 1 journey,"), "{err}");
    assert!(err.contains("; 1 skipped"), "{err}");
    assert!(!out.stdout.is_empty());
    // A `.json` journey past the limit: skipped, not read whole.
    let huge = dir.join("huge.json");
    std::fs::write(&huge, " ".repeat(64 << 20 | 1)).unwrap();
    let out = score(&[&huge]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("huge.json: skipped: over 64 MiB"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failed_write_to_stdout_says_so() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = bp_to(&["schema"], full);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
}

#[test]
fn check_warns_of_entries_that_never_take_effect() {
    let dir = scratch("bp-inert");
    let mut p = example_playbook();
    p["roles"][0]["departments"] = serde_json::json!(["it", ""]);
    p["slots"][0]["formats"] = serde_json::json!([]);
    p["content"][1]["title"] = serde_json::json!(" ");
    let file = dir.join("p.json");
    std::fs::write(&file, serde_json::to_string(&p).unwrap()).unwrap();
    let out = bp(&["check", file.to_str().unwrap()]);
    succeeded(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: $.roles[0].departments[1]  [blank_entry]\n  an empty phrase has no word in it: it matches no department"),
        "{err}"
    );
    let found: Vec<(String, String)> = check_json(&file)
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap().to_string(),
                w["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("$.roles[0].departments[1]", "blank_entry"),
            ("$.slots[0].formats", "slot_shows_default_only"),
            ("$.content[1].title", "blank_entry"),
        ]
        .map(|(p, c)| (p.to_string(), c.to_string()))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn score_refuses_to_append_its_decisions_to_a_journey_file_it_reads() {
    // `score p.json j.jsonl >> j.jsonl` read its own decisions back as
    // broken journeys.
    let dir = scratch("bp-score-append");
    let journeys = dir.join("j.jsonl");
    let one = std::fs::read(root().join("examples/journeys/01-tier-a-evaluator.json")).unwrap();
    let line = serde_json::to_string(&serde_json::from_slice::<serde_json::Value>(&one).unwrap())
        .unwrap()
        + "\n";
    std::fs::write(&journeys, &line).unwrap();
    let append = std::fs::File::options()
        .append(true)
        .open(&journeys)
        .unwrap();
    let args = [
        "score",
        "examples/acme/playbook.json",
        journeys.to_str().unwrap(),
    ];
    let out = bp_to(&args, append);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output is the journey file"), "{err}");
    assert_eq!(std::fs::read_to_string(&journeys).unwrap(), line);
    // Standard output another file: scored as ever.
    let other = std::fs::File::create(dir.join("out.jsonl")).unwrap();
    let out = bp_to(&args, other);
    succeeded(&out);
    assert!(!std::fs::read(dir.join("out.jsonl")).unwrap().is_empty());
    std::fs::remove_dir_all(&dir).ok();
}
