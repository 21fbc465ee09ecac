//! `buyerpath explain` and `buyerpath demo`: decisions as readable reports.

use crate::input::{
    engine, example_journeys, examples_dir, journey, replay_failed, visible, visible_lines,
};
use anyhow::Result;
use buyerpath::explain::explain;
use buyerpath::journey::replay;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(playbook: &Path, journey_path: &Path, step: Option<usize>) -> Result<ExitCode> {
    let e = engine(playbook)?;
    let j = journey(journey_path)?;
    let decisions = replay(&e, &j).map_err(|err| replay_failed(journey_path, &j.id, &err))?;
    let n = decisions.len();
    if n == 0 {
        elogln!(
            "{}: journey `{}` makes no decision (no decide step): nothing to explain",
            journey_path.display(),
            visible(&j.id)
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(s) = step {
        anyhow::ensure!(
            (1..=n).contains(&s),
            "--step {s}: journey `{}` makes {n} decision{} (steps 1 to {n})",
            visible(&j.id),
            if n == 1 { "" } else { "s" }
        );
    }
    for (i, d) in decisions.iter().enumerate() {
        if step.map(|s| s == i + 1).unwrap_or(true) {
            outln!("{}", visible_lines(&explain(d)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn demo(examples: Option<PathBuf>) -> Result<ExitCode> {
    let dir = examples.unwrap_or_else(examples_dir);
    let e = engine(&dir.join("acme").join("playbook.json"))?;
    let journeys = example_journeys(&dir.join("journeys"))?;
    outln!(
        "buyerpath demo: {} journeys against playbook `{}` r{}\n",
        journeys.len(),
        e.playbook_id(),
        e.revision()
    );
    for (file, j) in &journeys {
        let decisions = replay(&e, j).map_err(|err| replay_failed(file, &j.id, &err))?;
        outln!("════ {} ════", visible(&j.id));
        outln!("{}\n", visible_lines(&j.description));
        outln!("Expected: {}\n", visible_lines(&j.expect));
        if let Some(last) = decisions.last() {
            outln!("{}", visible_lines(&explain(last)));
        }
    }
    Ok(ExitCode::SUCCESS)
}
