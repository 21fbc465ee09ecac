//! The state's wire form: a compact versioned binary encoding, optionally
//! HMAC-SHA256 signed, as a cookie-safe base64url string.
//!
//! Layout (version 2): magic `B`, version, flags (bit 0: signed), playbook id
//! hash (u32 LE), then the fields in declaration order as varints, fixed u32
//! hashes and length-prefixed lists (`valued_at` as its distance back from
//! `anchor`); a signed state ends with a 16-byte tag. Version 1, written
//! before `valued_at` existed, is version 2 without it, its aggregates in
//! thousandths valued at `anchor`, and is still read.
//! Every later version must end the same way (the tag over all bytes before
//! it, with the same key): decode checks the tag of another version before
//! refusing it, which is how a host tells its own old state (`state_version`)
//! from another key's.

use super::varint::{put_i, put_str, put_u, put_u32, Reader};
use super::{Evidence, Recent, RuleAgg, VisitorState};
use crate::context::Campaign;
use crate::error::{Error, Issue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAGIC: u8 = b'B';
const VERSION: u8 = 2;
/// The version before `valued_at`: read, never written.
const VERSION_1: u8 = 1;
const TAG_LEN: usize = 16;
use super::{MAX_TOPICS, MAX_VALUE};
/// Longest encoded state accepted by `decode_state`.
pub const MAX_ENCODED_LEN: usize = 8192;

/// Encodes a state for a playbook (by id hash), signing it when a secret is given.
pub fn encode_state(s: &VisitorState, playbook_hash: u32, secret: Option<&[u8]>) -> String {
    let mut o = Vec::with_capacity(512);
    o.push(MAGIC);
    o.push(VERSION);
    o.push(u8::from(secret.is_some()));
    put_u32(&mut o, playbook_hash);
    put_u(&mut o, u64::from(s.revision));
    put_str(&mut o, &s.visitor_id);
    put_u(&mut o, s.first_seen);
    put_u(&mut o, s.anchor);
    put_u(&mut o, s.anchor.saturating_sub(s.valued_at));
    for v in [s.events, s.ignored, s.seq] {
        put_u(&mut o, u64::from(v));
    }
    put_u(&mut o, s.rules.len() as u64);
    for r in &s.rules {
        put_u32(&mut o, r.hash);
        put_i(&mut o, r.micro);
        put_u(&mut o, u64::from(r.cap_day));
        put_i(&mut o, r.cap_used);
    }
    for list in [&s.stages, &s.roles, &s.topics] {
        put_u(&mut o, list.len() as u64);
        for e in list {
            put_u32(&mut o, e.hash);
            put_i(&mut o, e.micro);
        }
    }
    put_u(&mut o, s.consumed.len() as u64);
    for c in &s.consumed {
        put_u32(&mut o, *c);
    }
    put_u(&mut o, s.recent.len() as u64);
    for r in &s.recent {
        put_u(&mut o, s.anchor.saturating_sub(r.ts));
        o.push(r.kind | if r.burst { 0x80 } else { 0 });
        put_u32(&mut o, r.content);
        put_u(&mut o, u64::from(r.dwell));
    }
    put_u(&mut o, s.bant.len() as u64);
    for (d, b) in &s.bant {
        put_u32(&mut o, *d);
        put_u32(&mut o, *b);
    }
    put_u(&mut o, s.hand_raise);
    put_u32(&mut o, s.stage);
    o.push(s.lifecycle);
    put_u(&mut o, s.fired.len() as u64);
    for f in &s.fired {
        put_u32(&mut o, *f);
    }
    o.push(s.fit_score);
    o.push(s.fit_tier);
    put_u32(&mut o, s.title_role);
    o.push(s.title_strength);
    put_u32(&mut o, s.seniority);
    put_u32(&mut o, s.classified);
    for c in [&s.first_touch, &s.last_touch] {
        match c {
            None => o.push(0),
            Some(c) => {
                o.push(1);
                for f in [&c.source, &c.medium, &c.name] {
                    put_str(&mut o, f.as_deref().unwrap_or(""));
                }
            }
        }
    }
    if let Some(key) = secret {
        let tag = mac(key, &o);
        o.extend_from_slice(tag.get(..TAG_LEN).unwrap_or(&tag));
    }
    URL_SAFE_NO_PAD.encode(&o)
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(), // HMAC accepts keys of any length; unreachable in practice
    }
}

fn bad(code: &str, msg: &str) -> Error {
    Issue::new(code, "$.state", msg.to_string())
        .hint("start a fresh visitor: the stored state is not usable")
        .into()
}

/// `raw` cut before its tag, and the tag.
fn untagged(raw: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let cut = raw
        .len()
        .checked_sub(TAG_LEN)
        .ok_or_else(|| bad("state_truncated", "the state is truncated"))?;
    Ok(raw.split_at(cut))
}

