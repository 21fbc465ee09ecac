//! Named lists for the `$inList` condition operator (e.g. target accounts,
//! competitors, free-mail domains).
//!
//! A list is either *clear* (its members are stored normalised) or *hashed*
//! (its members are the lowercase hex SHA-256 of `salt + normalised value`, so
//! a playbook shipped to browsers does not reveal, say, a target-account list).
//! Each list has a [`ListKind`] that decides how values are normalised before
//! comparison or hashing: `domain` (the default, see [`normalize_domain`]) or
//! `text` (trimmed and lowercased).
//!
//! Members live in `BTreeSet`s, so lookups are `O(log n)` and nothing depends
//! on hash-map iteration order.

use crate::condition::path::key_path;
use crate::error::Issue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// How a list's values are normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub enum ListKind {
    /// Domains: see [`normalize_domain`]. The default.
    #[default]
    Domain,
    /// Plain text: trimmed and lowercased.
    Text,
}

impl ListKind {
    /// Every kind's name, as written in a playbook.
    pub const NAMES: [&'static str; 2] = ["domain", "text"];

    /// Parses `"domain"` or `"text"`.
    pub fn parse(s: &str) -> Option<ListKind> {
        match s {
            "domain" => Some(ListKind::Domain),
            "text" => Some(ListKind::Text),
            _ => None,
        }
    }

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Domain => "domain",
            ListKind::Text => "text",
        }
    }

    /// Normalises a value the way lists of this kind compare it.
    pub fn normalize(self, value: &str) -> String {
        self.key(value).into_owned()
    }

    /// [`ListKind::normalize`], borrowing the value when it is already
    /// normal (a request's `company.domain` usually is): no copy.
    pub(crate) fn key(self, value: &str) -> Cow<'_, str> {
        match self {
            ListKind::Domain => domain_key(value),
            ListKind::Text => text_key(value),
        }
    }
}

/// Normalises a domain, URL or e-mail address to a bare lowercase host:
/// trims, lowercases, strips a scheme (`https://`, `//`), userinfo (`bob@`),
/// path, query, fragment, port, one leading `www.` and trailing dots.
/// `"https://WWW.Acme.com/pricing"` → `"acme.com"`; `"bob@acme.com"` → `"acme.com"`.
pub fn normalize_domain(s: &str) -> String {
    let lower = s.trim().to_lowercase();
    let mut rest: &str = &lower;
    match rest.split_once("://") {
        Some((scheme, after)) if is_scheme(scheme) => rest = after,
        _ => {
            if let Some(after) = rest.strip_prefix("//") {
                rest = after;
            }
        }
    }
    rest = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    if let Some((_, host)) = rest.rsplit_once('@') {
        rest = host;
    }
    if rest.starts_with('[') {
        // IPv6 literal: keep the brackets, drop the port.
        if let Some((host, _)) = rest.split_once(']') {
            rest = host;
        }
        return format!("{rest}]");
    }
    rest = rest.split(':').next().unwrap_or("");
    rest = rest.trim_end_matches('.');
    rest = rest.strip_prefix("www.").unwrap_or(rest);
    rest.trim().to_string()
}

/// Whether a normalised domain names a host, as the engine's signals read
/// a company's domain (see `signals`): for the native tools (the collector
/// groups accounts by it). Not in the Wasm build, where a second caller
/// would cost the inlining of the one the engine has.
#[cfg(not(target_arch = "wasm32"))]
pub fn is_host_name(d: &str) -> bool {
    crate::signals::is_host_name(d)
}

/// [`normalize_domain`], borrowing a value that is already a bare lowercase
/// host (letters, digits, `-` and `.`; no leading `www.`, no trailing dot),
/// which normalising leaves as it is.
pub(crate) fn domain_key(s: &str) -> Cow<'_, str> {
    let bare = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !s.starts_with("www.")
        && !s.ends_with('.');
    if bare {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(normalize_domain(s))
    }
}

/// Normalises plain text: trimmed and lowercased.
pub fn normalize_text(s: &str) -> String {
    s.trim().to_lowercase()
}

