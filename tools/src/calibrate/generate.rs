//! A seeded generator of realistic CRM exports for the example playbook,
//! with a known ground truth: every attribute value adds a fixed amount to
//! the log-odds of success, plus an unobserved account effect and label
//! noise. The truth deliberately disagrees with the hand-written playbook
//! (e.g. the US north-east bonus is worth nothing, the data stack and intent
//! signals matter a lot), so calibration has something to find.
//!
//! Output: `<out>` (CSV) and `<out>.truth.json`: per criterion of the example
//! playbook, its true importance (the standard deviation of its true log-odds
//! contribution over the rows) and the truth table.

use anyhow::Result;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// SplitMix64: small, well known, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_CA11_B8A7_E000)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    pub fn below(&mut self, n: usize) -> usize {
        ((self.f() * n as f64) as usize).min(n.saturating_sub(1))
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f().max(1e-300);
        let u2 = self.f();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// A value from `(value, weight)` pairs.
    pub fn pick<'a>(&mut self, items: &[(&'a str, f64)]) -> &'a str {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.f() * total;
        for (v, w) in items {
            if x < *w {
                return v;
            }
            x -= w;
        }
        items.last().map_or("", |(v, _)| v)
    }
    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

// (value, share of accounts, true log-odds)
const INDUSTRIES: [(&str, f64, f64); 15] = [
    ("software", 20.0, 0.5),
    ("financial_services", 10.0, 0.9),
    ("insurance", 5.0, 0.5),
    ("healthcare", 8.0, 0.1),
    ("retail", 6.0, -0.2),
    ("ecommerce", 4.0, 0.3),
    ("media", 4.0, -0.3),
    ("telecommunications", 3.0, 0.2),
    ("manufacturing", 10.0, 0.4),
    ("logistics", 5.0, 0.0),
    ("transportation", 2.0, 0.0),
    ("professional_services", 10.0, -0.6),
    ("construction", 4.0, -0.9),
    ("energy", 5.0, -0.5),
    ("hospitality", 4.0, -1.0),
];

const COUNTRIES: [(&str, f64, f64); 16] = [
    ("US", 45.0, 0.2),
    ("CA", 7.0, 0.1),
    ("GB", 10.0, 0.1),
    ("DE", 8.0, 0.3),
    ("NL", 4.0, 0.3),
    ("FR", 5.0, 0.0),
    ("SE", 2.0, 0.0),
    ("NO", 1.0, 0.0),
    ("DK", 1.5, 0.0),
    ("FI", 1.0, 0.0),
    ("BR", 3.0, -1.4),
    ("IN", 4.0, -1.4),
    ("AU", 3.0, -1.2),
    ("ES", 2.5, -1.3),
    ("JP", 1.5, -1.6),
    ("MX", 1.5, -1.5),
];

const TECH: [(&str, f64, f64); 27] = [
    ("snowflake", 0.30, 0.7),
    ("databricks", 0.18, 0.6),
    ("bigquery", 0.15, 0.3),
    ("redshift", 0.15, 0.0),
    ("dbt", 0.25, 0.8),
    ("airflow", 0.25, 0.3),
    ("dagster", 0.05, 0.2),
    ("prefect", 0.04, 0.2),
    ("kafka", 0.20, 0.1),
    ("confluent", 0.05, 0.1),
    ("fivetran", 0.15, 0.4),
    ("airbyte", 0.06, 0.4),
    ("looker", 0.15, 0.0),
    ("tableau", 0.25, 0.0),
    ("power_bi", 0.25, -0.2),
    ("aws", 0.55, 0.0),
    ("gcp", 0.2, 0.0),
    ("azure", 0.3, -0.1),
    ("kubernetes", 0.35, 0.1),
    ("datadog", 0.25, 0.3),
    ("pipewatch", 0.07, -1.2),
    ("datasentry", 0.05, 0.6),
    ("great_expectations", 0.08, 0.9),
    ("soda", 0.04, 0.9),
    ("teradata", 0.05, -0.5),
    ("netezza", 0.02, -0.5),
    ("informatica", 0.08, -0.5),
];

