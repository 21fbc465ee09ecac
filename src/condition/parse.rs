//! Compiles condition JSON into a [`Node`] tree, reporting problems as
//! issues. Every invalid part compiles to a `Never` node (it evaluates to
//! false, as GrowthBook treats unknown operators and invalid regexes).

use super::compare::fold;
use super::number::canonical_number;
use super::path::{At, Path};
use super::tree::{Node, Test};
use crate::error::{kind_of, Issue};
use crate::suggest::did_you_mean;
use serde_json::{Map, Value};

/// Deepest nesting of condition objects, operator objects and literals.
pub const MAX_DEPTH: usize = 16;
/// Most nodes (condition objects, condition values, operators) in one condition.
pub const MAX_NODES: usize = 256;
/// Longest `$regex` pattern, in characters.
pub const MAX_REGEX_LEN: usize = 256;
/// Compiled size limit of one regex, in bytes.
pub const REGEX_SIZE_LIMIT: usize = 64 * 1024;
/// Group nesting limit of one regex.
pub const REGEX_NEST_LIMIT: u32 = 32;

/// Operators accepted inside an operator object.
pub const OPERATORS: [&str; 26] = [
    "$eq",
    "$ne",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$in",
    "$nin",
    "$ini",
    "$nini",
    "$all",
    "$alli",
    "$elemMatch",
    "$size",
    "$exists",
    "$type",
    "$not",
    "$regex",
    "$regexi",
    "$veq",
    "$vne",
    "$vgt",
    "$vgte",
    "$vlt",
    "$vlte",
    "$inList",
];

/// Keys with a meaning at the top level of a condition object.
pub const LOGICAL: [&str; 4] = ["$and", "$or", "$nor", "$not"];

pub(crate) struct Compiler<'c> {
    pub(super) lists: &'c [String],
    pub(crate) issues: Vec<Issue>,
    nodes: usize,
    pub(crate) too_large: bool,
    pub(crate) too_deep: bool,
}

impl<'c> Compiler<'c> {
    pub(crate) fn new(lists: &'c [String]) -> Self {
        Compiler {
            lists,
            issues: Vec::new(),
            nodes: 0,
            too_large: false,
            too_deep: false,
        }
    }

