// The words on the Lumora demo site: one short lede per catalogue item, and
// the sections of the pages that need more than the format's standard body.
// Lumora, its customers and its competitors are fictional (see
// examples/acme/README.md); the figures are plausible, not real.

export const COMPANY = {
  name: 'Lumora',
  tagline: 'Data observability for teams that cannot afford a wrong number',
  pitch:
    'Lumora watches your pipelines and warehouse — freshness, volume, schema and distribution anomalies, column-level lineage and cost spikes — and tells the owning team before a broken table reaches a dashboard, a model or a regulator.',
};

/** Per content id: `lede` (one or two sentences), optional `sections` ([heading, text]), `meta` (byline-ish line). */
export const COPY = {
  // ------------------------------------------------------------------ blog
  'blog-what-is-data-observability': {
    lede: 'Freshness, volume, schema, distribution and lineage: the five signals that tell you whether the data behind a dashboard can be trusted today.',
    sections: [
      ['Monitoring asks "is it up?"', 'Observability asks "is it right?". A pipeline can succeed every night while loading half the rows, or a column can switch from cents to euros without a single job failing.'],
      ['The five pillars', 'Freshness (did it arrive on time), volume (did all of it arrive), schema (did its shape change), distribution (do the values look like last week) and lineage (what breaks downstream if this table is wrong).'],
      ['Where to start', 'Pick the twenty tables your executives look at every Monday and watch those first. Coverage can grow later; trust starts with the tables people already argue about.'],
    ],
  },
  'blog-hidden-cost-of-bad-data': {
    lede: 'One wrong revenue dashboard cost a mid-size retailer four analyst-weeks, a delayed board pack and a re-forecast. Here is how to put a number on data downtime.',
    sections: [
      ['Count the hours, not the incidents', 'Time to detect plus time to resolve, multiplied by the people who stop to ask "is this number right?". Most teams underestimate the second half by a factor of three.'],
      ['The costs nobody books', 'Decisions taken on stale data, marketing spend allocated to the wrong channel, a model retrained on a broken feature. None of them appear as an incident ticket.'],
    ],
  },
  'blog-why-pipelines-fail-silently': {
    lede: 'The most expensive data failures are the ones that do not fail: jobs that succeed with zero rows, late partitions and upstream schema drift.',
    sections: [
      ['Green is not good', 'Orchestrators report whether a task ran, not whether its output makes sense. A successful job that loaded yesterday\'s file twice is still a successful job.'],
      ['Three checks that catch most of it', 'Row-count bands learned from history, freshness against the table\'s real arrival pattern, and schema diffs on every load.'],
    ],
  },
  'blog-data-downtime-cfo': {
    lede: 'Finance already measures system uptime. Data downtime — the hours your numbers are wrong, late or missing — belongs next to it in the quarterly review.',
  },
  'blog-snowflake-cost-spikes': {
    lede: 'Runaway clustering, full refreshes nobody asked for, exploding joins: five patterns behind most warehouse bills that jump overnight, and how to catch them the same day.',
  },
  'blog-dbt-tests-not-enough': {
    lede: 'dbt tests check the rules you thought of. Anomaly detection catches the ones you did not. Why mature teams run both, and where each belongs.',
    sections: [
      ['What tests are great at', 'Keys that must be unique, columns that must never be null, accepted values. Cheap, explicit, versioned with the model.'],
      ['What they miss', 'A 40 % drop in daily orders passes every test. So does a currency column that silently switched units. These are distribution problems, and they need a baseline, not a rule.'],
    ],
  },
  'blog-build-vs-buy': {
    lede: 'A realistic look at what an in-house observability stack costs after year one: the checks are the easy part, the alert routing and the on-call are not.',
  },
  'blog-column-level-lineage': {
    lede: 'Table-level lineage tells you what might break. Column-level lineage tells you what will — and turns a two-hour incident call into a ten-minute fix.',
  },
  'blog-ml-anomaly-detection': {
    lede: 'Month-end spikes, weekend dips, Black Friday: how Lumora\'s models learn each table\'s seasonality so they alert on the real anomaly and stay quiet on the expected one.',
  },
  'blog-data-contracts': {
    lede: 'Data contracts only work when someone owns the breach. A practical model for producers, consumers and the table in between.',
  },
  'blog-on-call-for-data-teams': {
    lede: 'Alert fatigue kills data on-call faster than incidents do. Routing by ownership, grouping by root cause and a sane severity scale.',
  },
  'blog-gdpr-sox-lineage': {
    lede: 'Auditors ask where a reported figure came from and who could change it. Lineage answers both, if it is captured at column level and kept with history.',
  },
  'blog-kafka-streaming-monitoring': {
    lede: 'Consumer lag is not data quality. What to watch on streaming pipelines: event-time freshness, key cardinality and schema-registry drift.',
  },
  'blog-spring-25-launch': {
    lede: 'Freshness SLAs per table and a native Airflow operator, released in spring 2025.',
  },
  'blog-whats-new-november-2026': {
    lede: 'The Lineage module is generally available, alert grouping now understands dbt exposures, and the Databricks integration reads Unity Catalog tags.',
  },
  // ---------------------------------------------------------------- guides
  'guide-data-observability-primer': {
    lede: 'Forty pages for the team about to evaluate data observability: the problem, the approaches, the questions to ask every vendor, and a 30-day rollout plan.',
    sections: [
      ['Inside', 'Why pipelines fail silently · the five pillars · build, buy or open source · evaluation checklist · rollout plan for the first 30 days.'],
    ],
  },
  'guide-data-quality-maturity': {
    lede: 'Five levels from "we find out from the CFO" to "owners are paged before anyone sees it". A self-assessment in fifteen questions.',
  },
  'guide-rfp-template': {
    lede: 'The requirements checklist our customers wish they had: 86 questions on coverage, detection, lineage, security and pricing, ready to paste into your RFP.',
  },
  'guide-warehouse-cost-playbook': {
    lede: 'Find the ten queries and three models behind most of your warehouse bill, and the guardrails that keep them from coming back.',
  },
  'guide-business-case': {
    lede: 'A business-case template your CFO will recognise: data downtime hours, the people they stop, and the warehouse spend you recover.',
  },
  'guide-fintech-compliance': {
    lede: 'BCBS 239 and DORA both ask you to prove your risk data is complete, accurate and timely. How banks and fintechs use observability and lineage as evidence.',
  },
  'guide-data-slas': {
    lede: 'How to agree freshness and completeness targets with the business, measure them automatically, and report on them without a spreadsheet.',
  },
  'guide-healthcare-hipaa': {
    lede: 'Claims, encounters and lab feeds arrive late and change shape often. A HIPAA-aware approach to monitoring clinical data without moving PHI.',
  },
  // ----------------------------------------------------------- comparisons
  'compare-pipewatch': {
    lede: 'Pipewatch is the incumbent. Lumora is what teams pick when they want column-level lineage included, usage-based pricing and no three-year lock-in.',
    table: [
      ['Column-level lineage', 'Included', 'Add-on'],
      ['Pricing', 'Per monitored table, annual', 'Per seat, multi-year'],
      ['Time to first alert', 'Under a day', '2–6 weeks (services)'],
      ['Warehouse cost monitoring', 'Included', 'Not available'],
    ],
    rival: 'Pipewatch',
  },
  'compare-datasentry': {
    lede: 'DataSentry\'s on-prem edition reaches end of life in 2027. What moving to Lumora involves, and how we migrate your existing checks for you.',
    table: [
      ['Deployment', 'Cloud, or in your VPC', 'On-prem (end of life 2027)'],
      ['Check migration', 'Automated import', '—'],
      ['Integrations', '40+, incl. dbt and Airflow', '12'],
      ['ML anomaly detection', 'Seasonality-aware', 'Static thresholds'],
    ],
    rival: 'DataSentry',
  },
  'compare-open-source': {
    lede: 'Great Expectations and Soda are excellent for the checks you write. Lumora adds the ones you did not think of, lineage, routing and cost — and imports your existing suites.',
    table: [
      ['Rule-based checks', 'Yes (imports your suites)', 'Yes'],
      ['Anomaly detection', 'Automatic, per table', 'Manual thresholds'],
      ['Lineage and impact', 'Column level', 'No'],
      ['Maintenance', 'Managed', 'Your team'],
    ],
    rival: 'Open source',
  },
  'compare-in-house': {
    lede: 'Building observability in-house takes two engineers about six months for the first version, and one to keep it running. Here is the honest comparison.',
    table: [
      ['Time to value', 'Days', '6+ months'],
      ['Ongoing cost', 'Subscription', '1–2 FTE'],
      ['Coverage growth', 'Automatic', 'Per check, by hand'],
    ],
    rival: 'In-house',
  },
  // ----------------------------------------------------------- case studies
  'cs-northbank-capital': {
    lede: 'Northbank Capital, a 2,400-person digital bank, went from 31 data incidents a quarter to 9, and now hands its regulators column-level lineage for every risk report.',
    quote: ['"We used to learn about broken data from the risk committee. Now the owning engineer gets paged first."', 'Priya Natarajan, Head of Data Platform, Northbank Capital'],
    stats: [['72 %', 'fewer data incidents'], ['4 h → 20 min', 'median time to detect'], ['BCBS 239', 'evidence from lineage']],
  },
  'cs-meridian-health': {
    lede: 'Meridian Health runs claims and clinical analytics for 40 hospitals. Lumora catches late and malformed feeds before the morning census report goes out.',
    quote: ['"Our clinicians trust the 7 a.m. numbers again."', 'Daniel Osei, Director of Data Engineering, Meridian Health'],
    stats: [['40', 'hospitals monitored'], ['96 %', 'of feed issues caught before 7 a.m.'], ['0', 'PHI leaves their cloud']],
  },
  'cs-cartwheel-retail': {
    lede: 'Cartwheel Retail found that three dbt models caused 40 % of its Snowflake bill. Cost monitoring paid for the subscription in the first month.',
    stats: [['$1.1M', 'warehouse spend saved per year'], ['3', 'models behind 40 % of the bill'], ['1 month', 'to payback']],
  },
  'cs-stackly': {
    lede: 'Stackly\'s product team ships on analytics it can trust: schema changes from the app now page the owning engineer instead of breaking Monday\'s dashboard.',
    stats: [['5×', 'faster incident resolution'], ['100 %', 'of product tables covered']],
  },
  'cs-ferrum-industrial': {
    lede: 'Ferrum Industrial streams sensor data from 14 plants. Lumora spots dead sensors and drifting units before predictive-maintenance models learn from them.',
    stats: [['14', 'plants'], ['2.3 bn', 'events a day monitored']],
  },
  'cs-brightwave-media': {
    lede: 'Brightwave Media\'s audience numbers go to advertisers by 6 a.m. Lumora makes sure they are complete, on time and explainable.',
    stats: [['6 a.m.', 'every day, on time'], ['-60 %', 'advertiser data disputes']],
  },
  // -------------------------------------------------------------- webinars
  'webinar-state-of-data-reliability-2026': {
    lede: 'Live on December 10: what 600 data teams told us about incidents, on-call and budgets in 2026 — with a panel of three heads of data.',
  },
  'webinar-fintech-data-trust': {
    lede: 'A roundtable of fintech data leaders on DORA, regulator questions and building trust in risk data. 45 minutes, on demand.',
  },
  'webinar-taming-warehouse-costs': {
    lede: 'A live teardown of a real warehouse bill: the queries, the models and the guardrails that cut it by a third.',
  },
  'webinar-customer-office-hours': {
    lede: 'Monthly office hours for Lumora customers: bring your noisiest monitors and leave with a tuning plan.',
  },
  // ---------------------------------------------------- commercial pages
  'roi-calculator': {
    lede: 'Estimate what data downtime costs you today and what Lumora would save, from four numbers you already know.',
  },
  pricing: {
    lede: 'Priced per monitored table, billed annually. Every plan includes lineage, anomaly detection and unlimited users.',
  },
  'demo-request': {
    lede: 'See Lumora on a warehouse like yours. A solutions engineer will walk through detection, lineage and routing in 30 minutes — no slides.',
  },
  'free-trial': {
    lede: 'Connect a warehouse and see your first anomalies within a day. 14 days, no credit card, read-only access to metadata.',
  },
  'contact-sales': {
    lede: 'Questions on pricing, procurement or security reviews? Our team answers within one business day.',
  },
  'contact-customer-success': {
    lede: 'Customers: book a success review with your CSM to tune monitors, plan coverage and review adoption.',
  },
  // ------------------------------------------------------------- security
  'security-trust-center': {
    lede: 'How Lumora protects your data: we read metadata and aggregates, never row-level records, and we are audited every year.',
    sections: [
      ['What we access', 'Query logs, table metadata and aggregate statistics. Lumora never copies row-level data out of your warehouse; the agent option keeps even aggregates inside your VPC.'],
      ['Certifications', 'SOC 2 Type II (2026), ISO 27001, GDPR-ready DPA, HIPAA BAA available.'],
      ['Data residency', 'US (Virginia) or EU (Frankfurt) regions; single-tenant deployments on request.'],
    ],
  },
  'security-soc2-report': {
    lede: 'Our 2026 SOC 2 Type II report, covering security, availability and confidentiality, issued by an independent auditor. Available under NDA.',
  },
  'security-dpa': {
    lede: 'Our standard data processing agreement, standard contractual clauses and the current list of subprocessors.',
  },
  // ------------------------------------------------------------------ docs
  'docs-quickstart': {
    lede: 'Create a read-only service account, paste the connection string, pick the schemas to watch. Your first monitors train overnight.',
    code: 'CREATE ROLE lumora_reader;\nGRANT USAGE ON WAREHOUSE analytics TO ROLE lumora_reader;\nGRANT IMPORTED PRIVILEGES ON DATABASE snowflake TO ROLE lumora_reader;',
  },
  'docs-api-reference': {
    lede: 'REST and GraphQL endpoints for monitors, incidents, lineage and metrics. Authenticate with a scoped API token.',
    code: 'curl https://api.lumora.example/v2/incidents?status=open \\\n  -H "Authorization: Bearer $LUMORA_TOKEN"',
  },
  'docs-integrations': {
    lede: 'Warehouses, transformation tools, orchestrators and BI: how each integration connects, what it reads and what it adds to lineage.',
  },
  'docs-sdks': {
    lede: 'Official SDKs for Python, Java and Go: define monitors as code, query incidents and push custom metrics.',
    code: 'pip install lumora\n\nfrom lumora import Client\nclient = Client()\nclient.monitors.create(table="analytics.orders", kind="freshness", sla="2h")',
  },
  'docs-alerting': {
    lede: 'Route incidents by table owner to Slack, PagerDuty, Opsgenie or e-mail, group them by root cause, and set severities per data product.',
  },
  'docs-architecture': {
    lede: 'Lumora\'s components, what runs where, the network paths, and the deployment options: SaaS, hybrid agent or single-tenant.',
  },
  // --------------------------------------------------------------- support
  'support-status': { lede: 'All systems operational. Detection, alerting, lineage and the API are running normally in both regions.' },
  'support-knowledge-base': { lede: 'Answers to the most common questions on connections, monitors, alert routing and billing.' },
  'support-contact': { lede: 'Customers can reach support around the clock; priority-one incidents are answered within 30 minutes.' },
  'support-billing': { lede: 'Invoices, monitored-table counts, plan changes and purchase orders.' },
  // ------------------------------------------------------------ onboarding
  'onboarding-first-30-days': { lede: 'Week by week: connect, cover your critical tables, route alerts to owners, and review with your CSM on day 30.' },
  'onboarding-admin-setup': { lede: 'Single sign-on, SCIM provisioning, roles and workspaces for teams of every size.' },
  'onboarding-alert-tuning': { lede: 'Make alerts worth reading: sensitivity per table, quiet hours, grouping and ownership rules.' },
  // ---------------------------------------------------------- product/expansion
  'expansion-enterprise-addons': { lede: 'SSO/SCIM, an immutable audit log, private link and customer-managed keys for regulated teams.' },
  'expansion-lineage-module': { lede: 'Column-level lineage across your warehouse, dbt and BI, with impact analysis on every incident. Now generally available.' },
  // --------------------------------------------------------------- careers
  careers: { lede: 'We are 140 people across Boston, London and Berlin, building the tool we wished we had as data engineers.' },
  'careers-senior-data-engineer': {
    lede: 'Join the team that builds Lumora\'s ingestion and detection pipelines: Python, Go, Kafka, Snowflake and a lot of interesting failure modes.',
  },
};

