//! Pre-qualification gates: territory, industries served, size, exclusions.
//! A gate whose attributes are all unknown is `unknown`, not failed: an
//! anonymous visitor is not disqualified for what we do not know.

use crate::attrs::Attrs;
use crate::decision::GateResult;
use crate::engine::Engine;
use crate::playbook::GateKind;
use crate::text::Text;

/// Evaluates every gate; returns the results and whether the visitor is qualified.
pub fn evaluate(engine: &Engine, attrs: &Attrs<'_>) -> (Vec<GateResult>, bool) {
    let mut qualified = true;
    let results = engine
        .gates
        .iter()
        .map(|g| {
            let known = g.paths.iter().any(|p| attrs.lookup(p).is_some());
            let status = if !known {
                "unknown"
            } else if g.condition.holds(attrs, &engine.lists) != g.exclude {
                "pass"
            } else {
                qualified = false;
                "fail"
            };
            GateResult {
                id: g.id.clone(),
                kind: Text::lit(kind_name(g.kind)),
                status,
            }
        })
        .collect();
    (results, qualified)
}

fn kind_name(k: GateKind) -> &'static str {
    match k {
        GateKind::Territory => "territory",
        GateKind::Industry => "industry",
        GateKind::Size => "size",
        GateKind::Exclusion => "exclusion",
        GateKind::Custom => "custom",
    }
}
