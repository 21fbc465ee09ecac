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
pub mod progress;
pub mod report;
pub mod score_refs;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The options of the subcommands that write a new playbook revision
/// (`fit`, `content`): the playbook read, what is written and where.
#[derive(clap::Args, Debug, Clone)]
pub struct RevisionArgs {
    /// The current playbook JSON.
    #[arg(long)]
    pub playbook: PathBuf,
    /// The new revision (default: `<playbook>.r<N+1>.json` next to it). Never overwritten without --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The report (default: `<out>` with `.report.md` for fit, `.content.json` for content): a `.md` path gets the Markdown report and the JSON one next to it with `.json`, a `.json` path the other way round (any other name: the command's default format there, the other one with its extension).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
}

/// The playbook as read: its text (kept for a minimal edit), the document
/// and its revision.
pub struct Current {
    pub text: String,
    pub doc: Value,
    pub revision: u64,
}

impl Current {
    /// The revision number the calibrated playbook gets.
    pub fn next_revision(&self) -> Result<u64> {
        // A playbook's revision is at most u32::MAX (what `check` accepts).
        self.revision
            .checked_add(1)
            .filter(|&n| n <= u64::from(u32::MAX))
            .ok_or_else(|| {
                anyhow!(
                    "the playbook's revision {} cannot be raised: it is the highest a playbook can have ({})",
                    self.revision,
                    u32::MAX
                )
            })
    }
}

impl RevisionArgs {
    /// Reads `--playbook` as JSON, first checked as the engine compiles it:
    /// a broken playbook is reported in full (exit 1, as in every command)
    /// before any export or store is read.
    pub fn read(&self) -> Result<Current> {
        let path = &self.playbook;
        let checked = crate::input::read_playbook(path)?
            .and_then(|text| buyerpath::Engine::from_json(&text).map(|_| text));
        let text = match checked {
            Ok(text) => text,
            Err(e) => {
                return Err(crate::input::Problems(format!(
                    "{} is not a valid playbook:\n{}",
                    path.display(),
                    crate::input::render(&e)
                ))
                .into())
            }
        };
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let revision = doc.get("revision").and_then(Value::as_u64).unwrap_or(0);
        Ok(Current {
            text,
            doc,
            revision,
        })
    }

    /// Where revision `next` goes: `--out`, else `<playbook>.r<next>.json`
    /// next to the playbook.
    pub fn out_path(&self, next: u64) -> PathBuf {
        match &self.out {
            Some(p) => p.clone(),
            None => default_out(&self.playbook, next),
        }
    }

    /// The report's two files, (Markdown, JSON): `--report`, else `out`
    /// with `extension`, holds the format its extension names (`.md`,
    /// `.json`; any other: `extension`'s), and the other format goes next
    /// to it with its own extension, so that neither replaces the other.
    pub fn report_paths(&self, out: &Path, extension: &str) -> (PathBuf, PathBuf) {
        let given = self
            .report
            .clone()
            .unwrap_or_else(|| out.with_extension(extension));
        let is = |p: &Path, e: &str| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        };
        let json = is(&given, "json") || (!is(&given, "md") && extension.ends_with("json"));
        if json {
            (given.with_extension("md"), given)
        } else {
            let other = given.with_extension("json");
            (given, other)
        }
    }

    /// Refuses outputs (`flag`, path) that are the same file as each other
    /// or as an input (`what`, path): one would replace the other.
    pub fn refuse_collisions(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<()> {
        for (i, (flag, out)) in outputs.iter().enumerate() {
            crate::input::refuse_input_as_output(out, flag, inputs)?;
            for (other, path) in outputs.iter().skip(i + 1) {
                if crate::input::same_file(out, path) {
                    bail!(
                        "{flag} and {other} are the same file {}: give them different paths",
                        out.display()
                    );
                }
            }
        }
        Ok(())
    }
}

/// `<playbook>.r<revision>.json` next to the playbook.
fn default_out(playbook: &Path, revision: u64) -> PathBuf {
    let stem = playbook
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("playbook");
    // `playbook.r2.json` → `playbook.r3.json`, not `playbook.r2.r3.json`.
    let base = match stem.rsplit_once(".r") {
        Some((b, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => b,
        _ => stem,
    };
    playbook.with_file_name(format!("{base}.r{revision}.json"))
}

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
        /// Rows to write (10 to 200,000).
        #[arg(long, default_value_t = 5000)]
        rows: usize,
        /// Target share of successes among closed rows.
        #[arg(long, default_value_t = 0.18)]
        win_rate: f64,
        /// CSV file to write (the truth goes to `<name>.truth.json`); a `.jsonl`, `.ndjson` or `.json` name is refused, as `fit` would read it as JSON.
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
            // Past this the rows (all held in memory, ~3.5 KB each) would
            // take gigabytes: a typo, not an export to try `fit` on.
            const MAX_ROWS: usize = 200_000;
            if !(10..=MAX_ROWS).contains(&rows) {
                bail!("--rows must be 10 to {MAX_ROWS} (given {rows})");
            }
            if let Some(ext) = crm::json_extension(&out) {
                bail!(
                    "{}: the export is written as CSV, and `fit` reads a `.{ext}` file as JSON: give a `.csv` name",
                    out.display()
                );
            }
            refuse_overwrite(&out, force)?;
            refuse_overwrite(&generate::truth_path(&out), force)?;
            generate::run(seed, rows, &out, win_rate)?;
            outln!(
                "wrote {} ({rows} rows, seed {seed}) and {}",
                out.display(),
                generate::truth_path(&out).display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes every file or none: each goes to a new temporary file beside its
/// target first (never through a file or link already there), and only once
/// all are written are they renamed into place, the first one (the new
/// playbook) last: a report path that cannot be written leaves no new
/// playbook behind for the corrected run to refuse to overwrite.
pub fn write_all(files: &[(&Path, &[u8])]) -> Result<()> {
    use std::io::Write as _;
    for (path, _) in files {
        if path.is_dir() {
            bail!("cannot write {}: it is a directory", path.display());
        }
    }
    let temp = |p: &Path| {
        let mut name = p.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}.tmp", std::process::id()));
        p.with_file_name(name)
    };
    let write = |t: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(t)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    let mut written = Vec::new();
    let mut result = Ok(());
    for (path, bytes) in files {
        let t = temp(path);
        if let Err(e) = write(&t, bytes) {
            // A temporary file of ours that was begun goes too.
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                let _ = std::fs::remove_file(&t);
            }
            result = Err(anyhow::Error::new(e).context(format!("cannot write {}", path.display())));
            break;
        }
        written.push((t, *path));
    }
    if result.is_ok() {
        for (t, path) in written.iter().rev() {
            if let Err(e) = std::fs::rename(t, path) {
                result =
                    Err(anyhow::Error::new(e).context(format!("cannot write {}", path.display())));
                break;
            }
        }
    }
    // A failure leaves no temporary file (renamed ones are gone already).
    for (t, _) in &written {
        let _ = std::fs::remove_file(t);
    }
    result
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_revision_replaces_the_number() {
        let at = |p: &str, n| default_out(Path::new(p), n);
        assert_eq!(at("x/playbook.json", 2), Path::new("x/playbook.r2.json"));
        assert_eq!(at("x/playbook.r2.json", 3), Path::new("x/playbook.r3.json"));
        assert_eq!(at("x/pb.rx.json", 2), Path::new("x/pb.rx.r2.json"));
        let max = Current {
            text: String::new(),
            doc: Value::Null,
            revision: u64::MAX,
        };
        assert!(max.next_revision().is_err());
    }
}
