//! The compiled engine as bytes (feature `compiled`): what `buyerpath
//! compile` writes and a build without the JSON playbook compiler loads.
//!
//! Layout: the 4 bytes `BPE6` (the layout's number; earlier layouts, `BPE1`
//! to `BPE5`, are refused as another version's; since `BPE5` a regex's source
//! is JavaScript's syntax, read by js_regex.rs; `BPE6` adds the roles'
//! department phrases), the crate version as a
//! length-prefixed string, the XXH64 checksum of the rest (8 bytes, little
//! endian), then the engine in postcard (serde's derives on the engine's
//! types). A file is read only by the version that wrote it: the
//! engine's types are not a stable format, and the CLI that writes the file
//! ships with the package that reads it. A regex is stored as its source and
//! built again on load, within the same limits; an attribute path as its
//! text, split again on load; a condition literal compared as a whole
//! (`DeepEq`) keeps its numbers bit for bit.
//!
//! Loading checks the header and the checksum (a flipped bit anywhere in the
//! engine is refused, not loaded as another engine: a title or a weight
//! would pass every structural check), reads the engine without trusting a length
//! beyond the bytes given (nesting bounded, regex sources held to the
//! playbook's length limit, nothing left over), then checks what every
//! compiled engine satisfies ([`super::invariants`]: sizes within the
//! playbook limits, indices in range, indexes sorted). A damaged or changed
//! file fails with `engine_file_invalid`, another version's with
//! `engine_file_version`; neither panics.

use super::Engine;
use crate::condition::tree::Pattern;
use crate::error::{Error, Issue};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first bytes of an engine file.
pub const MAGIC: &[u8; 4] = b"BPE6";

/// The first bytes of the files of earlier layouts.
const OLDER: [&[u8; 4]; 5] = [b"BPE1", b"BPE2", b"BPE3", b"BPE4", b"BPE5"];

/// The version that writes and reads engine files.
const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Engine {
    /// The compiled engine as bytes, for [`Engine::from_bytes`] of the same
    /// crate version. Writing into memory fails only on a value postcard
    /// cannot write, which the tests rule out for every part of an engine.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let body = postcard::to_allocvec(self).map_err(|e| {
            Error::one(
                Issue::new(
                    "internal",
                    "$",
                    format!("The engine could not be written as bytes ({e})."),
                )
                .hint("Report this, with the playbook."),
            )
        })?;
        let mut out = Vec::with_capacity(MAGIC.len() + 1 + VERSION.len() + 8 + body.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION.len() as u8);
        out.extend_from_slice(VERSION.as_bytes());
        out.extend_from_slice(&checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Loads an engine written by [`Engine::to_bytes`] of this version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, Error> {
        let body = after_header(bytes)?;
        let (sum, body) = body
            .split_first_chunk::<8>()
            .ok_or_else(|| invalid("The engine file ends inside its checksum."))?;
        if u64::from_le_bytes(*sum) != checksum(body) {
            return Err(invalid(
                "The engine file is damaged: its checksum does not match its bytes.",
            ));
        }
        let engine = match postcard::take_from_bytes::<Engine>(body) {
            Ok((engine, [])) => engine,
            Ok((_, rest)) => {
                return Err(invalid(&format!(
                    "The engine file has {} bytes after the engine.",
                    rest.len()
                )))
            }
            Err(e) => {
                return Err(invalid(&format!(
                    "The engine file is damaged or truncated ({e})."
                )))
            }
        };
        super::invariants::check(&engine)
            .map_err(|what| invalid(&format!("The engine file is inconsistent: {what}.")))?;
        Ok(engine)
    }
}

/// Bytes this long hold an engine file's header whatever its version's
/// length: the magic, the version's length and the version (up to 255 bytes).
pub const HEADER_MAX: usize = 4 + 1 + 255;

/// Checks the start of an engine file (its first [`HEADER_MAX`] bytes, or
/// the whole file when shorter) as [`Engine::from_bytes`] does, without the
/// rest: a host holding a large buffer can refuse one that is no engine
/// file of this version before copying it anywhere.
pub fn check_header(head: &[u8]) -> Result<(), Error> {
    after_header(head).map(|_| ())
}

