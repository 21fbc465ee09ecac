//! `buyerpath workload`: the reference benchmark workload, generated from a
//! fixed seed so every run (and every peer) scores the same inputs.
//!
//! Playbooks: the example playbook's rules (gates, 41 fit criteria, 32
//! engagement rules, stages, roles, lifecycle, actions) with a generated
//! catalogue of N items (`playbook-<N>.json`) and 3 slots. Every catalogue
//! starts with the same items (the example items the playbook refers to by id
//! and one of each format, then generated ones in a fixed order), so a smaller catalogue is a prefix
//! of a larger one and the visitors' events name items present in all of them.
//! Holdout is 0% so every decision does the full work.
//!
//! Visitors: `visitors-<N>.json`, 8 visitor profiles (firmographics, title,
//! account) each with N events in sessions over days: page views of the first
//! 50 items with dwell times, CTA clicks, downloads, forms, searches, custom
//! events, and the odd bot-like burst.

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::ExitCode;

/// The example playbook the workload's rules come from.
const BASE: &str = include_str!("../../examples/acme/playbook.json");
/// 2026-11-02T08:20:00Z: the first event of every visitor.
const T0: u64 = 1_793_610_000_000;
/// Catalogue sizes written by default.
pub const CATALOGUES: [usize; 3] = [50, 500, 5000];
/// Visitor sizes (events) written by default.
pub const HISTORIES: [usize; 4] = [1, 20, 200, 2000];
/// Events name only items among the first this many (present in every catalogue).
const SHARED: usize = 50;
/// The decide request's slots.
const SLOTS: [&str; 3] = ["hero", "reading", "cta"];

/// Command-line arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output directory (under target/: generated, not source).
    #[arg(long, default_value = "target/workload")]
    out: std::path::PathBuf,
    /// Catalogue sizes (items, 50 to 5,000), comma-separated [default: 50,500,5000]
    #[arg(long, value_delimiter = ',', default_values_t = CATALOGUES, hide_default_value = true)]
    catalogues: Vec<usize>,
    /// Visitor sizes (events, at most 100,000), comma-separated [default: 1,20,200,2000]
    #[arg(long, value_delimiter = ',', default_values_t = HISTORIES, hide_default_value = true)]
    histories: Vec<usize>,
}

/// SplitMix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi.saturating_sub(lo).saturating_add(1);
        lo.saturating_add(self.next() % span)
    }
    /// One of `xs`, uniformly; `None` for an empty slice (the draw is made
    /// either way, so the sequence does not depend on it).
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        let i = self.below(xs.len());
        xs.get(i)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// The largest catalogue `workload` writes: the most content items a
/// playbook may hold (a larger one would not compile); and the longest
/// history, far past what the benchmarks use (2,000 events), short of
/// gigabytes.
const MAX_ITEMS: usize = buyerpath::playbook::MAX_CONTENT_ITEMS;
const MAX_EVENTS: usize = 100_000;