/// `raw` without its tag, once the tag is checked with `key`. Not inlined:
/// the HMAC is large, and decode checks a tag in two places.
#[inline(never)]
fn verify<'a>(raw: &'a [u8], key: &[u8]) -> Result<&'a [u8], Error> {
    let forged = || {
        bad(
            "state_bad_signature",
            "the state's signature does not match: forged or signed with another key",
        )
    };
    let (body, tag) = untagged(raw)?;
    let mut m = Hmac::<Sha256>::new_from_slice(key).map_err(|_| forged())?;
    m.update(body);
    m.verify_truncated_left(tag).map_err(|_| forged())?;
    Ok(body)
}

/// Decodes a state string. With a secret, the state must be signed with it;
/// without one, signed states are read but not verified. Returns the state and
/// whether its signature was verified.
pub fn decode_state(
    text: &str,
    playbook_hash: u32,
    secret: Option<&[u8]>,
) -> Result<(VisitorState, bool), Error> {
    if text.len() > MAX_ENCODED_LEN {
        return Err(bad("state_too_large", "the state string is too long"));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| bad("state_not_base64", "the state is not base64url"))?;
    if raw.first() != Some(&MAGIC) {
        return Err(bad("state_garbage", "not a buyerpath state"));
    }
    // Another version is refused after its tag is checked with the secret
    // (every version's string ends in it), so that a host tells its own old
    // state (`state_version`) from one another key signed.
    let version = raw.get(1).copied();
    if version != Some(VERSION) && version != Some(VERSION_1) {
        if let Some(key) = secret {
            verify(&raw, key)?;
        }
        return Err(bad("state_version", "unsupported state encoding version"));
    }
    let signed = match raw.get(2) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(bad("state_garbage", "unknown state flags")),
    };
    let body = match secret {
        Some(key) if signed => verify(&raw, key)?,
        Some(_) => {
            return Err(bad(
                "state_unsigned",
                "a signed state was required but this one is unsigned",
            ))
        }
        None if signed => untagged(&raw)?.0,
        None => raw.as_slice(),
    };
    let mut r = Reader::new(body.get(3..).unwrap_or(&[]));
    let st = read_body(&mut r, playbook_hash, version == Some(VERSION_1))?;
    if !r.at_end() {
        return Err(bad("state_garbage", "trailing bytes after the state"));
    }
    Ok((st, signed && secret.is_some()))
}