/** Index pages that are not catalogue items: path → {title, lede, formats}. */
export const SECTIONS = [
  { path: '/blog', title: 'Blog', lede: 'Notes on data reliability, cost and the craft of running data teams.', formats: ['blog'] },
  { path: '/resources', title: 'Guides and ebooks', lede: 'In-depth guides, templates and playbooks.', formats: ['guide'] },
  { path: '/compare', title: 'Compare Lumora', lede: 'How Lumora compares with the incumbents, open source and building it yourself.', formats: ['comparison'] },
  { path: '/customers', title: 'Customers', lede: 'Teams that trust their data again.', formats: ['case_study'] },
  { path: '/webinars', title: 'Webinars', lede: 'Live sessions and recordings.', formats: ['webinar'] },
  { path: '/docs', title: 'Documentation', lede: 'Connect, configure and automate Lumora.', formats: ['docs'] },
  { path: '/support', title: 'Support', lede: 'Status, answers and a human when you need one.', formats: ['support'] },
  { path: '/platform', title: 'Platform', lede: 'Detection, lineage, routing and cost — in one platform.', formats: ['product'] },
];

export const PLANS = [
  { name: 'Team', price: '$30k', unit: 'per year', blurb: 'Up to 500 monitored tables, one warehouse, Slack and e-mail alerts.', cta: ['free-trial', 'trial', 'Start a free trial'] },
  { name: 'Business', price: '$90k', unit: 'per year', blurb: 'Up to 3,000 tables, lineage, cost monitoring, PagerDuty and SSO.', cta: ['demo-request', 'demo', 'Book a demo'], featured: true },
  { name: 'Enterprise', price: 'Custom', unit: 'from $180k', blurb: 'Unlimited tables, hybrid agent, audit log, private link, 99.9 % SLA.', cta: ['contact-sales', 'contact_sales', 'Talk to sales'] },
];