/// The bytes after the magic and the version (the checksum, then the body),
/// or why these are not an engine file of this version.
fn after_header(bytes: &[u8]) -> Result<&[u8], Error> {
    if OLDER.iter().any(|m| bytes.starts_with(m.as_slice())) {
        return Err(another_version(
            "The engine file was written by an earlier version of buyerpath (an older layout).",
            "an older layout",
        ));
    }
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        invalid(&format!(
            "These bytes are not a compiled buyerpath engine (no `{}` header).",
            String::from_utf8_lossy(MAGIC)
        ))
    })?;
    let (&len, rest) = rest
        .split_first()
        .ok_or_else(|| invalid("The engine file ends before its version."))?;
    let (version, body) = rest
        .split_at_checked(usize::from(len))
        .ok_or_else(|| invalid("The engine file ends inside its version."))?;
    if version != VERSION.as_bytes() {
        // A version is a short printable name: anything else is damage, not
        // bytes to write into the error.
        if !version.iter().all(u8::is_ascii_graphic) || version.len() > 64 {
            return Err(invalid("The engine file's version is damaged."));
        }
        return Err(another_version(
            "The engine file was written by another version of buyerpath.",
            &String::from_utf8_lossy(version),
        ));
    }
    Ok(body)
}

/// The engine bytes' checksum: XXH64 (seed 0), made to catch damage in
/// storage or transit at ~10 GB/s natively; not a signature (whoever can
/// write the file can write a valid one).
fn checksum(body: &[u8]) -> u64 {
    xxhash_rust::xxh64::xxh64(body, 0)
}

fn another_version(message: &str, found: &str) -> Error {
    Error::one(
        Issue::new("engine_file_version", "$", message)
            .expected(VERSION)
            .found(found.to_string())
            .hint("Compile the playbook again with the CLI of this version: `buyerpath compile`."),
    )
}

fn invalid(message: &str) -> Error {
    Error::one(
        Issue::new("engine_file_invalid", "$", message)
            .hint("Write it again with `buyerpath compile`, and send it as bytes, unchanged."),
    )
}

/// An attribute path is stored as written and split on load as the
/// compiler splits it: its segments, root and key hash cannot disagree with
/// its text, whatever the file holds.
impl Serialize for crate::condition::Path {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (*self.raw).serialize(s)
    }
}

impl<'de> Deserialize<'de> for crate::condition::Path {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Self::new(&raw))
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&*self.source, self.insensitive).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
        let (source, insensitive) = <(String, bool)>::deserialize(d)?;
        // The playbook's limit on a pattern's length, as when it was compiled.
        if source.chars().count() > crate::condition::MAX_REGEX_LEN {
            return Err(D::Error::custom("a regular expression too long"));
        }
        Pattern::build(&source, insensitive).map_err(D::Error::custom)
    }
}

/// Loads one recursive part (a condition node or test, a JSON literal's
/// value) with `inner`, its derived reader, counting how deep the load is:
/// past [`MAX_NESTING`] it fails, so a crafted file cannot exhaust the stack.
/// Every cycle of the condition types passes through `Node` or `Test`.
fn nested<'de, D: Deserializer<'de>, T>(
    d: D,
    inner: impl FnOnce(D) -> Result<T, D::Error>,
) -> Result<T, D::Error> {
    let depth = NESTING.with(|n| {
        let depth = n.get() + 1;
        n.set(depth);
        depth
    });
    // Counted down however `inner` ends (an error, or an unwinding panic natively).
    let _level = Level;
    if depth > MAX_NESTING {
        return Err(D::Error::custom("a condition nested too deeply"));
    }
    inner(d)
}

/// One level of [`nested`], left when dropped.
struct Level;

impl Drop for Level {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// The serde impls of a recursive type whose derives are `remote = "Self"`
/// (inherent `serialize`/`deserialize`): writing as derived, reading through
/// [`nested`].
macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$t>::serialize(self, s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                nested(d, <$t>::deserialize)
            }
        }
    )*};
}
bounded!(crate::condition::tree::Node, crate::condition::tree::Test);

/// `$in` sets are searched by bisection: a loaded one is sorted again, so a
/// file written out of order still decides as its playbook does.
impl Serialize for crate::condition::InSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Self::serialize(self, s)
    }
}
impl<'de> Deserialize<'de> for crate::condition::InSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::deserialize(d).map(Self::sorted)
    }
}

