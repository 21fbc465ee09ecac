//! Targeting conditions: GrowthBook's MongoDB-style condition language.
//!
//! A condition is a JSON object evaluated against a visitor's attribute
//! document, with the semantics of GrowthBook's JavaScript SDK
//! `evalCondition` (spec 0.5.x); the engine passes GrowthBook's own
//! conformance vectors (`tests/growthbook.rs`).
//!
//! ```json
//! {"company.country": {"$in": ["US", "CA"]},
//!  "$or": [{"company.employees": {"$gte": 200}}, {"company.domain": {"$inList": "target_accounts"}}]}
//! ```
//!
//! * Top-level keys are dotted attribute paths (`company.country`; array
//!   elements by index, `tags.0`) or `$and` / `$or` / `$nor` (arrays of
//!   conditions) and `$not` (a condition). All keys must hold; `{}` always
//!   holds; an empty `$or` holds, an empty `$nor` does not. A missing
//!   attribute reads as `null`. Other `$` keys at the top level are
//!   attribute names, as in GrowthBook (e.g. `$groups`).
//! * A path's value is either a literal (implicit equality, with
//!   JavaScript's coercions: `{"n": "10"}` matches `10`, `{"n": 0}` matches
//!   a missing attribute, arrays and objects compare as JSON) or an object
//!   whose keys are all operators:
//!   `$eq $ne` (strict `===`), `$lt $lte $gt $gte` (JavaScript `<` etc.:
//!   two strings compare as strings, anything else as numbers),
//!   `$in $nin` (for an array attribute: any element), `$all`,
//!   `$elemMatch` (an operator object, or a condition on object elements),
//!   `$size`, `$exists`, `$type` (`string number boolean object array null`),
//!   `$not`, `$regex` (against `String(value)`), version comparisons
//!   `$veq $vne $vgt $vgte $vlt $vlte`, the case-insensitive `$ini $nini
//!   $alli $regexi`, and buyerpath's own `$inList` (membership in a named
//!   list, see [`crate::lists`]).
//!
//! Problems are found at compile time and reported as [`Issue`]s (codes
//! `unknown_operator`, `invalid_regex`, `regex_too_large`,
//! `invalid_operand`, `unknown_list`, `condition_too_deep`,
//! `condition_too_large`); the compiled condition stays usable and the
//! invalid parts evaluate to false (a condition too deep or too large
//! evaluates to false as a whole).
//!
//! Differences from the JavaScript SDK, all on inputs outside the
//! conformance vectors: regexes use the `regex-lite` engine (linear time;
//! no look-around, backreferences or inline flags, `\d \w \s` and
//! case-insensitivity are ASCII-only, `.` counts characters, not UTF-16
//! units; the rest of JavaScript's syntax is read as JavaScript reads it,
//! see `js_regex.rs`); numbers with 17 significant digits can read one unit
//! in the last place apart (serde_json's fast float parser); `$savedGroup`
//! is an attribute name like any other; objects compare as JSON regardless of
//! key order; array `length` and inherited JavaScript properties are not
//! readable through paths; saved groups (`$inGroup`) are not supported;
//! `$eq`/`$ne`/`$lt`... with an array or object operand, `$regex` with a
//! non-string, and version operators with a non-version operand are
//! reported and evaluate to false, as does an object mixing operators and
//! plain keys (`{"$gt": 1, "x": 2}`), which GrowthBook would compare as a
//! literal.

mod compare;
mod eval;
mod js_regex;
mod number;
mod ops;
mod parse;
pub(crate) mod path;
pub(crate) mod tree;
mod version;

#[cfg(feature = "compiled")]
pub(crate) use compare::InSet;
pub use parse::{
    LOGICAL, MAX_DEPTH, MAX_NODES, MAX_REGEX_LEN, OPERATORS, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT,
};

use crate::error::Issue;
use crate::lists::Lists;
use serde_json::Value;
use std::cmp::Ordering;
use tree::Node;

pub(crate) use parse::within;
pub(crate) use path::{Path, NULL};

