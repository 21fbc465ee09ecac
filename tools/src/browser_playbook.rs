//! `buyerpath browser-playbook`: a playbook that is safe to ship to every
//! visitor — clear lists hashed with a salt, unreferenced lists dropped, and
//! optionally no fit criteria (the browser then takes the fit from the state
//! the edge signed). See `buyerpath::playbook::browser_safe`.

use crate::input::{read_playbook, refuse_input_as_output, render, Problems};
use anyhow::Result;
use buyerpath::playbook::browser_safe::{browser_safe_report, Options};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `buyerpath browser-playbook`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The full playbook (JSON).
    pub playbook: PathBuf,
    /// Output file (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Salt for the lists hashed here (default `<playbook id>:<revision>:`).
    #[arg(long)]
    pub salt: Option<String>,
    /// Remove the fit criteria (keep the tiers): the browser takes the fit from the edge's signed state.
    #[arg(long)]
    pub strip_fit: bool,
    /// Indent the output (default: compact, as shipped to browsers).
    #[arg(long)]
    pub pretty: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(out) = &args.output {
        refuse_input_as_output(out, "--output", &[("the playbook", &args.playbook)])?;
    }
    let value = read_playbook(&args.playbook)?
        .and_then(|text| buyerpath::playbook::parse_json(&text))
        .map_err(|e| {
            Problems(format!(
                "{} is not valid JSON:\n{}",
                args.playbook.display(),
                render(&e)
            ))
        })?;
    let options = Options {
        salt: args.salt.clone(),
        strip_fit: args.strip_fit,
    };
    let (safe, report) = match browser_safe_report(&value, &options) {
        Ok(r) => r,
        Err(e) => {
            elogln!(
                "{}: cannot derive a browser-safe playbook:\n{}",
                args.playbook.display(),
                render(&e)
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut json = if args.pretty {
        serde_json::to_string_pretty(&safe)?
    } else {
        serde_json::to_string(&safe)?
    };
    json.push('\n');
    match &args.output {
        Some(path) => crate::staged::write(path, json.as_bytes())?,
        None => out!("{json}"),
    }
    // The summary goes to stderr so that stdout stays the playbook.
    let hashed: Vec<String> = report
        .hashed
        .iter()
        .map(|(name, n)| format!("{name} ({n})"))
        .collect();
    elogln!(
        "browser-safe playbook{}: hashed {} with salt {:?}; kept hashed: {}; dropped unreferenced: {}; fit criteria removed: {}; {} bytes",
        args.output
            .as_ref()
            .map(|p| format!(" → {}", p.display()))
            .unwrap_or_default(),
        if hashed.is_empty() { "no list".to_string() } else { hashed.join(", ") },
        report.salt,
        if report.kept.is_empty() { "none".to_string() } else { report.kept.join(", ") },
        if report.dropped.is_empty() { "none".to_string() } else { report.dropped.join(", ") },
        report.criteria_removed,
        json.len()
    );
    Ok(ExitCode::SUCCESS)
}