const NORTH_EAST: [&str; 9] = ["NY", "MA", "CT", "NJ", "PA", "NH", "VT", "ME", "RI"];
const US_OTHER: [&str; 14] = [
    "CA", "WA", "IL", "TX", "CO", "GA", "NC", "VA", "FL", "OH", "MI", "AZ", "MN", "OR",
];

/// The example playbook's criterion that each truth term belongs to.
fn tech_criterion(t: &str) -> &'static str {
    match t {
        "snowflake" => "tech_snowflake",
        "databricks" => "tech_databricks",
        "bigquery" => "tech_bigquery",
        "redshift" => "tech_redshift",
        "dbt" => "tech_dbt",
        "airflow" => "tech_airflow",
        "dagster" | "prefect" => "tech_dagster_prefect",
        "kafka" | "confluent" => "tech_kafka",
        "fivetran" | "airbyte" => "tech_fivetran",
        "looker" => "tech_looker",
        "tableau" => "tech_tableau",
        "power_bi" => "tech_power_bi",
        "aws" => "tech_aws",
        "gcp" => "tech_gcp",
        "azure" => "tech_azure",
        "kubernetes" => "tech_kubernetes",
        "datadog" => "tech_datadog",
        "pipewatch" => "tech_pipewatch",
        "datasentry" => "tech_datasentry",
        "great_expectations" | "soda" => "tech_open_source_dq",
        _ => "tech_legacy_onprem",
    }
}

/// One generated row before the outcome is drawn.
struct Row {
    cells: BTreeMap<&'static str, String>,
    /// True log-odds contribution per criterion id.
    truth: BTreeMap<&'static str, f64>,
    /// Renewal rows (customers) have a higher base rate.
    renewal: bool,
    hidden: f64,
}

const COLUMNS: [&str; 18] = [
    "id",
    "company.domain",
    "company.industry",
    "company.employees",
    "company.revenue",
    "company.country",
    "company.region",
    "company.type",
    "company.funding_stage",
    "company.tech",
    "account.tier",
    "account.signals",
    "campaign.medium",
    "campaign.source",
    "bant.budget",
    "bant.timeline",
    "outcome",
    "closed_at",
];