/// [`normalize_text`], borrowing ASCII text with no capital and nothing to trim.
fn text_key(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) && s.trim().len() == s.len() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(normalize_text(s))
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Hex SHA-256 (lowercase) of `salt + normalize_domain(value)`: how a member
/// of a hashed `domain` list (the default kind) is stored. Use
/// [`hash_member_as`] for `text` lists.
pub fn hash_member(salt: &str, value: &str) -> String {
    hash_member_as(ListKind::Domain, salt, value)
}

/// Hex SHA-256 (lowercase) of `salt + kind.normalize(value)`.
pub fn hash_member_as(kind: ListKind, salt: &str, value: &str) -> String {
    let mut buf = [0u8; 64];
    hex_sha256(salt, &kind.normalize(value), &mut buf).to_string()
}

/// Writes the lowercase hex SHA-256 of `salt + normalized` into `buf`.
fn hex_sha256<'b>(salt: &str, normalized: &str, buf: &'b mut [u8; 64]) -> &'b str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(normalized.as_bytes());
    let digest = h.finalize();
    for (pair, byte) in buf.chunks_exact_mut(2).zip(digest.iter()) {
        if let [hi, lo] = pair {
            *hi = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
            *lo = HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0');
        }
    }
    std::str::from_utf8(buf).unwrap_or("")
}

/// True for a 64-character lowercase hex string (a stored hashed member).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One named list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub struct NamedList {
    /// How values are normalised.
    pub kind: ListKind,
    /// `Some(salt)` for a hashed list, whose `members` are lowercase hex
    /// SHA-256 digests of `salt + normalised value`; `None` for a clear list,
    /// whose `members` are normalised values.
    pub hashed_salt: Option<String>,
    /// The members (normalised values or digests).
    pub members: BTreeSet<String>,
}

impl NamedList {
    /// A clear list; values are normalised for `kind` (empty results dropped).
    pub fn clear<'a>(kind: ListKind, values: impl IntoIterator<Item = &'a str>) -> Self {
        let members = values
            .into_iter()
            .map(|v| kind.normalize(v))
            .filter(|v| !v.is_empty())
            .collect();
        NamedList {
            kind,
            hashed_salt: None,
            members,
        }
    }

    /// A hashed list from precomputed digests (see [`hash_member_as`]);
    /// digests are lowercased, anything that is not 64 hex characters is dropped.
    pub fn hashed<'a>(
        kind: ListKind,
        salt: &str,
        digests: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let members = digests
            .into_iter()
            .map(str::to_ascii_lowercase)
            .filter(|d| is_sha256_hex(d))
            .collect();
        NamedList {
            kind,
            hashed_salt: Some(salt.to_string()),
            members,
        }
    }

    /// True when `value`, once normalised (and hashed for a hashed list), is a member.
    pub fn contains(&self, value: &str) -> bool {
        let normalized = self.kind.key(value);
        if normalized.is_empty() {
            return false;
        }
        match &self.hashed_salt {
            None => self.members.contains(&*normalized),
            Some(salt) => {
                let mut buf = [0u8; 64];
                self.members
                    .contains(hex_sha256(salt, &normalized, &mut buf))
            }
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when the list has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// All named lists of a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub struct Lists {
    lists: BTreeMap<String, NamedList>,
}

/// A list as written in a playbook: `{"kind": "domain", "values": [...]}` or
/// `{"salt": "...", "values": ["<64 hex>", ...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// `"domain"` (default) or `"text"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Present for a hashed list: values are hex SHA-256 of `salt + normalised value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Members: plain values, or digests when `salt` is set.
    #[serde(default)]
    pub values: Vec<String>,
}

impl Lists {
    /// No lists.
    pub fn new() -> Self {
        Lists::default()
    }

    /// Adds (or replaces) a list.
    pub fn insert(&mut self, name: String, list: NamedList) {
        self.lists.insert(name, list);
    }