/// Writes the workload files.
pub fn run(args: &Args) -> Result<ExitCode> {
    // Before anything is written: the visitors' events name the first SHARED
    // items, and the items the rules name come first among them.
    if let Some(n) = args.catalogues.iter().find(|&&n| n < SHARED) {
        bail!("--catalogues: {n} items is too few: a catalogue has at least {SHARED} items (the visitors' events name the first {SHARED})");
    }
    // And at most what a benchmark can use: a size past these is a typo that
    // would allocate gigabytes, or never end.
    if let Some(n) = args.catalogues.iter().find(|&&n| n > MAX_ITEMS) {
        bail!("--catalogues: {n} items is too many: a playbook holds at most {MAX_ITEMS} content items (the reference is 500)");
    }
    if let Some(n) = args.histories.iter().find(|&&n| n > MAX_EVENTS) {
        bail!("--histories: {n} events is too many: at most {MAX_EVENTS} (the reference is 200)");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let base: Value = serde_json::from_str(BASE).context("parsing the example playbook")?;
    let max = args.catalogues.iter().copied().max().unwrap_or(SHARED);
    let catalogue = catalogue(&base, max.max(SHARED), args.seed)?;
    for &n in &args.catalogues {
        let pb = playbook(&base, &catalogue, n)?;
        let text = serde_json::to_string_pretty(&pb)?;
        // Every generated playbook must compile: a workload the engine refuses measures nothing.
        if let Err(e) = buyerpath::Engine::from_json(&text) {
            bail!("generated playbook-{n} does not compile: {e}");
        }
        write(&args.out.join(format!("playbook-{n}.json")), &text)?;
    }
    let shared: Vec<&Value> = catalogue.iter().take(SHARED).collect();
    for &n in &args.histories {
        let v = visitors(&shared, n, args.seed)?;
        write(
            &args.out.join(format!("visitors-{n}.json")),
            &serde_json::to_string(&v)?,
        )?;
    }
    elogln!(
        "workload (seed {}): playbooks {:?} items, visitors {:?} events, in {}",
        args.seed,
        args.catalogues,
        args.histories,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))
}

/// The example items the rest of the playbook names (slot defaults, action
/// CTAs, conditions on `content.id`) and one of each format, then generated
/// items up to `n`.
fn catalogue(base: &Value, n: usize, seed: u64) -> Result<Vec<Value>> {
    let items = base["content"]
        .as_array()
        .context("example playbook has no content")?;
    let mut rest = base.clone();
    if let Some(m) = rest.as_object_mut() {
        m.remove("content");
    }
    let rest_text = rest.to_string();
    let mut out: Vec<Value> = items
        .iter()
        .filter(|c| {
            c["id"]
                .as_str()
                .is_some_and(|id| rest_text.contains(&format!("\"{id}\"")))
        })
        .cloned()
        .collect();
    // Formats exist only through items: keep one example item of each format.
    for c in items {
        let covered = out.iter().any(|o| o["format"] == c["format"]);
        if !covered {
            out.push(c.clone());
        }
    }
    let mut rng = Rng(seed ^ 0xC0FF_EE00);
    // Templates: the example's own mix of formats, stages, roles, topics.
    let mut i = 0usize;
    while out.len() < n {
        let t = rng.pick(items).context("example playbook has no content")?;
        let format = t["format"].as_str().unwrap_or("blog");
        let id = format!("{}-{i:05}", format.replace('_', "-"));
        let mut c = t.clone();
        let m = c.as_object_mut().context("content item is not an object")?;
        m.insert("id".into(), Value::from(id.as_str()));
        m.insert("url".into(), Value::from(format!("/w/{id}")));
        let title = t["title"].as_str().unwrap_or("Untitled");
        m.insert("title".into(), Value::from(format!("{title} (#{i})")));
        // Vary the ranking inputs so candidates do not tie.
        let priority = (rng.unit() * 100.0).round() / 100.0;
        m.insert("priority".into(), json!(priority));
        if rng.chance(0.3) {
            let alpha = rng.range(1, 30);
            let beta = alpha + rng.range(20, 300);
            m.insert("prior".into(), json!({"alpha": alpha, "beta": beta}));
        }
        out.push(c);
        i += 1;
    }
    out.truncate(n);
    Ok(out)
}

fn playbook(base: &Value, catalogue: &[Value], n: usize) -> Result<Value> {
    let mut pb = base.clone();
    let m = pb
        .as_object_mut()
        .context("example playbook is not an object")?;
    m.remove("$schema");
    m.insert("id".into(), Value::from("workload"));
    m.insert(
        "name".into(),
        Value::from(format!("Benchmark workload: the example rules, {n} items")),
    );
    m.insert(
        "content".into(),
        Value::Array(catalogue.iter().take(n).cloned().collect()),
    );
    let slots: Vec<Value> = base["slots"]
        .as_array()
        .context("example playbook has no slots")?
        .iter()
        .filter(|s| s["id"].as_str().is_some_and(|id| SLOTS.contains(&id)))
        .cloned()
        .collect();
    m.insert("slots".into(), Value::Array(slots));
    if let Some(h) = m.get_mut("holdout").and_then(Value::as_object_mut) {
        h.insert("percent".into(), json!(0));
    }
    Ok(pb)
}

