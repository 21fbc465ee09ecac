//! `buyerpath calibrate`: learn the playbook's fit points from CRM outcomes
//! (`fit`), content priors from the store's signals (`content`), and a
//! seeded CRM export with a known truth to prove it (`generate`).

pub mod content;
pub mod crm;
pub mod features;
pub mod fit;
pub mod generate;
pub mod logistic;
pub mod metrics;
pub mod patch;
pub mod points;
pub mod report;

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `buyerpath calibrate ...`
#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Learn fit points and tier thresholds from won/lost outcomes; write a new playbook revision and a report.
    Fit(fit::Args),
    /// Learn content priors (per content, stage and role) and the lift over the holdout from the store's signals.
    Content(content::Args),
    /// Write a seeded CRM export with a known ground truth for the example playbook.
    Generate {
        /// Seed: the same seed writes the same file.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Rows to write.
        #[arg(long, default_value_t = 5000)]
        rows: usize,
        /// Target share of successes among closed rows.
        #[arg(long, default_value_t = 0.18)]
        win_rate: f64,
        /// CSV file to write (the truth goes to `<name>.truth.json`).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

/// Runs a calibrate subcommand.
pub fn run(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Fit(args) => fit::run(&args),
        Cmd::Content(args) => content::run(&args),
        Cmd::Generate {
            seed,
            rows,
            win_rate,
            out,
            force,
        } => {
            if !(0.01..=0.9).contains(&win_rate) {
                bail!("--win-rate must be between 0.01 and 0.9");
            }
            if rows < 10 {
                bail!("--rows must be at least 10");
            }
            refuse_overwrite(&out, force)?;
            refuse_overwrite(&generate::truth_path(&out), force)?;
            generate::run(seed, rows, &out, win_rate)?;
            println!(
                "wrote {} ({rows} rows, seed {seed}) and {}",
                out.display(),
                generate::truth_path(&out).display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Never overwrite silently.
pub fn refuse_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists: choose another --out, or pass --force to replace it",
            path.display()
        );
    }
    Ok(())
}
