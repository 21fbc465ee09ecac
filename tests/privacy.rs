//! No personal data in signals: journeys with e-mails, IP addresses, names and
//! phone numbers placed in every input that accepts text (page URLs and their
//! query strings and fragments, event URLs, form fields, custom event names,
//! the job title and department, campaign/UTM values, company and account attributes, the
//! page's content id), at every consent level; every signal produced (as
//! JSON) and the encoded state are scanned for each of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::{DecideRequest, Engine, Event};
use common::*;
use serde_json::{json, Value};

/// What a visitor may type or what a URL may carry, and that must never leave.
const EMAIL: &str = "jane.doe@northbank.example";
const EMAIL_ENC: &str = "jane.doe%40northbank.example";
const IPV4: &str = "203.0.113.77";
const IPV6: &str = "2001:db8:85a3::8a2e:370:7334";
const NAME: &str = "Jane Doe";
const SURNAME: &str = "Doe";
const PHONE: &str = "+1 555 0100 7788";

fn needles() -> Vec<&'static str> {
    vec![
        EMAIL,
        EMAIL_ENC,
        "jane.doe",
        "northbank.example/jane",
        IPV4,
        IPV6,
        "2001:db8",
        NAME,
        SURNAME,
        "Jane",
        PHONE,
        "5550100",
        "555 0100",
    ]
}

/// Every place of a URL where personal data shows up in practice.
fn urls() -> Vec<String> {
    vec![
        format!("/demo?email={EMAIL}&ip={IPV4}&name=Jane%20Doe"),
        format!("/unsubscribe/{EMAIL}"),
        format!("/unsubscribe/{EMAIL_ENC}"),
        format!("/contact#{EMAIL}"),
        format!("https://www.lumora.example/pricing?utm_term={EMAIL}#ip={IPV6}"),
        format!("/visitors/{IPV4}/profile"),
        format!("/visitors/{IPV6}"),
        "/call/+15550100778".to_string(),
        format!("/pricing?phone={PHONE}"),
    ]
}

fn events(t0: u64, url: &str) -> Vec<Value> {
    vec![
        json!({"type": "page_view", "ts": t0, "url": url, "dwell_seconds": 30}),
        json!({"type": "page_view", "ts": t0 + 1_000, "content_id": "pricing", "url": url, "dwell_seconds": 45}),
        json!({"type": "form_submit", "ts": t0 + 2_000, "form": "demo_request", "url": url,
            "fields": {"email": EMAIL, "name": NAME, "phone": PHONE, "ip": IPV4, "budget": "$50k-$250k",
                       "timeline": "this quarter", "message": format!("call {NAME} at {PHONE} or {EMAIL} from {IPV6}"),
                       EMAIL: NAME}}),
        json!({"type": "cta_click", "ts": t0 + 3_000, "cta": "demo-request", "url": url}),
        json!({"type": "download", "ts": t0 + 4_000, "content_id": "roi-calculator", "url": url}),
        json!({"type": "search", "ts": t0 + 5_000, "url": url}),
        json!({"type": "custom", "ts": t0 + 6_000, "name": "viewed_profile", "url": url}),
        json!({"type": "page_view", "ts": t0 + 7_000, "content_id": "compare-pipewatch", "url": url, "dwell_seconds": 120}),
    ]
}

fn contexts(consent: &str, url: &str) -> Vec<Value> {
    let company = json!({"domain": "northbank.example", "industry": "financial_services", "employees": 1200,
        "revenue": 300_000_000, "country": "US", "region": "NY", "type": "business",
        "name": NAME, "contact_email": EMAIL, "ip": IPV4, "ipv6": IPV6, "phone": PHONE,
        "tech": ["snowflake", EMAIL, IPV4]});
    let account = json!({"tier": "tier1", "owner": NAME, "owner_email": EMAIL, "last_ip": IPV6});
    let campaign = json!({"source": EMAIL, "medium": IPV4, "name": format!("{NAME} {PHONE}")});
    let campaign2 = json!({"source": "newsletter", "medium": IPV6, "name": EMAIL_ENC});
    let mut out = Vec::new();
    for (person, camp) in [
        (
            json!({"title": format!("VP Engineering ({NAME}, {EMAIL})"),
                "department": format!("Procurement {EMAIL}")}),
            campaign,
        ),
        (
            json!({"title": format!("{NAME} {PHONE} {IPV4}"), "department": NAME}),
            campaign2,
        ),
    ] {
        out.push(
            json!({"consent": consent, "company": company, "account": account, "person": person,
            "campaign": camp, "page": {"url": url}}),
        );
        out.push(
            json!({"consent": consent, "company": company, "person": person, "campaign": camp,
            "page": {"url": url, "content_id": "pricing"}}),
        );
    }
    // The company's domain and the account snapshot themselves as personal values.
    for domain in [
        EMAIL,
        IPV4,
        IPV6,
        &format!("[{IPV6}]"),
        &format!("http://{EMAIL}/x"),
        EMAIL_ENC,
        NAME,
        PHONE,
    ] {
        out.push(json!({"consent": consent, "company": {"domain": domain, "industry": "financial_services",
            "employees": 1200, "country": "US"}, "page": {"url": url}}));
    }
    out
}