    /// Counts a node; false once the condition is too large.
    pub(super) fn budget(&mut self) -> bool {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.too_large = true;
        }
        !self.too_large
    }

    /// True (after reporting) when `depth` is past the limit.
    fn deep(&mut self, depth: usize, path: &At<'_>) -> bool {
        if depth <= MAX_DEPTH {
            return false;
        }
        self.too_deep = true;
        self.issues.push(
            Issue::new(
                "condition_too_deep",
                path,
                "This condition is nested too deeply.",
            )
            .expected(format!("at most {MAX_DEPTH} levels of nesting"))
            .hint("flatten it, e.g. combine conditions with one `$and` or `$or`"),
        );
        true
    }

    pub(super) fn invalid(&mut self, path: &At<'_>, message: &str, expected: &str, found: &Value) {
        self.issues.push(
            Issue::new("invalid_operand", path, message)
                .expected(expected)
                .found(describe(found))
                .hint(format!("write it as {expected}")),
        );
    }

    /// A condition object (`evalCondition`).
    pub(crate) fn doc(&mut self, v: &Value, path: &At<'_>, depth: usize) -> Node {
        if !self.budget() || self.deep(depth, path) {
            return Node::Never;
        }
        let Value::Object(map) = v else {
            self.invalid(
                path,
                "A condition must be an object.",
                "an object such as {\"company.country\": \"US\"}",
                v,
            );
            return Node::Never;
        };
        let mut parts = Vec::with_capacity(map.len());
        for (k, val) in map {
            let p = At::Key(path, k);
            let node = match k.as_str() {
                "$and" | "$or" | "$nor" => match self.doc_list(val, &p, depth) {
                    Some(list) if k == "$and" => Node::And(list),
                    Some(list) if k == "$or" => Node::Or(list),
                    Some(list) => Node::Nor(list),
                    None => Node::Never,
                },
                "$not" if val.is_object() => Node::Not(Box::new(self.doc(val, &p, depth + 1))),
                "$not" => {
                    self.invalid(&p, "`$not` takes a condition object.", "an object", val);
                    Node::Never
                }
                _ => {
                    if k.starts_with('$') {
                        self.top_level_dollar(k, &p);
                    }
                    Node::Field(Path::new(k), self.test(val, &p, depth + 1, false))
                }
            };
            parts.push(node);
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or(Node::Never)
        } else {
            Node::And(parts)
        }
    }

    fn doc_list(&mut self, v: &Value, path: &At<'_>, depth: usize) -> Option<Vec<Node>> {
        let Value::Array(items) = v else {
            self.invalid(
                path,
                "This operator takes an array of conditions.",
                "an array of objects",
                v,
            );
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| self.doc(item, &At::Index(path, i), depth + 1))
                .collect(),
        )
    }

    /// GrowthBook reads unknown `$` keys at the top level as attribute names
    /// (e.g. `$groups`); warn when one looks like a misplaced or misspelt operator.
    fn top_level_dollar(&mut self, k: &str, path: &At<'_>) {
        if OPERATORS.contains(&k) {
            self.issues.push(
                Issue::new("unknown_operator", path, format!("`{k}` compares one attribute and cannot stand at the top level of a condition."))
                    .expected("an attribute name, `$and`, `$or`, `$nor` or `$not`")
                    .hint(format!("put it under an attribute, e.g. {{\"company.country\": {{\"{k}\": ...}}}}")),
            );
        } else if let Some(hint) = did_you_mean(k, LOGICAL) {
            self.issues.push(
                Issue::new(
                    "unknown_operator",
                    path,
                    format!("`{k}` is not an operator; it is read as an attribute name."),
                )
                .expected("`$and`, `$or`, `$nor` or `$not`")
                .hint(hint),
            );
        }
    }

    /// A condition value (`evalConditionValue`); `insensitive` inside `$alli`.
    pub(super) fn test(
        &mut self,
        v: &Value,
        path: &At<'_>,
        depth: usize,
        insensitive: bool,
    ) -> Test {
        if !self.budget() || self.deep(depth, path) {
            return Test::Never;
        }
        match v {
            Value::String(s) if insensitive => Test::StrEqI(fold(s).into()),
            Value::String(s) => Test::StrEq {
                s: s.as_str().into(),
                canonical: canonical_number(s),
            },
            Value::Number(n) => Test::NumEq(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => Test::BoolEq(*b),
            Value::Null => Test::IsNull,
            Value::Array(_) => self.literal(v, path, depth),
            Value::Object(map) => {
                let dollar = map.keys().filter(|k| k.starts_with('$')).count();
                if dollar == 0 {
                    self.literal(v, path, depth)
                } else if dollar < map.len() {
                    self.invalid(
                        path,
                        "This object mixes operators and plain keys.",
                        "either only operators ({\"$gte\": 10}) or a literal object to compare with",
                        v,
                    );
                    Test::Never
                } else {
                    self.ops(map, path, depth)
                }
            }
        }
    }

    fn literal(&mut self, v: &Value, path: &At<'_>, depth: usize) -> Test {
        if within(v, MAX_DEPTH + 1 - depth.min(MAX_DEPTH)) {
            Test::DeepEq(v.clone())
        } else {
            self.deep(MAX_DEPTH + 1, path);
            Test::Never
        }
    }

    fn ops(&mut self, map: &Map<String, Value>, path: &At<'_>, depth: usize) -> Test {
        let mut ops = Vec::with_capacity(map.len());
        for (name, operand) in map {
            let p = At::Key(path, name);
            let op = self.op(name, operand, &p, depth);
            ops.push(op);
        }
        Test::Ops(ops)
    }
}

/// True when `v` has at most `levels` levels of arrays/objects.
pub(crate) fn within(v: &Value, levels: usize) -> bool {
    match v {
        Value::Array(a) => levels > 0 && a.iter().all(|x| within(x, levels - 1)),
        Value::Object(m) => levels > 0 && m.values().all(|x| within(x, levels - 1)),
        _ => true,
    }
}

/// A short description of a value for an issue's `found`.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) => kind_of(v).to_string(),
        other => format!("{} {}", kind_of(other), other),
    }
}