/// The visitor profiles: who they are, as the edge/enrichment would say.
fn profiles() -> Vec<(&'static str, Value)> {
    vec![
        (
            "fintech_ny_vp_eng",
            json!({"consent": "full",
                "company": {"domain": "northbank.example", "industry": "financial_services", "employees": 1200, "revenue": 300_000_000, "country": "US", "region": "NY", "type": "business", "funding_stage": "public", "tech": ["snowflake", "dbt", "airflow", "aws", "looker"]},
                "person": {"title": "VP Engineering"}, "account": {"tier": "tier1", "roles_engaged": ["end_user"]}}),
        ),
        (
            "boston_agency",
            json!({"consent": "anonymous",
                "company": {"domain": "brightpixel.example", "industry": "professional_services", "employees": 30, "revenue": 4_000_000, "country": "US", "region": "MA", "type": "business"}}),
        ),
        (
            "german_hospital",
            json!({"consent": "full",
                "company": {"domain": "klinikum-nord.example", "industry": "healthcare", "employees": 4200, "revenue": 600_000_000, "country": "DE", "region": "HH", "type": "nonprofit", "tech": ["azure", "tableau"]},
                "person": {"title": "Head of Data Platform"}}),
        ),
        (
            "student",
            json!({"consent": "anonymous", "company": {"domain": "uni.example", "industry": "education", "type": "education", "country": "GB"}}),
        ),
        (
            "competitor",
            json!({"consent": "full", "company": {"domain": "pipewatch.io", "industry": "software", "employees": 150, "country": "US", "region": "CA", "type": "business"},
                "person": {"title": "Product Marketing Manager"}}),
        ),
        (
            "customer_expansion",
            json!({"consent": "full",
                "company": {"domain": "shopwise.example", "industry": "ecommerce", "employees": 800, "revenue": 120_000_000, "country": "GB", "region": "LND", "type": "business", "funding_stage": "series_c", "tech": ["bigquery", "gcp", "dbt", "fivetran"]},
                "person": {"title": "Data Engineer"}, "account": {"tier": "tier2", "customer": true, "roles_engaged": ["end_user", "technical_evaluator"]}}),
        ),
        (
            "unknown_company",
            json!({"consent": "anonymous", "company": {}}),
        ),
        (
            "us_midmarket_cfo",
            json!({"consent": "full",
                "company": {"domain": "freightline.example", "industry": "logistics", "employees": 350, "revenue": 45_000_000, "country": "US", "region": "TX", "type": "business", "funding_stage": "series_b", "tech": ["redshift", "aws", "kafka"]},
                "person": {"title": "Chief Financial Officer"}, "account": {"tier": "tier3"}}),
        ),
    ]
}

fn visitors(shared: &[&Value], n: usize, seed: u64) -> Result<Value> {
    let ids: Vec<(&str, &str)> = shared
        .iter()
        .filter_map(|c| Some((c["id"].as_str()?, c["format"].as_str()?)))
        .collect();
    if ids.is_empty() {
        bail!("no content to visit");
    }
    let mut out = Vec::new();
    for (k, (name, context)) in profiles().into_iter().enumerate() {
        let mut rng = Rng(seed.wrapping_mul(1_000_003) ^ ((n as u64) << 20) ^ k as u64);
        let events = events(&mut rng, &ids, n)?;
        let last = events.last().and_then(|e| e["ts"].as_u64()).unwrap_or(T0);
        let now = last + 60_000;
        let page = ids
            .iter()
            .find(|(id, _)| *id == "pricing")
            .map(|(id, _)| json!({"content_id": id, "url": "/pricing"}))
            .unwrap_or_else(|| json!({"url": "/"}));
        let mut ctx: Map<String, Value> = context.as_object().cloned().unwrap_or_default();
        ctx.insert("page".into(), page);
        out.push(json!({
            "id": format!("w-{k}"),
            "profile": name,
            "events": events,
            "request": {"now": now, "slots": SLOTS, "context": Value::Object(ctx)},
        }));
    }
    Ok(json!({"seed": seed, "events": n, "visitors": out}))
}