fn row(rng: &mut Rng, i: usize) -> Row {
    let mut cells = BTreeMap::new();
    let mut truth: BTreeMap<&'static str, f64> = BTreeMap::new();
    // Fields go missing at realistic rates (enrichment gaps).
    let put = |cells: &mut BTreeMap<&'static str, String>,
               rng: &mut Rng,
               k: &'static str,
               v: String,
               missing: f64|
     -> bool {
        if rng.chance(missing) {
            false
        } else {
            cells.insert(k, v);
            true
        }
    };
    cells.insert("id", format!("opp-{:05}", i + 1));
    cells.insert("company.domain", format!("acct{:05}.example.com", i + 1));

    let ind_w: Vec<(&str, f64)> = INDUSTRIES.iter().map(|(v, w, _)| (*v, *w)).collect();
    let ind = rng.pick(&ind_w);
    let ind_t = INDUSTRIES.iter().find(|x| x.0 == ind).map_or(0.0, |x| x.2);
    // Some CRMs capitalise; the engine compares case-insensitively.
    let shown = if rng.chance(0.1) {
        let mut c = ind.chars();
        c.next()
            .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
    } else {
        ind.to_string()
    };
    if put(&mut cells, rng, "company.industry", shown, 0.06) {
        truth.insert("industry", ind_t);
    }

    let employees = (10f64.ln() + rng.f() * (150_000f64.ln() - 10f64.ln()))
        .exp()
        .round();
    let emp_t = match employees {
        e if e < 50.0 => -1.2,
        e if e < 200.0 => -0.3,
        e if e < 5000.0 => 1.0,
        e if e < 100_000.0 => 0.6,
        _ => -1.2,
    };
    if put(
        &mut cells,
        rng,
        "company.employees",
        format!("{employees}"),
        0.08,
    ) {
        truth.insert("employees", emp_t);
    }
    let revenue = (employees * (40_000.0 + rng.f() * 360_000.0)).round();
    let rev_t = if (50e6..1e9).contains(&revenue) {
        0.2
    } else {
        0.0
    };
    if put(
        &mut cells,
        rng,
        "company.revenue",
        format!("{revenue}"),
        0.25,
    ) {
        truth.insert("revenue", rev_t);
    }

    let c_w: Vec<(&str, f64)> = COUNTRIES.iter().map(|(v, w, _)| (*v, *w)).collect();
    let country = rng.pick(&c_w);
    let c_t = COUNTRIES
        .iter()
        .find(|x| x.0 == country)
        .map_or(0.0, |x| x.2);
    if put(
        &mut cells,
        rng,
        "company.country",
        country.to_string(),
        0.03,
    ) {
        truth.insert("country", c_t);
    }
    let region = match country {
        "US" if rng.chance(0.3) => NORTH_EAST.get(rng.below(NORTH_EAST.len())).copied(),
        "US" => US_OTHER.get(rng.below(US_OTHER.len())).copied(),
        "CA" => Some(rng.pick(&[("ON", 4.0), ("BC", 2.0), ("QC", 2.0), ("AB", 1.0)])),
        "GB" => Some(rng.pick(&[("LND", 5.0), ("MAN", 1.0), ("EDH", 1.0)])),
        "DE" => Some(rng.pick(&[("BE", 3.0), ("BY", 3.0), ("HH", 1.0), ("NW", 3.0)])),
        _ => None,
    };
    if let Some(r) = region {
        // The truth: the north-east bonus and the data hubs are worth nothing.
        if put(&mut cells, rng, "company.region", r.to_string(), 0.15) {
            truth.insert("region", 0.0);
        }
    }

    let ctype = rng.pick(&[
        ("business", 93.0),
        ("nonprofit", 5.0),
        ("public_sector", 2.0),
    ]);
    let type_t = match ctype {
        "nonprofit" => -1.0,
        "public_sector" => -0.6,
        _ => 0.0,
    };
    if put(&mut cells, rng, "company.type", ctype.to_string(), 0.10) {
        truth.insert("company_type", type_t);
    }

    let funding = rng.pick(&[
        ("bootstrapped", 8.0),
        ("pre_seed", 3.0),
        ("seed", 6.0),
        ("series_a", 9.0),
        ("series_b", 10.0),
        ("series_c", 8.0),
        ("series_d", 5.0),
        ("growth", 4.0),
        ("private_equity", 10.0),
        ("public", 15.0),
    ]);
    let fund_t = match funding {
        "pre_seed" | "seed" | "series_a" => -0.9,
        "series_b" => 0.0,
        "public" => 0.1,
        "bootstrapped" => -0.2,
        _ => 0.3,
    };
    if put(
        &mut cells,
        rng,
        "company.funding_stage",
        funding.to_string(),
        0.30,
    ) {
        truth.insert("funding_stage", fund_t);
    }

    // Bigger companies run more of the stack.
    let size = (employees.ln() / 150_000f64.ln()).clamp(0.2, 1.0) + 0.3;
    let mut stack = Vec::new();
    let mut tech_t: BTreeMap<&'static str, f64> = BTreeMap::new();
    for (t, p, w) in TECH {
        if rng.chance((p * size).min(0.95)) {
            stack.push(t);
            let c = tech_criterion(t);
            let e = tech_t.entry(c).or_insert(0.0);
            *e = if w.abs() > e.abs() { w } else { *e };
        }
    }
    if !rng.chance(0.12) {
        cells.insert("company.tech", stack.join(";"));
        // Known stack: every tech criterion is known (absent tools score `otherwise`, 0).
        for (t, _, _) in TECH {
            truth.entry(tech_criterion(t)).or_insert(0.0);
        }
        for (c, w) in tech_t {
            truth.insert(c, w);
        }
    }

    let tier = rng.pick(&[("", 70.0), ("tier1", 5.0), ("tier2", 10.0), ("tier3", 15.0)]);
    if !tier.is_empty() {
        cells.insert("account.tier", tier.to_string());
        truth.insert(
            "account_tier",
            match tier {
                "tier1" => 0.4,
                "tier2" => 0.2,
                _ => 0.0,
            },
        );
    }
    let mut signals = Vec::new();
    let mut sig = |name: &'static str,
                   p: f64,
                   crit: &'static str,
                   w: f64,
                   rng: &mut Rng,
                   truth: &mut BTreeMap<&'static str, f64>| {
        if rng.chance(p) {
            signals.push(name);
            let e = truth.entry(crit).or_insert(0.0);
            if w.abs() > e.abs() {
                *e = w;
            }
        }
    };
    sig(
        "hiring_data_engineers",
        0.12,
        "signal_hiring",
        0.8,
        rng,
        &mut truth,
    );
    sig("hiring", 0.25, "signal_hiring", 0.1, rng, &mut truth);
    sig("funding", 0.08, "signal_funding", 0.3, rng, &mut truth);
    sig(
        "leadership_change",
        0.07,
        "signal_leadership",
        0.5,
        rng,
        &mut truth,
    );
    sig(
        "intent_data_observability",
        0.10,
        "signal_intent",
        1.1,
        rng,
        &mut truth,
    );
    if !signals.is_empty() {
        cells.insert("account.signals", signals.join(";"));
        for c in [
            "signal_hiring",
            "signal_funding",
            "signal_leadership",
            "signal_intent",
        ] {
            truth.entry(c).or_insert(0.0);
        }
    }

    let medium = rng.pick(&[
        ("referral", 8.0),
        ("partner", 5.0),
        ("organic", 25.0),
        ("email", 10.0),
        ("cpc", 25.0),
        ("display", 8.0),
        ("paid_social", 9.0),
        ("event", 10.0),
    ]);
    let med_t = match medium {
        "referral" | "partner" => 0.7,
        "organic" | "email" => 0.2,
        "display" | "paid_social" => -0.4,
        _ => 0.0,
    };
    if put(&mut cells, rng, "campaign.medium", medium.to_string(), 0.2) {
        truth.insert("campaign_medium", med_t);
    }
    let source = rng.pick(&[
        ("google", 50.0),
        ("linkedin", 20.0),
        ("g2", 8.0),
        ("capterra", 4.0),
        ("newsletter", 18.0),
    ]);
    let src_t = if matches!(source, "g2" | "capterra") {
        0.5
    } else {
        0.0
    };
    if put(&mut cells, rng, "campaign.source", source.to_string(), 0.2) {
        truth.insert("review_site", src_t);
    }

    // A quarter of the opportunities went through a form with BANT questions.
    if rng.chance(0.25) {
        let budget = rng.pick(&[
            ("under_10k", 2.0),
            ("10k_50k", 3.0),
            ("50k_250k", 3.0),
            ("over_250k", 1.0),
            ("not_sure", 2.0),
        ]);
        cells.insert("bant.budget", budget.to_string());
        truth.insert(
            "bant_budget",
            match budget {
                "50k_250k" | "over_250k" => 0.8,
                "10k_50k" => 0.2,
                "under_10k" => -1.0,
                _ => 0.0,
            },
        );
        let timeline = rng.pick(&[
            ("this_quarter", 2.0),
            ("next_quarter", 2.0),
            ("this_year", 3.0),
            ("no_timeline", 2.0),
        ]);
        cells.insert("bant.timeline", timeline.to_string());
        truth.insert(
            "bant_timeline",
            match timeline {
                "this_quarter" => 0.9,
                "next_quarter" => 0.5,
                "this_year" => 0.1,
                _ => -1.0,
            },
        );
    }
    let day = 20_000 + rng.below(730);
    cells.insert("closed_at", day_to_iso(day as i64));
    Row {
        cells,
        truth,
        renewal: rng.chance(0.15),
        hidden: 0.5 * rng.normal(),
    }
}

