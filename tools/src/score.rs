//! `buyerpath score`: journeys in, decisions out as JSONL, streaming (one
//! journey in memory at a time) with a progress bar on terminals.

use crate::input::{engine, read_journey, refuse_input_as_output, render, MAX_JOURNEY_BYTES};
use anyhow::{Context as _, Result};
use buyerpath::journey::{replay, Journey};
use buyerpath::Engine;
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
    } else {
        // `>> j.jsonl` (stdout a file that is an input): its decisions would
        // be read back as broken journeys.
        let stdout = Path::new("/dev/stdout");
        if std::fs::metadata(stdout).is_ok_and(|m| m.is_file()) {
            for input in inputs.iter().filter(|p| !stdin(p)) {
                anyhow::ensure!(
                    !crate::input::same_file(stdout, input),
                    "standard output is the journey file {} itself: the decisions would be read back as journeys; write them to another file (`-o`)",
                    input.display()
                );
            }
        }
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
    let dest = output.map_or_else(
        || "to standard output".to_string(),
        |p| p.display().to_string(),
    );
    let cannot = || format!("cannot write {dest}");
    let mut n = Counts::default();
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
        let mut reader: Box<dyn BufRead> = match file {
            None => Box::new(BufReader::new(std::io::stdin().lock())),
            Some(file) if json => {
                // A single journey file, reported by its name (a problem's
                // line and column are the file's own). Not UTF-8, or over
                // the limit, is a broken journey too; a file that cannot be
                // read at all stops the run.
                let at = input.display().to_string();
                match read_journey(input, file) {
                    Ok(text) => {
                        n.score(&e, &text, &at, &mut out, &bar)
                            .with_context(cannot)?;
                        bar.inc(text.len() as u64);
                        bar.set_message(format!("{} journeys", n.journeys));
                    }
                    Err(err) => match err.downcast_ref::<std::io::Error>() {
                        Some(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                            n.skip(&at, &io.to_string(), &bar)
                        }
                        _ => return Err(err),
                    },
                }
                bar.finish_and_clear();
                continue;
            }
            Some(file) => Box::new(BufReader::new(file)),
        };
        let mut buf = Vec::new();
        for line_no in 1.. {
            let Some((whole, read)) = next_line(&mut reader, &mut buf, MAX_JOURNEY_BYTES)
                .with_context(|| format!("cannot read {}", input.display()))?
            else {
                break;
            };
            bar.inc(read);
            let at = format!("{}:{line_no}", input.display());
            if !whole {
                n.skip(
                    &at,
                    &format!(
                        "the line is over {} MiB (a journey is one line of JSON: is this a journey file?)",
                        MAX_JOURNEY_BYTES >> 20
                    ),
                    &bar,
                );
                continue;
            }
            // A line that is not UTF-8 is a broken journey: reported, skipped.
            let Ok(line) = std::str::from_utf8(&buf) else {
                n.skip(&at, "the line is not UTF-8 text", &bar);
                continue;
            };
            let mut line = line.strip_suffix('\r').unwrap_or(line);
            if line_no == 1 {
                // A byte order mark before the first journey (as input::read drops it).
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            if line.trim().is_empty() {
                continue;
            }
            n.score(&e, line, &at, &mut out, &bar)
                .with_context(cannot)?;
            bar.set_message(format!("{} journeys", n.journeys));
        }
        bar.finish_and_clear();
    }
    out.flush().with_context(cannot)?;
    drop(out);
    if let Some(staged) = staged {
        staged.commit()?;
    }
    let Counts {
        journeys,
        decisions,
        failed,
    } = n;
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

/// Journeys read, decisions written, journeys skipped.
#[derive(Default)]
struct Counts {
    journeys: u64,
    decisions: u64,
    failed: u64,
}

impl Counts {
    /// Replays one journey and writes its decisions, or reports it (at
    /// `at`: its file, and line) and skips it. An error is a failed write.
    fn score(
        &mut self,
        e: &Engine,
        text: &str,
        at: &str,
        out: &mut dyn Write,
        bar: &ProgressBar,
    ) -> std::io::Result<()> {
        let result =
            buyerpath::journey::parse(text).and_then(|j: Journey| replay(e, &j).map(|d| (j, d)));
        match result {
            Ok((j, ds)) => {
                self.journeys += 1;
                for (i, d) in ds.iter().enumerate() {
                    self.decisions += 1;
                    writeln!(
                        out,
                        "{{\"journey\":{},\"decision\":{},\"result\":{}}}",
                        serde_json::to_string(&j.id)?,
                        i + 1,
                        buyerpath::decision_json::text(d)
                    )?;
                }
            }
            Err(err) => self.skip(at, &format!("\n{}", render(&err)), bar),
        }
        Ok(())
    }

    /// Reports a broken journey and counts it.
    fn skip(&mut self, at: &str, why: &str, bar: &ProgressBar) {
        self.journeys += 1;
        self.failed += 1;
        let sep = if why.starts_with('\n') { "" } else { " " };
        bar.suspend(|| elogln!("{at}: skipped:{sep}{why}"));
    }
}

/// Reads the next line into `buf` (without its `\n`), keeping at most `cap`
/// bytes: `None` at the end of the input, else whether the line was kept
/// (`false`: longer than `cap`, read to its end, not kept) and the bytes
/// read (for the progress bar).
fn next_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<(bool, u64)>> {
    buf.clear();
    let (mut read, mut whole) = (0u64, true);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            // As `read_until` does: a signal is not the end of the input.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((read > 0).then_some((whole, read)));
        }
        let (part, used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (chunk.get(..i).unwrap_or_default(), i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if whole && buf.len() + part.len() <= cap {
            buf.extend_from_slice(part);
        } else {
            whole = false;
            buf.clear();
        }
        reader.consume(used);
        read += used as u64;
        if done {
            return Ok(Some((whole, read)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_whole_or_refused_past_the_cap() {
        let text = b"ab\ncdefgh\n\nij";
        let mut r = std::io::BufReader::with_capacity(3, &text[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some((whole, read)) = next_line(&mut r, &mut buf, 4).unwrap() {
            got.push((whole, String::from_utf8(buf.clone()).unwrap(), read));
        }
        let want = [
            (true, "ab", 3),
            (false, "", 7),
            (true, "", 1),
            (true, "ij", 2),
        ];
        assert_eq!(got, want.map(|(w, s, n)| (w, s.to_string(), n)));
    }
}