/// Far above any compiled condition (a playbook's are at most 24 levels of
/// JSON), far below what the stack holds.
const MAX_NESTING: usize = 200;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A JSON value in a format without self-description: the value as a tree
/// of tagged parts, numbers as their exact integer or `f64` bits.
pub(crate) mod json_value {
    use super::nested;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Number, Value};

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "Self")]
    pub(super) enum Json {
        Null,
        Bool(bool),
        U64(u64),
        I64(i64),
        F64(u64),
        Str(String),
        Arr(Vec<Json>),
        Obj(Vec<(String, Json)>),
    }

    bounded!(Json);

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

    /// `None` for a number that is not finite (JSON has none).
    fn to_value(j: Json) -> Option<Value> {
        Some(match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::U64(u) => Value::from(u),
            Json::I64(i) => Value::from(i),
            Json::F64(bits) => Value::Number(Number::from_f64(f64::from_bits(bits))?),
            Json::Str(s) => Value::String(s),
            Json::Arr(a) => Value::Array(a.into_iter().map(to_value).collect::<Option<Vec<_>>>()?),
            Json::Obj(o) => {
                // Inserted one by one: the same map as `collect` (a later
                // duplicate key wins), without a sort compiled for it.
                let mut m = Map::new();
                for (k, v) in o {
                    m.insert(k, to_value(v)?);
                }
                Value::Object(m)
            }
        })
    }

    pub(crate) fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        to_json(v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let j = Json::deserialize(d)?;
        to_value(j).ok_or_else(|| D::Error::custom("a JSON literal with a number not finite"))
    }
}

#[cfg(test)]
mod tests {
    use super::json_value::Json;
    use crate::condition::tree::{Node, Op, Test};
    use crate::Engine;

    fn example() -> Engine {
        Engine::from_json(include_str!("../../examples/acme/playbook.json")).unwrap()
    }

    fn code(bytes: &[u8]) -> String {
        match Engine::from_bytes(bytes) {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("{}: {}", e.issues[0].code, e.issues[0].message),
        }
    }

    /// A daily cap that validation accepts but rounds to no thousandths of a
    /// point loads back: what compiles from JSON loads from bytes.
    #[test]
    fn a_cap_rounding_to_zero_loads_back() {
        let mut pb: serde_json::Value =
            serde_json::from_str(include_str!("../../examples/acme/playbook.json")).unwrap();
        pb["engagement"]["rules"][0]["daily_cap"] = serde_json::json!(0.0004);
        let e = Engine::from_json(&pb.to_string()).unwrap();
        assert_eq!(code(&e.to_bytes().unwrap()), "ok");
    }