fn read_body(r: &mut Reader<'_>, playbook_hash: u32, v1: bool) -> Result<VisitorState, Error> {
    let trunc = || bad("state_truncated", "the state is truncated or corrupt");
    let ph = r.u32().ok_or_else(trunc)?;
    if ph != playbook_hash {
        return Err(Issue::new(
            "state_foreign_playbook",
            "$.state",
            "the state belongs to another playbook",
        )
        .hint("start a fresh visitor for this playbook")
        .into());
    }
    let revision = r.u_32().ok_or_else(trunc)?;
    let visitor_id = r.str(64).ok_or_else(trunc)?;
    let first_seen = r.u().ok_or_else(trunc)?;
    let anchor = r.u().ok_or_else(trunc)?;
    // Version 1 valued the aggregates at the latest event, in thousandths.
    let back = if v1 { 0 } else { r.u().ok_or_else(trunc)? };
    let old_units = |v: i64| if v1 { v.saturating_mul(1000) } else { v };
    let mut s = VisitorState {
        revision,
        visitor_id,
        first_seen,
        anchor,
        valued_at: anchor.checked_sub(back).ok_or_else(trunc)?,
        events: r.u_32().ok_or_else(trunc)?,
        ignored: r.u_32().ok_or_else(trunc)?,
        seq: r.u_32().ok_or_else(trunc)?,
        ..VisitorState::default()
    };
    super::check_visitor_id(&s.visitor_id)
        .map_err(|_| bad("state_garbage", "invalid visitor id in state"))?;
    let n = r.len(256).ok_or_else(trunc)?;
    for _ in 0..n {
        s.rules.push(RuleAgg {
            hash: r.u32().ok_or_else(trunc)?,
            micro: old_units(r.i().ok_or_else(trunc)?),
            cap_day: r.u_32().ok_or_else(trunc)?,
            cap_used: r.i().ok_or_else(trunc)?,
        });
    }
    for list in [&mut s.stages, &mut s.roles, &mut s.topics] {
        let n = r.len(MAX_TOPICS).ok_or_else(trunc)?;
        for _ in 0..n {
            let e = Evidence {
                hash: r.u32().ok_or_else(trunc)?,
                micro: old_units(r.i().ok_or_else(trunc)?),
            };
            if e.micro < 0 {
                return Err(trunc());
            }
            list.push(e);
        }
    }
    let n = r.len(256).ok_or_else(trunc)?;
    for _ in 0..n {
        s.consumed.push(r.u32().ok_or_else(trunc)?);
    }
    let n = r.len(64).ok_or_else(trunc)?;
    for _ in 0..n {
        let back = r.u().ok_or_else(trunc)?;
        let kb = r.u8().ok_or_else(trunc)?;
        s.recent.push(Recent {
            ts: s.anchor.checked_sub(back).ok_or_else(trunc)?,
            kind: kb & 0x7f,
            burst: kb & 0x80 != 0,
            content: r.u32().ok_or_else(trunc)?,
            dwell: r.u_32().ok_or_else(trunc)?,
        });
    }
    let n = r.len(64).ok_or_else(trunc)?;
    for _ in 0..n {
        s.bant
            .push((r.u32().ok_or_else(trunc)?, r.u32().ok_or_else(trunc)?));
    }
    s.hand_raise = r.u().ok_or_else(trunc)?;
    s.stage = r.u32().ok_or_else(trunc)?;
    s.lifecycle = r.u8().ok_or_else(trunc)?;
    let n = r.len(64).ok_or_else(trunc)?;
    for _ in 0..n {
        s.fired.push(r.u32().ok_or_else(trunc)?);
    }
    s.fit_score = r.u8().ok_or_else(trunc)?;
    s.fit_tier = r.u8().ok_or_else(trunc)?;
    s.title_role = r.u32().ok_or_else(trunc)?;
    s.title_strength = r.u8().ok_or_else(trunc)?;
    s.seniority = r.u32().ok_or_else(trunc)?;
    s.classified = r.u32().ok_or_else(trunc)?;
    for slot in [&mut s.first_touch, &mut s.last_touch] {
        match r.u8().ok_or_else(trunc)? {
            0 => {}
            1 => {
                let mut f = || -> Option<Option<String>> {
                    let v = r.str(256)?;
                    Some((!v.is_empty()).then_some(v))
                };
                *slot = Some(Campaign {
                    source: f().ok_or_else(trunc)?,
                    medium: f().ok_or_else(trunc)?,
                    name: f().ok_or_else(trunc)?,
                });
            }
            _ => return Err(trunc()),
        }
    }
    let sorted = |v: &[u32]| v.windows(2).all(|w| matches!(w, [a, b] if a < b));
    // Times an event can have (to the end of 9999): a state beyond never decays.
    let ok = s.anchor <= crate::event::MAX_TS
        && s.first_seen <= crate::event::MAX_TS
        && s.lifecycle < 4
        && s.title_strength <= 100
        && (s.fit_score <= 100 || s.fit_score == 255)
        && sorted(&s.rules.iter().map(|x| x.hash).collect::<Vec<_>>())
        && [&s.stages, &s.roles, &s.topics]
            .iter()
            .all(|l| sorted(&l.iter().map(|x| x.hash).collect::<Vec<_>>()))
        && sorted(&s.fired)
        && sorted(&s.bant.iter().map(|x| x.0).collect::<Vec<_>>())
        // Values a real history can reach (1e15 millionths: 1e9 points; a cap's count, in thousandths, within the same bound): no overflow downstream.
        && s.rules.iter().all(|r| r.micro.unsigned_abs() <= MAX_VALUE && (0..=MAX_VALUE as i64).contains(&r.cap_used))
        && [&s.stages, &s.roles, &s.topics].iter().all(|l| l.iter().all(|e| e.micro as u64 <= MAX_VALUE))
        && s.recent
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.ts <= b.ts));
    if !ok {
        return Err(bad("state_garbage", "the state is inconsistent"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::event::MAX_TS;

    /// A hand-made state with a time past the end of 9999 (which no event
    /// has) is refused: valued there, it would never decay.
    #[test]
    fn times_past_the_end_of_9999_are_refused() {
        for (first_seen, anchor, ok) in [
            (0, MAX_TS, true),
            (MAX_TS, MAX_TS, true),
            (0, MAX_TS + 1, false),
            (0, u64::MAX, false),
            (MAX_TS + 1, MAX_TS, false),
        ] {
            let s = VisitorState {
                visitor_id: "v-1".into(),
                first_seen,
                anchor,
                valued_at: anchor,
                ..VisitorState::default()
            };
            let got = decode_state(&encode_state(&s, 7, None), 7, None).map(|(s, _)| s.anchor);
            match got {
                Ok(a) => assert!(ok && a == anchor, "{first_seen} {anchor}"),
                Err(e) => assert!(
                    !ok && e.code() == "state_garbage",
                    "{first_seen} {anchor}: {e}"
                ),
            }
        }
    }
}
