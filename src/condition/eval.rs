//! Evaluation of a compiled condition. No panics; allocation only on rare
//! paths (JavaScript string conversion of arrays and numbers, list lookups).

use super::compare::{
    eq_folded, js_compare, js_number, js_string, json_eq, string_eq, truthy, JsType,
};
use super::number::number_to_string;
use super::tree::{CmpOp, Node, Op, Test, VerOp};
use super::version::cmp_to_padded;
use super::Doc;
use crate::lists::Lists;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

impl Node {
    pub(crate) fn eval<D: Doc + ?Sized>(&self, doc: &D, lists: &Lists) -> bool {
        match self {
            Node::And(ns) => ns.iter().all(|n| n.eval(doc, lists)),
            Node::Or(ns) => ns.is_empty() || ns.iter().any(|n| n.eval(doc, lists)),
            Node::Nor(ns) => !(ns.is_empty() || ns.iter().any(|n| n.eval(doc, lists))),
            Node::Not(n) => !n.eval(doc, lists),
            Node::Field(path, test) => test.eval(doc.at(path), lists),
            Node::Never => false,
        }
    }
}

impl Test {
    pub(crate) fn eval(&self, v: &Value, lists: &Lists) -> bool {
        match self {
            Test::StrEq { s, canonical } => string_eq(v, s, *canonical),
            Test::StrEqI(folded) => eq_folded(&js_string(v), folded),
            Test::NumEq(n) => js_number(v) == *n,
            Test::BoolEq(b) => !v.is_null() && truthy(v) == *b,
            Test::IsNull => v.is_null(),
            Test::DeepEq(lit) => json_eq(v, lit),
            Test::Ops(ops) => ops.iter().all(|op| op.eval(v, lists)),
            Test::Never => false,
        }
    }
}

impl Op {
    fn eval(&self, v: &Value, lists: &Lists) -> bool {
        match self {
            Op::Version(op, padded) => {
                let ord = cmp_to_padded(&version_source(v), padded);
                match op {
                    VerOp::Eq => ord == Ordering::Equal,
                    VerOp::Ne => ord != Ordering::Equal,
                    VerOp::Gt => ord == Ordering::Greater,
                    VerOp::Gte => ord != Ordering::Less,
                    VerOp::Lt => ord == Ordering::Less,
                    VerOp::Lte => ord != Ordering::Greater,
                }
            }
            Op::Eq(s) => s.strict_eq(v),
            Op::Ne(s) => !s.strict_eq(v),
            Op::Cmp(op, lit) => {
                let ord = js_compare(v, lit);
                match op {
                    CmpOp::Lt => ord == Some(Ordering::Less),
                    CmpOp::Lte => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    CmpOp::Gt => ord == Some(Ordering::Greater),
                    CmpOp::Gte => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
            Op::Exists(want) => v.is_null() != *want,
            Op::In(set) => set.matches(v),
            Op::Nin(set) => !set.matches(v),
            Op::Not(t) => !t.eval(v, lists),
            Op::Size(t) => match v {
                Value::Array(a) => t.eval(&Value::from(a.len()), lists),
                _ => false,
            },
            Op::ElemTest(t) => match v {
                Value::Array(a) => a.iter().any(|e| !e.is_null() && t.eval(e, lists)),
                _ => false,
            },
            Op::ElemDoc(n) => match v {
                Value::Array(a) => a.iter().any(|e| !e.is_null() && n.eval(e, lists)),
                _ => false,
            },
            Op::All(tests) => match v {
                Value::Array(a) => tests.iter().all(|t| a.iter().any(|e| t.eval(e, lists))),
                _ => false,
            },
            Op::Regex(p) => p.re.is_match(&js_string(v)),
            Op::Type(t) => JsType::of(v) == *t,
            Op::InList(name) => match v {
                Value::String(s) => lists.contains(name, s),
                Value::Array(a) => a
                    .iter()
                    .any(|e| e.as_str().is_some_and(|s| lists.contains(name, s))),
                _ => false,
            },
            Op::Never => false,
        }
    }
}

/// The string GrowthBook pads for a version attribute: numbers in their
/// JavaScript form, non-empty strings as they are, anything else `"0"`.
fn version_source(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) if !s.is_empty() => Cow::Borrowed(s.as_str()),
        Value::Number(n) => Cow::Owned(number_to_string(n.as_f64().unwrap_or(0.0))),
        _ => Cow::Borrowed("0"),
    }
}