/// What a condition reads attributes from: a JSON document, or a decision's
/// attributes (which are not one).
pub(crate) trait Doc {
    /// The value at `path`, `null` when absent.
    fn at(&self, path: &Path) -> &Value;
}

impl Doc for Value {
    fn at(&self, path: &Path) -> &Value {
        path.resolve(self)
    }
}

impl Doc for crate::attrs::Attrs<'_> {
    fn at(&self, path: &Path) -> &Value {
        crate::attrs::Attrs::at(self, path)
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub struct Condition {
    root: Node,
}

/// What compilation needs to know about the rest of the playbook.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompileCtx<'a> {
    /// Names of the lists that exist, for validating `$inList`.
    pub lists: &'a [String],
}

impl Default for Condition {
    fn default() -> Self {
        Condition::always()
    }
}

impl Condition {
    /// Compiles a condition; problems (unknown operator, invalid/oversize regex, wrong operand type,
    /// unknown list, nesting deeper than [`MAX_DEPTH`], more than [`MAX_NODES`] nodes) are returned
    /// as issues with JSON paths rooted at `path` (e.g. `"$.content[3].when"` ->
    /// `"$.content[3].when.company.country.$in"`).
    /// The returned Condition is still usable: invalid parts evaluate to false (GrowthBook semantics).
    pub fn compile(value: &Value, path: &str, ctx: &CompileCtx) -> (Condition, Vec<Issue>) {
        Self::compile_at(value, &path::At::Root(path), ctx)
    }

    /// [`Self::compile`] at a place given as steps, written out only for an
    /// issue: the playbook compiler compiles ~130 conditions of a valid
    /// playbook without formatting a path.
    pub(crate) fn compile_at(
        value: &Value,
        path: &path::At<'_>,
        ctx: &CompileCtx,
    ) -> (Condition, Vec<Issue>) {
        let mut c = parse::Compiler::new(ctx.lists);
        let mut root = c.doc(value, path, 1);
        if c.too_large {
            c.issues.push(
                Issue::new(
                    "condition_too_large",
                    path,
                    "This condition is too large; it never matches",
                )
                .expected(format!("at most {MAX_NODES} operators and sub-conditions"))
                .hint("split it, or move long value lists into a named list used with `$inList`"),
            );
            root = Node::Never;
        } else if c.too_deep {
            root = Node::Never;
        }
        (Condition { root }, c.issues)
    }

    /// The always-true condition `{}`.
    pub fn always() -> Condition {
        Condition {
            root: Node::And(Vec::new()),
        }
    }

    /// Evaluates against an attribute document (a JSON object). Never panics;
    /// allocates nothing on the common paths (strings, numbers, `$in` sets).
    pub fn eval(&self, attrs: &Value, lists: &Lists) -> bool {
        self.root.eval(attrs, lists)
    }

    /// Evaluates against a decision's attributes or an event's document.
    pub(crate) fn holds<D: Doc + ?Sized>(&self, doc: &D, lists: &Lists) -> bool {
        self.root.eval(doc, lists)
    }

    /// The distinct attribute paths this condition reads (dotted, as written), sorted;
    /// used to tell "unknown" attributes apart. Paths inside `$elemMatch`
    /// (relative to array elements) are not included.
    pub fn attribute_paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        self.root.collect_paths(&mut paths);
        crate::sort::sort(&mut paths);
        paths.dedup();
        paths.into_iter().map(str::to_string).collect()
    }

    /// True for `{}` (and anything that holds without reading an attribute,
    /// such as `{"$and": []}` or `{"$or": []}`).
    pub fn is_always(&self) -> bool {
        self.root.trivially_true()
    }
}

/// GrowthBook versionCompare helpers, exposed for tests: pads a version string the way GrowthBook does
/// (`paddedVersionString`): `"v1.2.3+build"` -> `"    1-    2-    3-~"`.
pub fn pad_version(v: &str) -> String {
    version::pad(v)
}

/// Compares two version strings as GrowthBook's `$vgt`/`$vlt`/`$veq` do
/// (by their padded forms, in JavaScript string order).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    version::cmp(a, b)
}
