//! Visitor-state strings, signed: the input is the raw state bytes without
//! the tag; the target sets the "signed" flag, appends the HMAC tag of the
//! fixed secret (so the fuzzer gets past the signature and reaches the body
//! decoder under `verified = true`), base64url-encodes them and decodes with
//! the secret. The same bytes with a flipped tag bit, or with no tag at all,
//! must be refused.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use buyerpath_fuzz::{example_engine, exercise, request, EVENTS, SECRET};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let engine = example_engine();
    let mut raw = data.to_vec();
    if let Some(flags) = raw.get_mut(2) {
        *flags = 1;
    }
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    m.update(&raw);
    let tag = m.finalize().into_bytes();
    raw.extend_from_slice(&tag[..16]);
    let good = URL_SAFE_NO_PAD.encode(&raw);
    // A wrong tag never verifies.
    if let Some(last) = raw.last_mut() {
        *last ^= 1;
    }
    let forged = URL_SAFE_NO_PAD.encode(&raw);
    assert!(
        engine.decode(&forged, Some(SECRET)).is_err(),
        "a forged tag was accepted"
    );
    // Without the tag (a fuzzer cannot compute an HMAC), it is refused too.
    assert!(
        engine
            .decode(&URL_SAFE_NO_PAD.encode(data), Some(SECRET))
            .is_err(),
        "an untagged state was accepted with a secret"
    );
    let Ok(decoded) = engine.decode(&good, Some(SECRET)) else {
        return;
    };
    assert!(decoded.verified);
    let mut v = decoded.visitor;
    for ev in EVENTS {
        let _ = engine.observe_json(&mut v, ev);
    }
    exercise(engine, &mut v, &request());
});