fn scan(what: &str, text: &str) {
    for n in needles() {
        assert!(!text.contains(n), "`{n}` leaked into {what}:\n{text}");
    }
}

#[test]
fn no_email_ip_name_or_phone_reaches_a_signal_or_the_state() {
    let engine = example_engine();
    let mut checked = 0usize;
    let mut signals = 0usize;
    for consent in ["anonymous", "full"] {
        for (u, url) in urls().iter().enumerate() {
            for (c, ctx) in contexts(consent, url).into_iter().enumerate() {
                let mut v = engine.visitor(&format!("pii-{consent}-{u}-{c}")).unwrap();
                let mut t = T0;
                for step in 0..3u64 {
                    for e in events(t, url) {
                        // Every event is accepted or refused with an error; never echoed.
                        match Event::from_value(&e) {
                            Ok(e) => {
                                engine.observe(&mut v, &e);
                            }
                            Err(err) => scan("an event error", &format!("{err:?}")),
                        }
                    }
                    t += 10 * MIN + step * DAY;
                    let r = DecideRequest::from_value(
                        &json!({"now": t, "slots": ["hero", "cta", "reading", "sidebar"], "context": ctx}),
                    )
                    .unwrap();
                    let d = engine.decide(&mut v, &r).unwrap();
                    signals += d.signals.len();
                    scan("signals", &serde_json::to_string(&d.signals).unwrap());
                    scan("the encoded state", &engine.encode(&v, None));
                    scan("the signed state", &engine.encode(&v, Some(b"k")));
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 200 && signals > 200,
        "{checked} decisions, {signals} signals"
    );
}

#[test]
fn person_fields_other_than_the_title_and_department_and_personal_visitor_ids_are_refused() {
    let engine = example_engine();
    for person in [
        json!({"email": EMAIL}),
        json!({"name": NAME}),
        json!({"phone": PHONE}),
        json!({"ip": IPV4}),
    ] {
        let bad = DecideRequest::from_value(&json!({"now": T0, "context": {"person": person}}));
        assert_eq!(bad.unwrap_err().code(), "unknown_field");
    }
    for id in [
        EMAIL,
        NAME,
        PHONE,
        IPV4,
        IPV6,
        "::1",
        "10.0.0.1",
        "192.168.001.001",
        "192.168.1.1.",
        "::ffff:192.168.001.001",
    ] {
        let err = engine.visitor(id).unwrap_err();
        assert_eq!(err.code(), "invalid_visitor_id", "{id}");
    }
    // A refused visitor id is reported without echoing it in full.
    assert!(engine
        .visitor("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
        .is_ok());
    let _: &Engine = &engine;
}

/// Real domains are reported as the signals' account, internationalised ones
/// (punycode, or written in their own script with combining marks and
/// joiners) and ones with digits included.
#[test]
fn real_domains_are_the_signals_account() {
    let engine = example_engine();
    for domain in [
        "northbank.example",
        "xn--fiq64b61dzsgz56c3z1a.xn--fiqs8s",
        "क्षेत्र.भारत",
        "เว็บไซต์.ไทย",
        "همراه\u{200c}اول.ایران",
        "123456.com",
        "1800flowers.com",
    ] {
        let mut v = engine.visitor("domains-1").unwrap();
        let ctx = json!({"consent": "anonymous", "company": {"domain": domain, "country": "US"},
            "page": {"url": "/pricing", "content_id": "pricing"}});
        let d = engine.decide(&mut v, &req(T0, ctx)).unwrap();
        assert!(!d.signals.is_empty(), "{domain}");
        for s in &d.signals {
            let text = serde_json::to_value(s).unwrap();
            assert_eq!(
                text["properties"]["account"],
                json!(domain.to_lowercase()),
                "{domain}: {text}"
            );
        }
    }
}