/// `n` events in sessions: 1–8 page views each with a few other actions, sessions 2 h – 4 days apart.
fn events(rng: &mut Rng, ids: &[(&str, &str)], n: usize) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(n);
    let mut t = T0;
    while out.len() < n {
        let views = 1 + rng.below(8);
        for _ in 0..views {
            if out.len() >= n {
                break;
            }
            let (id, format) = *rng.pick(ids).context("no content to visit")?;
            let dwell = if rng.chance(0.2) {
                rng.range(0, 5)
            } else {
                rng.range(10, 400)
            };
            out.push(json!({"type": "page_view", "ts": t, "content_id": id, "url": format!("/{format}/{id}"), "dwell_seconds": dwell}));
            t += 1000 * (dwell + rng.range(2, 30));
            if out.len() < n && rng.chance(0.25) {
                out.push(action(rng, t, id, format));
                t += 1000 * rng.range(3, 60);
            }
        }
        // The odd bot-like burst: 8 page views within two seconds.
        if out.len() < n && rng.chance(0.03) {
            for _ in 0..8 {
                if out.len() >= n {
                    break;
                }
                let (id, _) = *rng.pick(ids).context("no content to visit")?;
                out.push(json!({"type": "page_view", "ts": t, "content_id": id}));
                t += 200;
            }
        }
        t += 3_600_000 * rng.range(2, 96);
    }
    Ok(out)
}

fn action(rng: &mut Rng, t: u64, id: &str, format: &str) -> Value {
    match rng.below(10) {
        0 | 1 => {
            let cta = rng
                .pick(&["pricing", "demo", "contact_sales", "trial", "read"])
                .copied()
                .unwrap_or("demo");
            json!({"type": "cta_click", "ts": t, "cta": cta, "content_id": id})
        }
        2 => json!({"type": "download", "ts": t, "content_id": id}),
        3 => json!({"type": "video_play", "ts": t, "content_id": id}),
        4 => json!({"type": "search", "ts": t}),
        5 => {
            let form = rng
                .pick(&[
                    "newsletter",
                    "gated_download",
                    "webinar_registration",
                    "newsletter",
                    "demo_request",
                ])
                .copied()
                .unwrap_or("newsletter");
            if form == "demo_request" {
                let fields = json!({"budget": "$50k-$250k", "timeline": "this quarter"});
                json!({"type": "form_submit", "ts": t, "form": form, "fields": fields})
            } else {
                json!({"type": "form_submit", "ts": t, "form": form})
            }
        }
        6 => {
            let name = rng
                .pick(&["roi_calculated", "form_error", "unsubscribe"])
                .copied()
                .unwrap_or("roi_calculated");
            json!({"type": "custom", "ts": t, "name": name})
        }
        7 => json!({"type": "chat_open", "ts": t}),
        _ if format == "trial" => json!({"type": "trial_start", "ts": t}),
        _ => json!({"type": "page_view", "ts": t, "content_id": id, "dwell_seconds": 1}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_choice_is_none_not_a_panic() {
        let mut rng = Rng(1);
        assert_eq!(rng.pick::<u8>(&[]), None);
        assert_eq!(rng.pick(&[7]), Some(&7));
        assert_eq!(rng.range(5, 5), 5);
        assert_eq!(rng.range(9, 3), 9);
        assert!(events(&mut rng, &[], 3).is_err());
        assert!(events(&mut rng, &[], 0).is_ok_and(|e| e.is_empty()));
    }
}
