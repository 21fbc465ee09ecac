//! Reading playbooks and journeys from files, with readable errors.

use anyhow::{Context as _, Result};
use buyerpath::journey::Journey;
use buyerpath::{Engine, Error};
use std::path::{Path, PathBuf};

/// Reads a file to a string, naming it in the error.
pub fn read(path: &Path) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_open(path, file)
}

/// [`read`] of a file already open (`path` names it in the error).
pub fn read_open(path: &Path, file: std::fs::File) -> Result<String> {
    read_bytes(path, file, usize::MAX)?
        .ok_or_else(|| anyhow::anyhow!("cannot read {}", path.display()))
}

/// The longest journey read (a `.json` journey file, or a line of a
/// `.jsonl`): far more than the 2,000-event journeys of the workload (about
/// 0.4 MiB), and a bound on the memory a file with no end (`/dev/zero`) or
/// no line breaks can take.
pub const MAX_JOURNEY_BYTES: usize = 64 << 20;

/// [`read_open`] of a journey: one over [`MAX_JOURNEY_BYTES`] is an
/// `InvalidData` error (as text that is not UTF-8 is), which `score` reports
/// as a broken journey.
pub fn read_journey(path: &Path, file: std::fs::File) -> Result<String> {
    read_bytes(path, file, MAX_JOURNEY_BYTES)?.ok_or_else(|| {
        anyhow::Error::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "over {} MiB: a journey is at most that (is this a journey file?)",
                MAX_JOURNEY_BYTES >> 20
            ),
        ))
        .context(format!("cannot read {}", path.display()))
    })
}

/// Reads a playbook file: its text, or (inner `Err`) the engine's
/// `playbook_too_large` for a file over the engine's limit, read no further
/// (a file with no end, `/dev/zero`, takes no more memory than that).
pub fn read_playbook(path: &Path) -> Result<std::result::Result<String, Error>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the playbook {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let cap = buyerpath::playbook::MAX_PLAYBOOK_BYTES;
    Ok(read_bytes(path, file, cap)?.ok_or_else(|| {
        buyerpath::playbook::too_large(if size as usize > cap {
            format!("{size} bytes")
        } else {
            format!("more than {cap} bytes")
        })
    }))
}

/// A file's text, BOM dropped; `None` if it is longer than `cap` bytes.
fn read_bytes(path: &Path, file: std::fs::File, cap: usize) -> Result<Option<String>> {
    use std::io::Read as _;
    // A byte order mark is dropped before the text is measured.
    const BOM: &[u8] = "\u{feff}".as_bytes();
    let mut bytes = Vec::new();
    let most = u64::try_from(cap).unwrap_or(u64::MAX);
    file.take(most.saturating_add(1 + BOM.len() as u64))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let bom = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    if bytes.len() - bom > cap {
        return Ok(None);
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|e| not_utf8(path, &e))
        .with_context(|| format!("cannot read {}", path.display()))?;
    // A UTF-8 byte order mark (some Windows editors write one) is not JSON;
    // RFC 8259 lets a reader ignore it, and this one does.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(Some(text))
}

/// An input with problems (a broken playbook or journey), reported in full:
/// the command exits 1, as `check` does for a broken playbook, where a file
/// it cannot read or write is an error (exit 2).
#[derive(Debug)]
pub struct Problems(pub String);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Problems {}

/// A journey that does not replay: its file, its id and every issue.
pub fn replay_failed(path: &Path, id: &str, e: &Error) -> anyhow::Error {
    Problems(format!(
        "{}: journey `{}` failed:\n{}",
        path.display(),
        visible(id),
        render(e)
    ))
    .into()
}

/// Where a file stops being UTF-8, and how to save it so (a spreadsheet's
/// CSV is often Windows-1252 or UTF-16): still an `InvalidData` I/O error,
/// which `score` tells from a file it cannot read at all.
fn not_utf8(path: &Path, e: &std::string::FromUtf8Error) -> std::io::Error {
    let bytes = e.as_bytes();
    let at = e.utf8_error().valid_up_to();
    let before = bytes.get(..at).unwrap_or_default();
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    let byte = bytes.get(at).copied().unwrap_or_default();
    let csv = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "not UTF-8 text: line {line}, column {column} holds the byte 0x{byte:02x}; save the file as UTF-8{}",
            if csv {
                " (in Excel: Save As, \"CSV UTF-8\")"
            } else {
                ""
            }
        ),
    )
}

