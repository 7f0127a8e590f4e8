//! The JSON report: `{"summary":{...},"scenarios":[{"name","file","status","steps":[...]}]}`.

use serde::Serialize;

use super::Summary;
use crate::runner::ScenarioReport;

#[derive(Serialize)]
struct JsonReport<'a> {
    summary: Summary,
    wall_time_ms: u64,
    median_scenario_ms: u64,
    scenarios: &'a [ScenarioReport],
}

/// Renders the JSON report.
pub fn render(reports: &[ScenarioReport], wall_time_ms: u64) -> String {
    let report = JsonReport {
        summary: Summary::of(reports),
        wall_time_ms,
        median_scenario_ms: super::human::median_ms(reports),
        scenarios: reports,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
