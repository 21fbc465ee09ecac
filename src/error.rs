//! Errors that reach users: every problem carries a code, a JSON path, what was
//! expected, what was found and a hint, so a marketer can fix a playbook without
//! reading source code.

use serde::Serialize;
use std::fmt;

/// One problem found in outside input (playbook, event, context, state string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Stable machine-readable code, e.g. `unknown_stage`.
    pub code: String,
    /// JSON path of the offending value, e.g. `$.content[3].stages[0]`.
    pub path: String,
    /// One sentence saying what is wrong.
    pub message: String,
    /// What was expected there, if it can be said briefly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found there (truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// How to fix it, e.g. "did you mean `decision`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Issue {
    /// A new issue with a code, a path and a message.
    pub fn new(code: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            code: code.to_string(),
            path: path.into(),
            message: message.into(),
            expected: None,
            found: None,
            hint: None,
        }
    }
    /// Adds what was expected.
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    /// Adds what was found; long values are truncated.
    pub fn found(mut self, f: impl Into<String>) -> Self {
        self.found = Some(truncate(&f.into(), 80));
        self
    }
    /// Adds a hint.
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    /// Adds `h`, or `otherwise` when there is none (a suggestion found or
    /// not, every issue says what to do).
    pub fn hint_or(mut self, h: Option<String>, otherwise: &str) -> Self {
        self.hint = Some(h.unwrap_or_else(|| otherwise.to_string()));
        self
    }
}

/// The hint of a value that must be one of a list `expected` gives, when no
/// near name is found to suggest.
pub const ONE_OF_EXPECTED: &str = "use one of the values `expected` lists";

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.code, self.path, self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "; expected {e}")?;
        }
        if let Some(x) = &self.found {
            write!(f, ", found {x}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// An error of the engine's API: one or more issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    /// Every problem found, in document order; never empty.
    pub issues: Vec<Issue>,
}

impl Error {
    /// An error made of a single issue.
    pub fn one(issue: Issue) -> Self {
        Error {
            issues: vec![issue],
        }
    }
    /// The code of the first issue (the error's code).
    pub fn code(&self) -> &str {
        self.issues
            .first()
            .map(|i| i.code.as_str())
            .unwrap_or("error")
    }
    /// The path of the first issue.
    pub fn path(&self) -> &str {
        self.issues.first().map(|i| i.path.as_str()).unwrap_or("$")
    }
}

impl From<Issue> for Error {
    fn from(i: Issue) -> Self {
        Error::one(i)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems", many.len())?;
                for i in many {
                    write!(f, "\n  - {i}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Cuts a string to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Describes a JSON value's type for "found" fields.
pub fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Where something sits in a document, for an [`Issue`]: a chain of borrowed
/// steps below a root path, written out only when an issue reports it (the
/// paths of the playbook's array elements and of the parts of a condition are
/// not built for a valid playbook).
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    /// A path written out (`$.content[3].when`).
    Root(&'a str),
    /// An object key below another place.
    Key(&'a At<'a>, &'a str),
    /// An array index below another place.
    Index(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    /// `.key` for plain keys (letters, digits, `_`, `$`, `-`, `.`), `["key"]`
    /// (JSON-escaped) otherwise; `[i]` for an index.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root(base) => f.write_str(base),
            At::Key(base, key) => {
                if plain_key(key) {
                    write!(f, "{base}.{key}")
                } else {
                    let quoted =
                        serde_json::to_string(key).unwrap_or_else(|_| String::from("\"?\""));
                    write!(f, "{base}[{quoted}]")
                }
            }
            At::Index(base, i) => write!(f, "{base}[{i}]"),
        }
    }
}

/// Whether `key` is written after a dot in a path (letters, digits, `_`,
/// `$`, `-`, `.`); any other is written `["key"]`, JSON-escaped.
pub(crate) fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-' | '.'))
}

/// The path of object key `key` below `base`, as every issue writes it
/// (`$.secret`, `$["a b"]`): for the bindings, which check JavaScript
/// values before they become JSON.
pub fn key_path(base: &str, key: &str) -> String {
    String::from(&At::Key(&At::Root(base), key))
}

impl From<&At<'_>> for String {
    fn from(at: &At<'_>) -> String {
        at.to_string()
    }
}