/// Days since 1970 → `YYYY-MM-DD` (civil-from-days).
fn day_to_iso(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Writes `rows` rows to `out` (CSV) and the truth next to it. `win_rate` is
/// the target share of successes among closed rows.
pub fn run(seed: u64, rows: usize, out: &Path, win_rate: f64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let data: Vec<Row> = (0..rows).map(|i| row(&mut rng, i)).collect();
    let logit = |r: &Row, b: f64| {
        b + r.truth.values().sum::<f64>() + r.hidden + if r.renewal { 1.0 } else { 0.0 }
    };
    // The intercept that gives the target rate (bisection: deterministic).
    let (mut lo, mut hi) = (-15.0, 5.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        let rate = data.iter().map(|r| sigmoid(logit(r, mid))).sum::<f64>() / rows.max(1) as f64;
        if rate < win_rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let b = (lo + hi) / 2.0;
    let mut csv = String::new();
    let _ = writeln!(csv, "{}", COLUMNS.join(","));
    let mut contrib: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in &data {
        let mut success = rng.f() < sigmoid(logit(r, b));
        // 2% of outcomes are recorded wrong (CRM hygiene).
        if rng.chance(0.02) {
            success = !success;
        }
        let outcome = match (r.renewal, success) {
            _ if rng.chance(0.04) => "open",
            (false, true) => "won",
            (false, false) => "lost",
            (true, true) if rng.chance(0.3) => "expanded",
            (true, true) => "renewed",
            (true, false) => "churned",
        };
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| match *c {
                "outcome" => outcome.to_string(),
                c => r.cells.get(c).cloned().unwrap_or_default(),
            })
            .collect();
        let _ = writeln!(csv, "{}", cells.join(","));
        for c in CRITERIA {
            contrib
                .entry(c)
                .or_default()
                .push(r.truth.get(c).copied().unwrap_or(0.0));
        }
    }
    let importance: BTreeMap<&str, Value> = contrib
        .iter()
        .map(|(c, v)| (*c, json!(round(std_dev(v), 4))))
        .collect();
    let truth = json!({
        "seed": seed,
        "rows": rows,
        "target_success_rate": win_rate,
        "intercept": round(b, 4),
        "renewal_offset": 1.0,
        "hidden_effect_sd": 0.5,
        "label_noise": 0.02,
        "importance": importance,
        "industry": INDUSTRIES.iter().map(|(v, _, w)| (v.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
        "country": COUNTRIES.iter().map(|(v, _, w)| (v.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
        "tech": TECH.iter().map(|(v, _, w)| (v.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
    });
    let truth_path = truth_path(out);
    let truth = serde_json::to_string_pretty(&truth)? + "\n";
    // Both or neither: a truth file that cannot be written leaves the old
    // export as it was.
    super::write_all(&[(out, csv.as_bytes()), (&truth_path, truth.as_bytes())])
}

/// Where the truth of an export is written: `x.csv` → `x.truth.json`.
pub fn truth_path(out: &Path) -> std::path::PathBuf {
    out.with_extension("truth.json")
}

/// Criteria of the example playbook the truth speaks about.
const CRITERIA: [&str; 37] = [
    "industry",
    "employees",
    "revenue",
    "country",
    "region",
    "company_type",
    "funding_stage",
    "tech_snowflake",
    "tech_databricks",
    "tech_bigquery",
    "tech_redshift",
    "tech_dbt",
    "tech_airflow",
    "tech_dagster_prefect",
    "tech_kafka",
    "tech_fivetran",
    "tech_looker",
    "tech_tableau",
    "tech_power_bi",
    "tech_aws",
    "tech_gcp",
    "tech_azure",
    "tech_kubernetes",
    "tech_datadog",
    "tech_pipewatch",
    "tech_datasentry",
    "tech_open_source_dq",
    "tech_legacy_onprem",
    "account_tier",
    "signal_hiring",
    "signal_funding",
    "signal_leadership",
    "signal_intent",
    "campaign_medium",
    "review_site",
    "bant_budget",
    "bant_timeline",
];

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}