    /// The list called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedList> {
        self.lists.get(name)
    }

    /// True when list `name` exists and contains `value` (normalised, hashed if needed).
    pub fn contains(&self, name: &str, value: &str) -> bool {
        self.lists.get(name).is_some_and(|l| l.contains(value))
    }

    /// List names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    /// Number of lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// True when there are no lists.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Builds lists from their playbook form, validating them. Issue paths are
    /// rooted at `path` (e.g. `"$.lists"` → `"$.lists.targets.values[2]"`).
    /// Codes: `invalid_list_name` (empty name), `unknown_list_kind`,
    /// `invalid_list_salt` (empty salt), `invalid_list_hash` (a hashed value
    /// that is not 64 lowercase hex characters), `invalid_list_value` (a clear
    /// value that normalises to nothing). Invalid values are skipped; a list
    /// with an invalid name, kind or salt is left out.
    pub fn from_specs(specs: &BTreeMap<String, ListSpec>, path: &str) -> (Lists, Vec<Issue>) {
        let mut lists = Lists::new();
        let mut issues = Vec::new();
        for (name, spec) in specs {
            let lpath = key_path(path, name);
            if name.trim().is_empty() {
                issues.push(
                    Issue::new("invalid_list_name", lpath, "A list name must not be empty.")
                        .expected("a non-empty name such as `target_accounts`")
                        .found(format!("{name:?}"))
                        .hint("name the list, or remove it"),
                );
                continue;
            }
            let kind = match spec.kind.as_deref() {
                None => ListKind::Domain,
                Some(k) => match ListKind::parse(k) {
                    Some(kind) => kind,
                    None => {
                        issues.push(
                            Issue::new(
                                "unknown_list_kind",
                                format!("{lpath}.kind"),
                                "Unknown list kind.",
                            )
                            .expected("`domain` or `text`")
                            .found(format!("{k:?}"))
                            .hint_or(
                                crate::suggest::did_you_mean(k, ListKind::NAMES),
                                crate::error::ONE_OF_EXPECTED,
                            ),
                        );
                        continue;
                    }
                },
            };
            let list = match &spec.salt {
                Some(salt) if salt.is_empty() => {
                    issues.push(
                        Issue::new(
                            "invalid_list_salt",
                            format!("{lpath}.salt"),
                            "A hashed list's salt must not be empty.",
                        )
                        .expected("a random string, the same one used to hash the values")
                        .hint("remove `salt` for a clear list"),
                    );
                    continue;
                }
                Some(salt) => {
                    let mut members = BTreeSet::new();
                    for (i, v) in spec.values.iter().enumerate() {
                        if is_sha256_hex(v) {
                            members.insert(v.clone());
                        } else {
                            issues.push(
                                Issue::new(
                                    "invalid_list_hash",
                                    format!("{lpath}.values[{i}]"),
                                    "A hashed list's values must be SHA-256 digests.",
                                )
                                .expected("64 lowercase hexadecimal characters")
                                .found(format!("{v:?}"))
                                .hint("hash each value as hex(sha256(salt + normalised value)), or remove `salt`"),
                            );
                        }
                    }
                    NamedList {
                        kind,
                        hashed_salt: Some(salt.clone()),
                        members,
                    }
                }
                None => {
                    let mut members = BTreeSet::new();
                    for (i, v) in spec.values.iter().enumerate() {
                        let n = kind.normalize(v);
                        if n.is_empty() {
                            issues.push(
                                Issue::new(
                                    "invalid_list_value",
                                    format!("{lpath}.values[{i}]"),
                                    "This value is empty once normalised.",
                                )
                                .expected(if kind == ListKind::Domain {
                                    "a domain such as `acme.com`"
                                } else {
                                    "non-empty text"
                                })
                                .found(format!("{v:?}"))
                                .hint("remove the value from the list"),
                            );
                        } else {
                            members.insert(n);
                        }
                    }
                    NamedList {
                        kind,
                        hashed_salt: None,
                        members,
                    }
                }
            };
            lists.insert(name.clone(), list);
        }
        (lists, issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The borrowing fast paths give what the full normalisation gives, on
    /// values near their edges (capitals, `www.`, dots, ports, paths,
    /// whitespace, non-ASCII).
    #[test]
    fn keys_equal_the_normal_forms() {
        let mut next = crate::testing::xorshift(0x51f1_5eed_0bad_cafe);
        let parts = [
            "acme", "com", ".", "-", "www.", "WWW.", "A", "9", ":", "8080", "/", "?", "#", "@",
            "//", "https://", " ", "\t", "\u{b}", "é", "É", "[", "]", "x",
        ];
        for _ in 0..20_000 {
            let len = (next() % 7) as usize;
            let v: String = (0..len)
                .map(|_| parts[(next() % parts.len() as u64) as usize])
                .collect();
            assert_eq!(domain_key(&v), normalize_domain(&v), "{v:?}");
            assert_eq!(text_key(&v), normalize_text(&v), "{v:?}");
        }
        assert!(matches!(domain_key("northbank.example"), Cow::Borrowed(_)));
        assert!(matches!(text_key("fintech"), Cow::Borrowed(_)));
    }

    #[test]
    fn domains() {
        assert_eq!(normalize_domain("https://WWW.Acme.com/pricing"), "acme.com");
        assert_eq!(normalize_domain("  acme.com.  "), "acme.com");
        assert_eq!(
            normalize_domain("http://user:pw@sub.acme.com:8080/x?y#z"),
            "sub.acme.com"
        );
        assert_eq!(normalize_domain("bob@Acme.COM"), "acme.com");
        assert_eq!(normalize_domain("mailto:bob@acme.com"), "acme.com");
        assert_eq!(normalize_domain("//www.acme.com"), "acme.com");
        assert_eq!(normalize_domain("acme.com?utm=1"), "acme.com");
        assert_eq!(normalize_domain("wwwacme.com"), "wwwacme.com");
        assert_eq!(normalize_domain("https://[::1]:8080/"), "[::1]");
        assert_eq!(normalize_domain("https://"), "");
        assert_eq!(normalize_domain(""), "");
    }

    #[test]
    fn hashing_is_stable() {
        // sha256("") known value; salt + value concatenated.
        let mut buf = [0u8; 64];
        assert_eq!(
            hex_sha256("", "", &mut buf),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hash_member("s", "https://www.acme.com/"),
            hash_member("s", "acme.com")
        );
        assert_eq!(
            hash_member("s", "acme.com"),
            hash_member_as(ListKind::Text, "sa", "cme.com")
        );
        assert!(is_sha256_hex(&hash_member("x", "y")));
    }

    #[test]
    fn from_specs_validates() {
        let mut specs = BTreeMap::new();
        specs.insert("".to_string(), ListSpec::default());
        specs.insert(
            "t".to_string(),
            ListSpec {
                kind: Some("txt".into()),
                salt: None,
                values: vec!["a".into()],
            },
        );
        specs.insert(
            "h".to_string(),
            ListSpec {
                kind: None,
                salt: Some("pepper".into()),
                values: vec![hash_member("pepper", "acme.com"), "ABC".into()],
            },
        );
        specs.insert(
            "c".to_string(),
            ListSpec {
                kind: Some("text".into()),
                salt: None,
                values: vec![" Foo ".into(), "  ".into()],
            },
        );
        let (lists, issues) = Lists::from_specs(&specs, "$.lists");
        let codes: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.code.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("invalid_list_name", "$.lists[\"\"]"),
                ("invalid_list_value", "$.lists.c.values[1]"),
                ("invalid_list_hash", "$.lists.h.values[1]"),
                ("unknown_list_kind", "$.lists.t.kind"),
            ]
        );
        assert_eq!(issues[3].hint.as_deref(), Some("did you mean `text`?"));
        assert_eq!(lists.names().collect::<Vec<_>>(), vec!["c", "h"]);
        assert!(lists.contains("h", "https://www.ACME.com/about"));
        assert!(!lists.contains("h", "acme.org"));
        assert!(lists.contains("c", "FOO"));
        assert!(!lists.contains("c", ""));
        assert!(!lists.contains("missing", "foo"));
    }
}
