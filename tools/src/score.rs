//! `buyerpath score`: journeys in, decisions out as JSONL, streaming (one
//! journey in memory at a time) with a progress bar on terminals.

use crate::input::{engine, read_open, refuse_input_as_output, render};
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
    let stdin = |p: &Path| p.as_os_str() == "-";
    if let Some(out) = output {
        let mut named = vec![("the playbook", playbook)];
        // `-o j.jsonl < j.jsonl`: the file behind standard input (a pipe,
        // a terminal or /dev/null holds nothing the output could replace).
        let stdin_file = Path::new("/dev/stdin");
        let from_file = std::fs::metadata(stdin_file).is_ok_and(|m| m.is_file());
        named.extend(inputs.iter().filter_map(|p| match (stdin(p), from_file) {
            (false, _) => Some(("a journey file", p.as_path())),
            (true, true) => Some(("standard input", stdin_file)),
            (true, false) => None,
        }));
        refuse_input_as_output(out, "--output", &named)?;
    }
    // Every input is checked before anything is written (by its metadata: a
    // named pipe is opened only in its turn), and each is opened in its turn
    // (thousands of files stay within the limit on open files).
    let open = |input: &Path| -> Result<std::fs::File> {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        anyhow::ensure!(
            !file.metadata().is_ok_and(|m| m.is_dir()),
            "{} is a directory, not a journey file",
            input.display()
        );
        Ok(file)
    };
    for input in inputs.iter().filter(|p| !stdin(p)) {
        let meta =
            std::fs::metadata(input).with_context(|| format!("cannot open {}", input.display()))?;
        anyhow::ensure!(
            !meta.is_dir(),
            "{} is a directory, not a journey file",
            input.display()
        );
    }
    // A file output is written beside it and renamed into place at the end:
    // a run an error stops (an input gone or unreadable) leaves it as it was.
    // A device or a pipe (`-o /dev/stdout`) is written to directly.
    let mut staged = None;
    let mut out: Box<dyn Write> = match output {
        Some(p) if crate::staged::is_device(p) => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        Some(p) => {
            let (s, file) = crate::staged::Staged::create(p)?;
            staged = Some(s);
            Box::new(BufWriter::new(file))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    // A write that fails names what it was writing to (`-o /dev/full`).
    let dest = output.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    let cannot = || format!("cannot write {dest}");
    let (mut journeys, mut decisions, mut failed) = (0u64, 0u64, 0u64);
    for input in inputs {
        let file = if stdin(input) {
            None
        } else {
            Some(open(input)?)
        };
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
        let json = input
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"));
        let reader: Box<dyn BufRead> = match file {
            None => Box::new(BufReader::new(std::io::stdin().lock())),
            Some(file) if json => {
                // A single journey file: make it one line. One that is not JSON
                // (cut short, empty) is a journey that failed: reported with its
                // file name, and the next file is scored.
                // Not UTF-8 is a broken journey too; a file that cannot be read at all stops the run.
                let text = match read_open(input, file) {
                    Ok(t) => t,
                    Err(e)
                        if e.downcast_ref::<std::io::Error>()
                            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData) =>
                    {
                        journeys += 1;
                        failed += 1;
                        bar.suspend(|| {
                            elogln!("{}: skipped: the file is not UTF-8 text", input.display())
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
                        bar.suspend(|| elogln!("{}: skipped:\n{why}", input.display()));
                        bar.finish_and_clear();
                        continue;
                    }
                }
            }
            Some(file) => Box::new(BufReader::new(file)),
        };
        for (n, line) in reader.split(b'\n').enumerate() {
            let line = line.with_context(|| format!("cannot read {}", input.display()))?;
            bar.inc(line.len() as u64 + 1);
            // A line that is not UTF-8 is a broken journey: reported, skipped.
            let Ok(mut line) = String::from_utf8(line) else {
                journeys += 1;
                failed += 1;
                bar.suspend(|| {
                    elogln!(
                        "{}:{}: skipped: the line is not UTF-8 text",
                        input.display(),
                        n + 1
                    )
                });
                continue;
            };
            if line.ends_with('\r') {
                line.pop();
            }
            if n == 0 && line.starts_with('\u{feff}') {
                // A byte order mark before the first journey (as input::read drops it).
                line.drain(..'\u{feff}'.len_utf8());
            }
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
                        )
                        .with_context(cannot)?;
                    }
                }
                Err(err) => {
                    failed += 1;
                    bar.suspend(|| {
                        elogln!("{}:{}: skipped:\n{}", input.display(), n + 1, render(&err))
                    });
                }
            }
            bar.set_message(format!("{journeys} journeys"));
        }
        bar.finish_and_clear();
    }
    out.flush().with_context(cannot)?;
    drop(out);
    if let Some(staged) = staged {
        staged.commit()?;
    }
    let s = |n: u64| if n == 1 { "" } else { "s" };
    let scored = journeys.saturating_sub(failed);
    elogln!(
        "scored {scored} journey{}, {decisions} decision{}; {failed} skipped",
        s(scored),
        s(decisions)
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