/// Compiles a playbook file; a broken playbook is reported as every issue.
pub fn engine(path: &Path) -> Result<Engine> {
    read_playbook(path)?
        .and_then(|text| Engine::from_json(&text))
        .map_err(|e| {
            Problems(format!(
                "{} is not a valid playbook:\n{}",
                path.display(),
                render(&e)
            ))
            .into()
        })
}

/// Prints a playbook's problems to stderr: `FILE: N problems` and `after`
/// on one line, then each problem (`check`, and `compile` before it stops).
pub fn print_problems(path: &Path, e: &Error, after: &str) {
    let n = e.issues.len();
    let s = if n == 1 { "" } else { "s" };
    elogln!(
        "{}: {n} problem{s}{after}\n\n{}",
        path.display(),
        render(e).trim_end_matches('\n')
    );
}

/// Whether `a` and `b` name the same file: the same path once resolved (for
/// a file not written yet, its directory resolved) or, on unix, the same
/// device and inode (a hard link).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            if (x.dev(), x.ino()) == (y.dev(), y.ino()) {
                return true;
            }
        }
    }
    let resolved = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(dir.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    a == b
        || match (resolved(a), resolved(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
}

/// Refuses an output that is one of the command's inputs (`what`, path):
/// writing it would lose the input, before or while it is read.
pub fn refuse_input_as_output(output: &Path, flag: &str, inputs: &[(&str, &Path)]) -> Result<()> {
    for (what, input) in inputs {
        anyhow::ensure!(
            !same_file(output, input),
            "{} is {what} itself: the output would replace it; give another {flag}",
            output.display()
        );
    }
    Ok(())
}

/// Renders issues one per block, for terminals. Control characters from the
/// input (a NUL in an id) are written as escapes, not sent to the terminal.
pub fn render(e: &Error) -> String {
    let mut out = String::new();
    for (n, i) in e.issues.iter().enumerate() {
        out.push_str(&format!(
            "{:>3}. {}  [{}]\n     {}\n",
            n + 1,
            visible(&i.path),
            i.code,
            visible(&i.message)
        ));
        if let Some(x) = &i.expected {
            out.push_str(&format!("     expected: {}\n", visible(x)));
        }
        if let Some(x) = &i.found {
            out.push_str(&format!("     found:    {}\n", visible(x)));
        }
        if let Some(x) = &i.hint {
            out.push_str(&format!("     hint:     {}\n", visible(x)));
        }
    }
    out
}

/// `text` with control characters escaped (`\u{0}`), everything else as is.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |_| false)
}

/// A report for a terminal: [`visible`], but line breaks and tabs kept.
pub fn visible_lines(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |c| matches!(c, '\n' | '\t'))
}

/// `text` with its control characters, other than those `keep` lets
/// through, written as escapes: an escape sequence from the input (a
/// journey id, a content title) must not reach and drive the terminal.
fn escaped(text: &str, keep: fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() && !keep(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Reads one journey file.
pub fn journey(path: &Path) -> Result<Journey> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    buyerpath::journey::parse(&read_journey(path, file)?).map_err(|e| {
        Problems(format!(
            "{} is not a valid journey:\n{}",
            path.display(),
            render(&e)
        ))
        .into()
    })
}

/// The example journeys, sorted by file name.
pub fn example_journeys(dir: &Path) -> Result<Vec<(PathBuf, Journey)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map(|x| x == "json").unwrap_or(false))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| journey(&p).map(|j| (p, j)))
        .collect()
}

/// The example playbook's path as the commands default it to
/// (`examples/acme/playbook.json`, relative to where they are run).
pub const EXAMPLE_PLAYBOOK: &str = "examples/acme/playbook.json";

/// `given`, unless it is the default example playbook and is not there from
/// where the command runs: then the repository's copy (as `demo` finds its
/// examples from anywhere).
pub fn playbook_or_example(given: &Path) -> PathBuf {
    let fallback = examples_dir().join("acme").join("playbook.json");
    if given == Path::new(EXAMPLE_PLAYBOOK) && !given.exists() && fallback.exists() {
        elogln!(
            "{EXAMPLE_PLAYBOOK} is not here: using the repository's, {} (pass --playbook PATH for another)",
            fallback.display()
        );
        fallback
    } else {
        given.to_path_buf()
    }
}

/// The repository's examples directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
}
