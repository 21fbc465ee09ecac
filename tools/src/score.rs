//! `buyerpath score`: journeys in, decisions out as JSONL, streaming (one
//! journey in memory at a time) with a progress bar on terminals.

use crate::input::{engine, read, render};
use anyhow::{Context as _, Result};
use buyerpath::journey::{replay, Journey};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    playbook: &Path,
    inputs: &[std::path::PathBuf],
    output: Option<&Path>,
) -> Result<ExitCode> {
    let e = engine(playbook)?;
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let (mut journeys, mut decisions, mut failed) = (0u64, 0u64, 0u64);
    for input in inputs {
        let total = if input.as_os_str() == "-" {
            0
        } else {
            std::fs::metadata(input).map(|m| m.len()).unwrap_or(0)
        };
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {wide_bar} {per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin().lock()))
        } else if input.extension().map(|x| x == "json").unwrap_or(false) {
            // A single journey file: make it one line. One that is not JSON
            // (cut short, empty) is a journey that failed: reported with its
            // file name, and the next file is scored.
            // Not UTF-8 is a broken journey too; a file that cannot be read at all stops the run.
            let text = match read(input) {
                Ok(t) => t,
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData) =>
                {
                    journeys += 1;
                    failed += 1;
                    bar.suspend(|| {
                        eprintln!("{}: skipped: the file is not UTF-8 text", input.display())
                    });
                    bar.finish_and_clear();
                    continue;
                }
                Err(e) => return Err(e),
            };
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => Box::new(std::io::Cursor::new(format!("{v}\n").into_bytes())),
                Err(e) => {
                    journeys += 1;
                    failed += 1;
                    let why = match buyerpath::journey::parse(&text) {
                        Err(err) => render(&err),
                        Ok(_) => format!("{e}\n"),
                    };
                    bar.suspend(|| eprintln!("{}: skipped:\n{why}", input.display()));
                    bar.finish_and_clear();
                    continue;
                }
            }
        } else {
            Box::new(BufReader::new(
                std::fs::File::open(input)
                    .with_context(|| format!("cannot open {}", input.display()))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let mut line = line?;
            if n == 0 && line.starts_with('\u{feff}') {
                // A byte order mark before the first journey (as input::read drops it).
                line.drain(..'\u{feff}'.len_utf8());
            }
            bar.inc(line.len() as u64 + 1);
            if line.trim().is_empty() {
                continue;
            }
            journeys += 1;
            let result = buyerpath::journey::parse(&line)
                .and_then(|j: Journey| replay(&e, &j).map(|d| (j, d)));
            match result {
                Ok((j, ds)) => {
                    for (i, d) in ds.iter().enumerate() {
                        decisions += 1;
                        writeln!(
                            out,
                            "{{\"journey\":{},\"decision\":{},\"result\":{}}}",
                            serde_json::to_string(&j.id)?,
                            i + 1,
                            buyerpath::decision_json::text(d)
                        )?;
                    }
                }
                Err(err) => {
                    failed += 1;
                    bar.suspend(|| {
                        eprintln!("{}:{}: skipped:\n{}", input.display(), n + 1, render(&err))
                    });
                }
            }
            bar.set_message(format!("{journeys} journeys"));
        }
        bar.finish_and_clear();
    }
    out.flush()?;
    let s = |n: u64| if n == 1 { "" } else { "s" };
    eprintln!(
        "scored {journeys} journey{}, {decisions} decision{}, {failed} failed",
        s(journeys),
        s(decisions)
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
