//! The compiled engine as bytes (feature `compiled`): what `buyerpath
//! compile` writes and a build without the JSON playbook compiler loads.
//!
//! Layout: the 4 bytes `BPE1`, the crate version as a length-prefixed
//! string, then the engine in postcard (serde's derives on the engine's
//! types). A file is read only by the version that wrote it: the engine's
//! types are not a stable format, and the CLI that writes the file ships
//! with the package that reads it. A regex is stored as its source and built
//! again on load, within the same limits; a condition literal compared as a
//! whole (`DeepEq`) keeps its numbers bit for bit.
//!
//! Loading checks the header and the structure, never trusts a length
//! beyond the bytes given, and fails with `engine_file_invalid` or
//! `engine_file_version`; what the engine then reads is bounds-checked like
//! everything else in the crate (no index is trusted), so a tampered file
//! cannot make it panic.

use super::Engine;
use crate::condition::tree::Pattern;
use crate::error::{Error, Issue};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first bytes of an engine file.
pub const MAGIC: &[u8; 4] = b"BPE1";

/// The version that writes and reads engine files.
const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Engine {
    /// The compiled engine as bytes, for [`Engine::from_bytes`] of the same
    /// crate version. Writing into memory fails only on a value postcard
    /// cannot write, which the tests rule out for every part of an engine.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = MAGIC.to_vec();
        out.push(VERSION.len() as u8);
        out.extend_from_slice(VERSION.as_bytes());
        postcard::to_extend(self, out).map_err(|e| {
            Error::one(
                Issue::new(
                    "internal",
                    "$",
                    format!("The engine could not be written as bytes ({e})."),
                )
                .hint("Report this, with the playbook."),
            )
        })
    }

    /// Loads an engine written by [`Engine::to_bytes`] of this version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, Error> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
            invalid("These bytes are not a compiled buyerpath engine (no `BPE1` header).")
        })?;
        let (&len, rest) = rest
            .split_first()
            .ok_or_else(|| invalid("The engine file ends before its version."))?;
        let (version, body) = rest
            .split_at_checked(usize::from(len))
            .ok_or_else(|| invalid("The engine file ends inside its version."))?;
        if version != VERSION.as_bytes() {
            return Err(Error::one(
                Issue::new(
                    "engine_file_version",
                    "$",
                    "The engine file was written by another version of buyerpath.",
                )
                .expected(VERSION)
                .found(String::from_utf8_lossy(version).into_owned())
                .hint(
                    "Compile the playbook again with the CLI of this version: `buyerpath compile`.",
                ),
            ));
        }
        match postcard::from_bytes::<Engine>(body) {
            Ok(engine) => Ok(engine),
            Err(e) => Err(invalid(&format!(
                "The engine file is damaged or truncated ({e})."
            ))),
        }
    }
}

fn invalid(message: &str) -> Error {
    Error::one(
        Issue::new("engine_file_invalid", "$", message)
            .hint("Write it again with `buyerpath compile`, and send it as bytes, unchanged."),
    )
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.re.as_str(), self.insensitive).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
        let (source, insensitive) = <(String, bool)>::deserialize(d)?;
        Pattern::build(&source, insensitive).map_err(D::Error::custom)
    }
}

/// A JSON value in a format without self-description: the value as a tree
/// of tagged parts, numbers as their exact integer or `f64` bits.
pub(crate) mod json_value {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Number, Value};

    /// Deeper values are refused on load (conditions are at most 24 levels
    /// deep; this bounds the recursion of a tampered file).
    const MAX_DEPTH: usize = 64;

    #[derive(Serialize, Deserialize)]
    enum Json {
        Null,
        Bool(bool),
        U64(u64),
        I64(i64),
        F64(u64),
        Str(String),
        Arr(#[serde(deserialize_with = "super::nested")] Vec<Json>),
        Obj(#[serde(deserialize_with = "super::nested")] Vec<(String, Json)>),
    }

    fn to_json(v: &Value) -> Json {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Json::U64(u),
                (None, Some(i), _) => Json::I64(i),
                (None, None, x) => Json::F64(x.unwrap_or(0.0).to_bits()),
            },
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(a) => Json::Arr(a.iter().map(to_json).collect()),
            Value::Object(o) => Json::Obj(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        }
    }

    fn to_value(j: Json, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::U64(u) => Value::from(u),
            Json::I64(i) => Value::from(i),
            Json::F64(bits) => Value::Number(Number::from_f64(f64::from_bits(bits))?),
            Json::Str(s) => Value::String(s),
            Json::Arr(a) => Value::Array(
                a.into_iter()
                    .map(|x| to_value(x, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Json::Obj(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| to_value(v, depth + 1).map(|v| (k, v)))
                    .collect::<Option<Map<String, Value>>>()?,
            ),
        })
    }

    pub(crate) fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        to_json(v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let j = Json::deserialize(d)?;
        to_value(j, 0).ok_or_else(|| D::Error::custom("a JSON literal too deep or not finite"))
    }
}

/// `deserialize_with` for the recursive parts of a condition (and of a
/// JSON literal): counts how deep the load is and refuses past
/// [`MAX_NESTING`], so a crafted file cannot exhaust the stack.
pub(crate) fn nested<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    let depth = NESTING.with(|n| {
        let depth = n.get() + 1;
        n.set(depth);
        depth
    });
    let out = if depth > MAX_NESTING {
        Err(D::Error::custom("a condition nested too deeply"))
    } else {
        T::deserialize(d)
    };
    NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    out
}

/// Far above any compiled condition (a playbook's are at most 24 levels of
/// JSON), far below what the stack holds.
const MAX_NESTING: usize = 200;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
