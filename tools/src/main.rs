//! `buyerpath`: native tools around the engine.

/// `println!` that hands back an error instead of panicking when stdout is
/// closed (`buyerpath demo | head`) or full (`> /dev/full`): the command's
/// `?` ends it, quietly for a closed pipe (exit 141, as a shell reports a
/// process stopped by SIGPIPE), with the error otherwise (exit 2).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*).map_err(crate::to_stdout)?;
    }};
}

/// [`outln!`] without the newline.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($t)*).map_err(crate::to_stdout)?;
    }};
}

/// A server's line to stdout: a closed or full stdout must not stop it
/// (nor lose what it has queued), so a failed write is dropped.
macro_rules! logln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// A line to stderr, for every command: `eprintln!` would panic on a closed
/// stderr (`buyerpath check bad.json 2>&1 | head -1`, `buyerpath serve 2>&1 |
/// head`, in the writer thread too). A failed write is dropped, so a server
/// goes on and a command finishes its work; a closed pipe is remembered and
/// makes the exit code 141, as for a closed stdout.
macro_rules! elogln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stderr().lock(), $($t)*) {
            $crate::stderr_failed(&e);
        }
    }};
}

mod browser_playbook;
mod calibrate;
mod check;
mod compile;
mod explain;
mod input;
mod json_walk;
mod schema;
mod score;
mod serve;
mod staged;
mod vectors;
mod warnings;
mod workload;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "buyerpath",
    version,
    about = "Classify anonymous B2B visitors and pick next-best content from a playbook"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a playbook and print every problem (exit 1 if any), and warnings (exit 0)
    Check {
        /// Playbook JSON file.
        playbook: PathBuf,
        /// Print problems (or, on a valid playbook, warnings) as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Compile a playbook into an engine file (`Engine.fromBytes` loads it without the JSON compiler).
    Compile {
        /// Playbook JSON file.
        playbook: PathBuf,
        /// Engine file to write (default: the playbook's name with `.bpe`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Replay journeys (JSONL, one per line, or .json files) and write decisions as JSONL.
    Score {
        /// Playbook JSON file.
        playbook: PathBuf,
        /// Journey files: .jsonl (one journey per line) or .json; `-` reads JSONL from stdin.
        #[arg(required = true)]
        journeys: Vec<PathBuf>,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print a journey's decisions as readable reports.
    Explain {
        /// Playbook JSON file.
        playbook: PathBuf,
        /// Journey .json file.
        journey: PathBuf,
        /// Only this decision (1-based); default all.
        #[arg(long)]
        step: Option<usize>,
    },
    /// Explain every example journey against the example playbook (the README's main job).
    Demo {
        /// Examples directory (default: the repository's `examples/`).
        #[arg(long)]
        examples: Option<PathBuf>,
    },
    /// Print the playbook JSON Schema.
    Schema {
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Regenerate (or `--check`) the shared test vectors from the example journeys.
    Vectors {
        /// Fail if the vectors on disk differ instead of writing them.
        #[arg(long)]
        check: bool,
    },
    /// Run the reference collector: Segment-compatible ingestion into SQLite, the account and funnel views, and the demo site.
    Serve(serve::Args),
    /// Load a collector over loopback for a bounded time: events/s, latency, and acknowledged = stored.
    Loadtest(serve::loadtest::Args),
    /// Derive a browser-safe playbook (hashed lists, optionally no fit criteria) from the full one.
    BrowserPlaybook(browser_playbook::Args),
    /// Generate the benchmark workload: playbooks of 50/500/5000 items and visitors of 1/20/200/2000 events, from a fixed seed.
    Workload(workload::Args),
    /// Learn from outcomes: fit points from a CRM export, content priors from the store.
    #[command(subcommand)]
    Calibrate(calibrate::Cmd),
    /// Hash list members (salted SHA-256 of the normalised domain) for a browser-safe playbook.
    HashList {
        /// Salt (not empty), stored in the playbook's list.
        #[arg(long)]
        salt: String,
        /// Domains (or text with --text).
        values: Vec<String>,
        /// Normalise as plain text instead of domains.
        #[arg(long)]
        text: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Check { playbook, json } => check::run(&playbook, json),
        Cmd::Compile { playbook, output } => compile::run(&playbook, output.as_deref()),
        Cmd::Score {
            playbook,
            journeys,
            output,
        } => score::run(&playbook, &journeys, output.as_deref()),
        Cmd::Explain {
            playbook,
            journey,
            step,
        } => explain::run(&playbook, &journey, step),
        Cmd::Demo { examples } => explain::demo(examples),
        Cmd::Schema { output } => schema::run(output.as_deref()),
        Cmd::Vectors { check } => vectors::run(check),
        Cmd::Serve(args) => serve::run(args),
        Cmd::Loadtest(args) => serve::loadtest::run(args),
        Cmd::BrowserPlaybook(args) => browser_playbook::run(args),
        Cmd::Calibrate(cmd) => calibrate::run(cmd),
        Cmd::Workload(args) => workload::run(&args),
        Cmd::HashList { salt, values, text } => {
            let kind = if text {
                buyerpath::lists::ListKind::Text
            } else {
                buyerpath::lists::ListKind::Domain
            };
            (|| -> anyhow::Result<ExitCode> {
                // As browser-playbook: `check` refuses a hashed list without a salt.
                anyhow::ensure!(
                    !salt.is_empty(),
                    "--salt must not be empty: a playbook cannot use a hashed list without a salt"
                );
                anyhow::ensure!(
                    !values.is_empty(),
                    "nothing to hash: give the list's members after --salt"
                );
                for (i, v) in values.iter().enumerate() {
                    anyhow::ensure!(
                        !kind.normalize(v).is_empty(),
                        "value {} (`{}`) is empty once normalised: not a list member",
                        i + 1,
                        v.escape_debug()
                    );
                }
                for v in values {
                    outln!("{}", buyerpath::lists::hash_member_as(kind, &salt, &v));
                }
                Ok(ExitCode::SUCCESS)
            })()
        }
    };
    let code = match r {
        Ok(code) => code,
        // Whoever read the output stopped reading (`| head`): stop quietly.
        Err(e) if closed_pipe(&e) => return ExitCode::from(141),
        // A broken playbook or journey: its problems, exit 1 (as `check`).
        Err(e) if e.downcast_ref::<input::Problems>().is_some() => {
            elogln!("{e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            elogln!("error: {e:#}");
            ExitCode::from(2)
        }
    };
    // The same for stderr: what was written to it was cut short.
    if STDERR_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        ExitCode::from(141)
    } else {
        code
    }
}

/// Set when a write to stderr met a closed pipe ([`elogln!`]).
static STDERR_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes a failed write to stderr: a closed pipe ends the run with 141.
fn stderr_failed(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        STDERR_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A failed write to stdout (`> /dev/full`), saying where it was going.
fn to_stdout(e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("cannot write to standard output")
}

/// Whether `e` comes from writing to a pipe whose reader is gone.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
