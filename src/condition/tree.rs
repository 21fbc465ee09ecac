//! The compiled form of a condition.
//!
//! Three layers mirror GrowthBook's evaluator:
//! * [`Node`]: a condition *object* evaluated against a document
//!   (`evalCondition`): logical combinators and attribute tests;
//! * [`Test`]: a *condition value* evaluated against one value
//!   (`evalConditionValue`): implicit equality or a set of operators;
//! * [`Op`]: one operator (`evalOperatorCondition`).
//!
//! Everything an evaluation needs is prepared at compile time: paths are
//! split, regexes built, `$in` sets sorted, version operands padded,
//! comparison operands converted.

use super::compare::{CmpLit, InSet, JsType, Scalar};
use super::path::Path;
use serde_json::Value;

/// A condition object.
#[derive(Debug, Clone)]
// `remote = "Self"`: the derived code is wrapped by the impls in
// `engine::compiled`, which bound how deep a load nests.
#[cfg_attr(
    feature = "compiled",
    derive(serde::Serialize, serde::Deserialize),
    serde(remote = "Self")
)]
pub(crate) enum Node {
    /// All must hold (an object's keys, `$and`).
    And(Vec<Node>),
    /// Any must hold; an empty `$or` holds.
    Or(Vec<Node>),
    /// None may hold; an empty `$nor` does *not* hold (GrowthBook: `!evalOr([])`).
    Nor(Vec<Node>),
    /// `$not`.
    Not(Box<Node>),
    /// The attribute at `Path` passes `Test`.
    Field(Path, Test),
    /// An invalid part: never holds.
    Never,
}

/// A condition value applied to one value.
#[derive(Debug, Clone)]
// `remote = "Self"`: the derived code is wrapped by the impls in
// `engine::compiled`, which bound how deep a load nests.
#[cfg_attr(
    feature = "compiled",
    derive(serde::Serialize, serde::Deserialize),
    serde(remote = "Self")
)]
pub(crate) enum Test {
    /// `String(v) === s`; `canonical` is `Some(x)` when `s` is how
    /// JavaScript writes the number `x`.
    StrEq { s: Box<str>, canonical: Option<f64> },
    /// Case-insensitive `String(v) === s` (inside `$alli`); `s` is folded.
    StrEqI(Box<str>),
    /// `Number(v) === n`.
    NumEq(f64),
    /// `v !== null && !!v === b`.
    BoolEq(bool),
    /// `v === null` (a missing attribute is null).
    IsNull,
    /// `JSON.stringify(v) === JSON.stringify(literal)` (key order ignored).
    DeepEq(
        #[cfg_attr(
            feature = "compiled",
            serde(with = "crate::engine::compiled::json_value")
        )]
        Value,
    ),
    /// An operator object: every operator must hold.
    Ops(Vec<Op>),
    /// An invalid part: never holds.
    Never,
}

/// `$lt`, `$lte`, `$gt`, `$gte`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// `$veq`, `$vne`, `$vgt`, `$vgte`, `$vlt`, `$vlte`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum VerOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// One operator with its prepared operand.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Op {
    /// Version comparison against a padded version string.
    Version(VerOp, Box<str>),
    /// `$eq` (`===`).
    Eq(Scalar),
    /// `$ne` (`!==`).
    Ne(Scalar),
    /// `$lt` ... `$gte` with JavaScript coercions.
    Cmp(CmpOp, CmpLit),
    /// `$exists` (operand's truthiness).
    Exists(bool),
    /// `$in` / `$ini`.
    In(InSet),
    /// `$nin` / `$nini`.
    Nin(InSet),
    /// `$not`.
    Not(Box<Test>),
    /// `$size`: the array's length passes the test.
    Size(Box<Test>),
    /// `$elemMatch` with an operator object: some element other than `null` passes
    /// (GrowthBook skips only nullish elements: `0`, `""` and `false` are tested).
    ElemTest(Box<Test>),
    /// `$elemMatch` with a condition object: some element other than `null` matches.
    ElemDoc(Box<Node>),
    /// `$all` / `$alli`: every test is passed by some element.
    All(Vec<Test>),
    /// `$regex` / `$regexi`, tested against `String(v)`.
    Regex(Pattern),
    /// `$type`.
    Type(JsType),
    /// `$inList`: a string (or any string element) is in the named list.
    InList(Box<str>),
    /// An invalid or unknown operator: never holds.
    Never,
}

/// A built `$regex` / `$regexi` and what it was built from (a compiled
/// engine keeps the source and builds the regex again when it is loaded).
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) re: regex_lite::Regex,
    /// The pattern as written (JavaScript's syntax), for writing the engine
    /// as bytes: `re` holds its translation for regex-lite.
    #[cfg(feature = "compiled")]
    pub(crate) source: Box<str>,
    /// How it was built (`$regexi`), for writing the engine as bytes.
    #[cfg(feature = "compiled")]
    pub(crate) insensitive: bool,
}

impl Pattern {
    /// Builds `source`, read as JavaScript reads it (js_regex.rs), within the
    /// size and nesting limits.
    pub(crate) fn build(source: &str, insensitive: bool) -> Result<Pattern, PatternError> {
        let translated = super::js_regex::translate(source).map_err(PatternError::NotJavaScript)?;
        regex_lite::RegexBuilder::new(&translated)
            .case_insensitive(insensitive)
            .size_limit(super::REGEX_SIZE_LIMIT)
            .nest_limit(super::REGEX_NEST_LIMIT)
            .build()
            .map(|re| Pattern {
                re,
                #[cfg(feature = "compiled")]
                source: source.into(),
                #[cfg(feature = "compiled")]
                insensitive,
            })
            .map_err(PatternError::Regex)
    }
}

/// Why a `$regex` pattern does not build.
#[derive(Debug)]
pub(crate) enum PatternError {
    /// JavaScript reads it in a way regex-lite cannot say.
    NotJavaScript(&'static str),
    /// regex-lite refuses it (syntax, size, nesting).
    Regex(regex_lite::Error),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::NotJavaScript(why) => f.write_str(why),
            PatternError::Regex(e) => e.fmt(f),
        }
    }
}

impl Node {
    /// Collects the attribute paths this node reads (not those inside
    /// `$elemMatch`, which are relative to array elements).
    pub(crate) fn collect_paths<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::And(ns) | Node::Or(ns) | Node::Nor(ns) => {
                ns.iter().for_each(|n| n.collect_paths(out))
            }
            Node::Not(n) => n.collect_paths(out),
            Node::Field(p, _) => out.push(&p.raw),
            Node::Never => {}
        }
    }

    /// True when the node holds for every document without reading it.
    pub(crate) fn trivially_true(&self) -> bool {
        match self {
            Node::And(ns) => ns.iter().all(Node::trivially_true),
            Node::Or(ns) => ns.is_empty() || ns.iter().any(Node::trivially_true),
            Node::Nor(_) | Node::Not(_) | Node::Field(..) | Node::Never => false,
        }
    }
}
