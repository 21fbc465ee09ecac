// Demo visitors: companies as an enrichment provider (reverse IP, Clearbit-
// style) would return them, plus the central store's account snapshot where
// the company is known to Lumora. Shared by the page (the visitor switcher)
// and the edge worker (which honours `?as=` only when DEMO_SWITCHER is on).
//
// The domains and figures follow the example journeys in examples/journeys/.

export const PRESETS = [
  {
    id: 'unknown',
    label: 'Unknown visitor',
    note: 'No enrichment match (home Wi-Fi, VPN…)',
    title: '',
    company: {},
  },
  {
    id: 'fintech',
    label: 'Hudson Ledger',
    note: 'Enterprise fintech · New York · tier-1 target account',
    title: 'VP Eng',
    company: {
      domain: 'hudsonledger.com',
      name: 'Hudson Ledger',
      industry: 'financial_services',
      employees: 1200,
      revenue: 310000000,
      country: 'US',
      region: 'NY',
      type: 'business',
      funding_stage: 'series_d',
      tech: ['snowflake', 'dbt', 'airflow', 'aws', 'kubernetes', 'datadog', 'looker'],
    },
    account: { tier: 'tier1', customer: false, stage: 'solution_exploration', roles_engaged: [] },
  },
  {
    id: 'agency',
    label: 'Pixel & Pine',
    note: '30-person creative agency · Boston',
    title: 'Marketing Manager',
    company: {
      domain: 'pixelandpine.co',
      name: 'Pixel & Pine',
      industry: 'professional_services',
      employees: 30,
      revenue: 4200000,
      country: 'US',
      region: 'MA',
      type: 'business',
      tech: ['aws', 'hubspot', 'google_analytics', 'wordpress'],
    },
  },
  {
    id: 'hospital',
    label: 'Isartal Kliniken',
    note: 'Hospital group · Bavaria, Germany',
    title: 'Head of Data',
    company: {
      domain: 'isartal-kliniken.de',
      name: 'Isartal Kliniken GmbH',
      industry: 'healthcare',
      employees: 3000,
      revenue: 420000000,
      country: 'DE',
      region: 'BY',
      type: 'business',
      tech: ['azure', 'power_bi'],
    },
  },
  {
    id: 'student',
    label: 'Universidade de São Paulo',
    note: 'Student · education · Brazil',
    title: 'Student',
    company: {
      domain: 'usp.br',
      name: 'Universidade de São Paulo',
      industry: 'education',
      type: 'education',
      country: 'BR',
      region: 'SP',
      employees: 18000,
    },
  },
  {
    id: 'competitor',
    label: 'DataSentry',
    note: 'Competitor (on the playbook\'s competitor list)',
    title: 'Product Manager',
    company: {
      domain: 'www.DataSentry.com',
      name: 'DataSentry',
      industry: 'software',
      employees: 420,
      revenue: 70000000,
      country: 'US',
      region: 'CA',
      type: 'business',
      funding_stage: 'series_c',
      tech: ['aws', 'snowflake', 'datasentry', 'kubernetes'],
    },
  },
  {
    id: 'customer',
    label: 'Meridian Health',
    note: 'Existing customer · Boston',
    title: 'Director of Data Engineering',
    company: {
      domain: 'meridianhealth.org',
      name: 'Meridian Health',
      industry: 'healthcare',
      employees: 9000,
      revenue: 3200000000,
      country: 'US',
      region: 'MA',
      type: 'nonprofit',
      tech: ['snowflake', 'dbt', 'airflow', 'aws', 'tableau', 'datadog'],
    },
    account: {
      tier: 'tier1',
      customer: true,
      stage: 'adoption',
      roles_engaged: ['technical_evaluator', 'end_user', 'economic_buyer', 'procurement_legal'],
    },
  },
];

/** The preset with this id (the unknown visitor for anything else). */
export function preset(id) {
  return PRESETS.find((p) => p.id === id) || PRESETS[0];
}

const TITLE_MAX = 128;

/** The decide context for a preset and a job title (empty title: none). */
export function presetContext(id, title) {
  const p = preset(id);
  const ctx = { company: structuredClone(p.company) };
  if (p.account) ctx.account = structuredClone(p.account);
  const t = typeof title === 'string' ? title.trim().slice(0, TITLE_MAX) : '';
  if (t) ctx.person = { title: t };
  return ctx;
}
