//! Compiles one operator of an operator object (`{"$in": [...]}`) with its
//! operand: validation, and everything prepared ahead of evaluation (sorted
//! `$in` sets, built regexes, padded versions).

use super::compare::{truthy, CmpLit, InSet, JsType, Scalar};
use super::number::number_to_string;
use super::parse::{
    describe, Compiler, MAX_REGEX_LEN, OPERATORS, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT,
};
use super::path::At;
use super::tree::PatternError;
use super::tree::{CmpOp, Op, Pattern, VerOp};
use super::version::pad;
use crate::error::Issue;
use crate::suggest::did_you_mean;
use serde_json::Value;

impl Compiler<'_> {
    pub(super) fn op(&mut self, name: &str, x: &Value, path: &At<'_>, depth: usize) -> Op {
        if !self.budget() {
            return Op::Never;
        }
        match name {
            "$eq" | "$ne" => match Scalar::from_value(x) {
                Some(s) if name == "$eq" => Op::Eq(s),
                Some(s) => Op::Ne(s),
                None => {
                    self.invalid(
                        path,
                        "`$eq` and `$ne` compare with a single value.",
                        "a string, number, boolean or null",
                        x,
                    );
                    Op::Never
                }
            },
            "$lt" | "$lte" | "$gt" | "$gte" => match CmpLit::from_value(x) {
                Some(lit) => Op::Cmp(
                    match name {
                        "$lt" => CmpOp::Lt,
                        "$lte" => CmpOp::Lte,
                        "$gt" => CmpOp::Gt,
                        _ => CmpOp::Gte,
                    },
                    lit,
                ),
                None => {
                    self.invalid(
                        path,
                        "Comparison operators take a single value.",
                        "a number or a string",
                        x,
                    );
                    Op::Never
                }
            },
            "$exists" => Op::Exists(truthy(x)),
            "$in" | "$nin" | "$ini" | "$nini" => match x {
                Value::Array(items) => {
                    let set = InSet::new(items, name.ends_with('i'));
                    if name.starts_with("$n") {
                        Op::Nin(set)
                    } else {
                        Op::In(set)
                    }
                }
                _ => {
                    self.invalid(
                        path,
                        &format!("`{name}` takes an array."),
                        "an array such as [\"US\", \"CA\"]",
                        x,
                    );
                    Op::Never
                }
            },
            "$all" | "$alli" => match x {
                Value::Array(items) => Op::All(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            self.test(item, &At::Index(path, i), depth + 1, name == "$alli")
                        })
                        .collect(),
                ),
                _ => {
                    self.invalid(path, &format!("`{name}` takes an array."), "an array", x);
                    Op::Never
                }
            },
            "$elemMatch" => match x {
                Value::Object(m) if !m.is_empty() && m.keys().all(|k| k.starts_with('$')) => {
                    Op::ElemTest(Box::new(self.test(x, path, depth + 1, false)))
                }
                Value::Object(_) => Op::ElemDoc(Box::new(self.doc(x, path, depth + 1))),
                _ => {
                    self.invalid(
                        path,
                        "`$elemMatch` takes an object.",
                        "an operator object or a condition object",
                        x,
                    );
                    Op::Never
                }
            },
            "$size" => Op::Size(Box::new(self.test(x, path, depth + 1, false))),
            "$not" => Op::Not(Box::new(self.test(x, path, depth + 1, false))),
            "$regex" | "$regexi" => match x {
                Value::String(p) => self.regex(p, path, name == "$regexi"),
                _ => {
                    self.invalid(
                        path,
                        &format!("`{name}` takes a pattern string."),
                        "a string",
                        x,
                    );
                    Op::Never
                }
            },
            "$type" => match x.as_str().and_then(JsType::parse) {
                Some(t) => Op::Type(t),
                None => {
                    let hint = x.as_str().and_then(|s| did_you_mean(s, JsType::NAMES));
                    self.issues.push(
                        Issue::new("invalid_operand", path, "Unknown type name.")
                            .expected("one of string, number, boolean, object, array, null")
                            .found(describe(x))
                            .hint_or(hint, crate::error::ONE_OF_EXPECTED),
                    );
                    Op::Never
                }
            },
            "$veq" | "$vne" | "$vgt" | "$vgte" | "$vlt" | "$vlte" => {
                let padded = match x {
                    Value::String(s) => pad(s),
                    Value::Number(n) => pad(&number_to_string(n.as_f64().unwrap_or(0.0))),
                    _ => {
                        self.invalid(
                            path,
                            "Version operators take a version string.",
                            "a string such as \"1.2.3\"",
                            x,
                        );
                        return Op::Never;
                    }
                };
                let op = match name {
                    "$veq" => VerOp::Eq,
                    "$vne" => VerOp::Ne,
                    "$vgt" => VerOp::Gt,
                    "$vgte" => VerOp::Gte,
                    "$vlt" => VerOp::Lt,
                    _ => VerOp::Lte,
                };
                Op::Version(op, padded.into())
            }
            "$inList" => self.in_list(x, path),
            "$and" | "$or" | "$nor" => {
                self.issues.push(
                    Issue::new("unknown_operator", path, format!("`{name}` is not an attribute operator."))
                        .hint(format!("`{name}` combines whole conditions: put it at the top level of the condition")),
                );
                Op::Never
            }
            "$inGroup" | "$notInGroup" => {
                self.issues.push(
                    Issue::new(
                        "unknown_operator",
                        path,
                        format!("`{name}` (GrowthBook saved groups) is not supported."),
                    )
                    .hint("use `$inList` with a named list"),
                );
                Op::Never
            }
            _ => {
                self.issues.push(
                    Issue::new(
                        "unknown_operator",
                        path,
                        format!("Unknown operator `{name}`; it never matches"),
                    )
                    .expected("an operator such as `$in`, `$gte` or `$regex`")
                    .found(name)
                    .hint(
                        did_you_mean(name, OPERATORS)
                            .unwrap_or_else(|| format!("use one of {}", OPERATORS.join(", "))),
                    ),
                );
                Op::Never
            }
        }
    }

    fn regex(&mut self, pattern: &str, path: &At<'_>, insensitive: bool) -> Op {
        let len = pattern.chars().count();
        if len > MAX_REGEX_LEN {
            self.issues.push(
                Issue::new(
                    "regex_too_large",
                    path,
                    "This regular expression is too long; it never matches",
                )
                .expected(format!("at most {MAX_REGEX_LEN} characters"))
                .found(format!("{len} characters"))
                .hint("shorten the expression, or test a list of values with `$in`"),
            );
            return Op::Never;
        }
        match Pattern::build(pattern, insensitive) {
            Ok(p) => Op::Regex(p),
            Err(e) => {
                let msg = e.to_string();
                let too_large = msg.contains("size limit") || msg.contains("nesting");
                let issue = if too_large {
                    Issue::new(
                        "regex_too_large",
                        path,
                        format!("This regular expression is too complex ({msg}); it never matches"),
                    )
                    .expected(format!(
                        "a compiled size under {} KiB and at most {REGEX_NEST_LIMIT} nested groups",
                        REGEX_SIZE_LIMIT / 1024
                    ))
                    .hint("simplify the pattern, e.g. smaller counted repetitions")
                } else {
                    let hint = if matches!(e, PatternError::NotJavaScript(_)) {
                        "write it as JavaScript's `new RegExp(pattern)` reads it; for case-insensitive matching use `$regexi`"
                    } else if msg.contains("look-around") {
                        "look-ahead and look-behind are not supported: test for the text itself, or combine conditions with `$and` and `$not`"
                    } else {
                        "special characters such as `.`, `(`, `[` or `?` need a backslash to match literally"
                    };
                    Issue::new(
                        "invalid_regex",
                        path,
                        format!("Invalid regular expression ({msg}); it never matches"),
                    )
                    .expected(
                        "a JavaScript regular expression without look-around or backreferences",
                    )
                    .hint(hint)
                };
                self.issues.push(issue.found(pattern));
                Op::Never
            }
        }
    }

    fn in_list(&mut self, x: &Value, path: &At<'_>) -> Op {
        let Some(name) = x.as_str() else {
            self.invalid(
                path,
                "`$inList` takes the name of a list.",
                "a list name (string)",
                x,
            );
            return Op::Never;
        };
        if self.lists.iter().any(|l| l == name) {
            return Op::InList(name.into());
        }
        let hint = did_you_mean(name, self.lists.iter().map(String::as_str));
        self.issues.push(
            Issue::new(
                "unknown_list",
                path,
                format!("There is no list named `{name}`; this test never matches."),
            )
            .expected("the name of a list defined in the playbook")
            .found(name)
            .hint_or(hint, "define the list under `lists`, or fix its name"),
        );
        Op::Never
    }
}