    /// Every rule of `invariants::check`, broken once: refused on load with
    /// `engine_file_invalid` (a slot count of usize::MAX would otherwise
    /// reach an allocation).
    #[test]
    fn a_changed_engine_breaking_a_rule_is_refused() {
        let base = example();
        assert_eq!(code(&base.to_bytes().unwrap()), "ok");
        type Change = (&'static str, fn(&mut Engine));
        let changes: Vec<Change> = vec![
            ("a slot's count", |e| e.slots[0].count = usize::MAX),
            ("a slot's count", |e| e.slots[0].count = 0),
            ("a slot's default", |e| e.slots[0].default = e.content.len()),
            ("shortlist", |e| e.recommend.shortlist = 0),
            ("shortlist", |e| e.recommend.shortlist = 1 << 40),
            ("content format", |e| e.content[0].format = e.formats.len()),
            ("content topic", |e| {
                e.content[0].topics.push(e.topics.len())
            }),
            ("content condition out of range", |e| {
                e.content[0].when = Some(e.content_when.len())
            }),
            ("too many content conditions", |e| {
                let c = e.content_when[0].clone();
                e.content_when.resize(e.content.len() + 1, c);
            }),
            ("content index", |e| e.content_by_hash.reverse()),
            ("content index", |e| {
                e.content_by_hash.pop();
            }),
            ("stage reference", |e| e.stages[0].next = Some(99)),
            ("action's content", |e| e.actions[0].cta = Some(usize::MAX)),
            ("engagement trait", |e| {
                e.engagement.rules[0].traits.push(99)
            }),
            ("engagement index", |e| e.engagement.by_hash.reverse()),
            // Sorted, but pointing at another rule than its hash's.
            ("engagement index", |e| {
                let (a, b) = (e.engagement.by_hash[0].1, e.engagement.by_hash[1].1);
                e.engagement.by_hash[0].1 = b;
                e.engagement.by_hash[1].1 = a;
            }),
            // One rule twice, another not at all.
            ("engagement index", |e| {
                e.engagement.by_hash[1] = e.engagement.by_hash[0]
            }),
            ("content index", |e| {
                let (a, b) = (e.content_by_hash[0].1, e.content_by_hash[1].1);
                e.content_by_hash[0].1 = b;
                e.content_by_hash[1].1 = a;
            }),
            ("share an id", |e| {
                let id = e.engagement.rules[0].id.clone();
                e.engagement.rules[1].id = id;
            }),
            ("recent-events limit", |e| e.recent_limit = usize::MAX),
            ("consumed limit", |e| e.consumed_limit = 0),
            ("burst limit", |e| e.engagement.burst_max = e.recent_limit),
            // Numbers: what would break the sampler (a prior below zero
            // recursed without end), the daily caps (a negative cap
            // panicked in clamp), or put NaN in the answers.
            ("prior", |e| e.content[0].beta = -65536.0),
            ("prior", |e| e.content[1].alpha = f64::NEG_INFINITY),
            ("prior", |e| e.content[1].alpha = 0.0),
            ("priority", |e| e.content[0].priority = f64::NAN),
            ("engagement number", |e| {
                let r = e
                    .engagement
                    .rules
                    .iter_mut()
                    .find(|r| r.cap_milli.is_some());
                if let Some(r) = r {
                    r.cap_milli = Some(-10_000);
                }
            }),
            ("engagement number", |e| {
                e.engagement.rules[0].half_life_ms = 0.0
            }),
            ("engagement number", |e| {
                e.engagement.saturation = f64::INFINITY
            }),
            ("fit number", |e| e.criteria[0].weight = f64::NAN),
            ("fit number", |e| {
                e.criteria[0].bands[0].points = f64::INFINITY
            }),
            ("fit number", |e| e.fit_max = f64::NAN),
            ("fit number", |e| e.tiers[0].min = 101.0),
            ("stage number", |e| e.stages[0].prior = f64::INFINITY),
            ("stage number", |e| e.stage_model.hysteresis = f64::NAN),
            ("role number", |e| e.role_model.min_confidence = 2.0),
            ("ranking or holdout", |e| {
                e.recommend.spec.stage_weight = f64::NAN
            }),
            ("ranking or holdout", |e| e.holdout_percent = 51.0),
        ];
        for (what, change) in changes {
            let mut e = base.clone();
            change(&mut e);
            let got = code(&e.to_bytes().unwrap());
            assert!(
                got.starts_with("engine_file_invalid") && got.contains(what),
                "{what}: {got}"
            );
        }
        let mut extra = base.to_bytes().unwrap();
        extra.push(0);
        assert!(code(&extra).contains("checksum does not match"));
        assert!(code(&resum(extra)).contains("1 bytes after the engine"));
    }

    /// `bytes` with its checksum made right again (a change made on purpose,
    /// to reach the checks behind it).
    fn resum(mut bytes: Vec<u8>) -> Vec<u8> {
        let at = 4 + 1 + usize::from(bytes[4]);
        let sum = super::checksum(&bytes[at + 8..]);
        bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
        bytes
    }

    /// A bit flipped anywhere in an engine file (header, checksum or
    /// engine), or the file cut short, is refused: never loaded as another
    /// engine. Without the checksum most flips in the engine loaded, and
    /// some changed decisions (a title, a weight).
    #[test]
    fn a_damaged_file_is_refused_wherever_the_damage_is() {
        let good = example().to_bytes().unwrap();
        let step = (good.len() / 1500).max(1);
        let header = 5 + usize::from(good[4]);
        let mut tried = 0;
        for at in (0..good.len()).step_by(step) {
            for bit in [0u8, 3, 7] {
                let mut bad = good.clone();
                bad[at] ^= 1 << bit;
                let got = code(&bad);
                assert!(
                    got.starts_with("engine_file_invalid")
                        || got.starts_with("engine_file_version"),
                    "byte {at} bit {bit}: {got}"
                );
                if at >= header {
                    assert!(got.contains("checksum does not match"), "byte {at}: {got}");
                }
                tried += 1;
            }
        }
        for len in [0, 3, 4, 10, 20, good.len() / 2, good.len() - 1] {
            assert!(
                code(&good[..len]).starts_with("engine_file_"),
                "{len} bytes"
            );
        }
        assert!(tried >= 3000, "{tried}");
    }

    /// A version damaged into other bytes is not written into the error; a
    /// version of other text is named.
    #[test]
    fn a_damaged_version_is_not_written_into_the_error() {
        let good = example().to_bytes().unwrap();
        let mut bad = good.clone();
        bad[4] = 200;
        let e = Engine::from_bytes(&bad).unwrap_err();
        assert_eq!(
            (e.issues[0].code.as_str(), e.issues[0].found.as_deref()),
            ("engine_file_invalid", None),
            "{e}"
        );
        let mut other = good[..4].to_vec();
        other.push(5);
        other.extend_from_slice(b"9.9.9");
        other.extend_from_slice(&good[5 + usize::from(good[4])..]);
        let e = Engine::from_bytes(&other).unwrap_err();
        assert_eq!(
            (e.issues[0].code.as_str(), e.issues[0].found.as_deref()),
            ("engine_file_version", Some("9.9.9")),
            "{e}"
        );
    }

    /// A regex source longer than a playbook may hold is refused on load.
    #[test]
    fn a_regex_longer_than_the_limit_is_refused() {
        let ok = "a".repeat(crate::condition::MAX_REGEX_LEN);
        let long = format!("{ok}a");
        for (source, loads) in [(ok, true), (long, false)] {
            let p = crate::condition::tree::Pattern::build(&source, false).unwrap();
            let bytes = postcard::to_allocvec(&Op::Regex(p)).unwrap();
            let back = postcard::from_bytes::<Op>(&bytes);
            assert_eq!(back.is_ok(), loads, "{} characters", source.len());
        }
    }

    /// `deep` levels of what `one` wraps around `leaf`: the bytes of `one`
    /// without those of its innermost `leaf`, repeated, then `leaf`.
    fn nest(one: &[u8], leaf: &[u8], deep: usize) -> Vec<u8> {
        let wrap = &one[..one.len() - leaf.len()];
        let mut out = wrap.repeat(deep);
        out.extend_from_slice(leaf);
        out
    }

    /// Conditions and JSON literals nested past the bound (through
    /// `Node`, through `Test` and `Op`, through a JSON array) are refused,
    /// not a stack overflow; within it they load.
    #[test]
    fn nesting_past_the_bound_is_refused_on_every_path() {
        let node_one = postcard::to_allocvec(&Node::Not(Box::new(Node::Never))).unwrap();
        let node_leaf = postcard::to_allocvec(&Node::Never).unwrap();
        let test_one =
            postcard::to_allocvec(&Test::Ops(vec![Op::Not(Box::new(Test::Never))])).unwrap();
        let test_leaf = postcard::to_allocvec(&Test::Never).unwrap();
        let json_one = postcard::to_allocvec(&Json::Arr(vec![Json::Null])).unwrap();
        let json_leaf = postcard::to_allocvec(&Json::Null).unwrap();
        for deep in [150, 100_000] {
            let node = postcard::from_bytes::<Node>(&nest(&node_one, &node_leaf, deep));
            let test = postcard::from_bytes::<Test>(&nest(&test_one, &test_leaf, deep));
            let json = postcard::from_bytes::<Json>(&nest(&json_one, &json_leaf, deep));
            let results = [
                node.map(drop).map_err(|e| e.to_string()),
                test.map(drop).map_err(|e| e.to_string()),
                json.map(drop).map_err(|e| e.to_string()),
            ];
            for r in results {
                if deep < super::MAX_NESTING {
                    assert!(r.is_ok(), "{deep}: {r:?}");
                } else {
                    // postcard reports a custom error without its text.
                    assert!(r.is_err(), "{deep}");
                }
            }
        }
    }
}
