//! Reports of a run: human lines, JSON, JUnit XML.

pub mod human;
pub mod json;
pub mod junit;

use serde::Serialize;

use crate::runner::{ScenarioReport, ScenarioStatus};

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
    /// Scenarios that were skipped.
    pub skipped: usize,
}

impl Summary {
    /// Counts `reports`.
    pub fn of(reports: &[ScenarioReport]) -> Self {
        let mut s = Self::default();
        for r in reports {
            match r.status {
                ScenarioStatus::Passed => s.passed += 1,
                ScenarioStatus::Failed => s.failed += 1,
                ScenarioStatus::Skipped => s.skipped += 1,
            }
        }
        s
    }
}
