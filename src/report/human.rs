//! Human-readable lines: one per scenario, details for failures, a summary.

use std::fmt::Write;

use super::Summary;
use crate::runner::{ScenarioReport, ScenarioStatus};
use crate::scenario::model::{ClientKind, Outcome};

/// One line for a scenario, plus indented details when it failed.
pub fn scenario_line(r: &ScenarioReport, verbose: bool) -> String {
    let tag = match r.status {
        ScenarioStatus::Passed => "PASS",
        ScenarioStatus::Failed => "FAIL",
        ScenarioStatus::Skipped => "SKIP",
    };
    let mut out = format!(
        "{tag}  {}  ({} steps, {} ms)",
        r.name,
        r.steps.len(),
        r.duration_ms
    );
    if r.status != ScenarioStatus::Passed || verbose {
        if let Some(reason) = &r.reason {
            let _ = write!(out, "\n      {reason}");
        }
        for s in &r.steps {
            let mark = if !s.unmet.is_empty() {
                "✗"
            } else if s.outcome == Outcome::Ok {
                "✓"
            } else if s.outcome == Outcome::Skipped {
                "-"
            } else {
                "·"
            };
            let client = if s.client == ClientKind::Builtin {
                String::new()
            } else {
                format!(" ({})", s.client)
            };
            if s.outcome == Outcome::Skipped {
                let _ = write!(out, "\n      {mark} {}{client} → {}", s.name, s.message);
                continue;
            }
            let _ = write!(
                out,
                "\n      {mark} {}{client} → {} [{}{}]: {}",
                s.name,
                s.outcome,
                s.diagnosis,
                s.status.map(|c| format!(", HTTP {c}")).unwrap_or_default(),
                s.message
            );
            if let Some(detail) = s.detail.as_deref().filter(|d| !d.is_empty()) {
                let _ = write!(out, "\n        why: {detail}");
            }
            if !s.unmet.is_empty() {
                if let Some(rem) = &s.remediation {
                    let _ = write!(out, "\n        remediation: {rem}");
                }
            }
        }
    }
    out
}

/// The closing summary line: counts, wall time and the median time per scenario.
pub fn summary_line(reports: &[ScenarioReport], wall_ms: u64) -> String {
    let summary = Summary::of(reports);
    format!(
        "{} passed, {} failed, {} skipped ({} scenarios in {:.2} s, median {} ms per scenario)",
        summary.passed,
        summary.failed,
        summary.skipped,
        reports.len(),
        wall_ms as f64 / 1000.0,
        median_ms(reports)
    )
}

/// The median of the scenarios' durations.
pub fn median_ms(reports: &[ScenarioReport]) -> u64 {
    let mut d: Vec<u64> = reports.iter().map(|r| r.duration_ms).collect();
    d.sort_unstable();
    match d.len() {
        0 => 0,
        n if n % 2 == 1 => d[n / 2],
        n => (d[n / 2 - 1] + d[n / 2]) / 2,
    }
}
