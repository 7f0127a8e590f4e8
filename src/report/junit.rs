//! JUnit XML: one test suite, one test case per scenario.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::runner::{ScenarioReport, ScenarioStatus};

/// Renders JUnit XML.
pub fn render(reports: &[ScenarioReport]) -> Result<String, String> {
    let mut report = Report::new("regharness");
    let mut suite = TestSuite::new("scenarios");
    for r in reports {
        let status = match r.status {
            ScenarioStatus::Passed => TestCaseStatus::success(),
            ScenarioStatus::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(r.reason.clone().unwrap_or_default());
                s
            }
            ScenarioStatus::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(r.reason.clone().unwrap_or_default());
                s
            }
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_classname(r.file.clone());
        case.set_time(Duration::from_millis(r.duration_ms));
        let steps: Vec<String> = r
            .steps
            .iter()
            .map(|s| format!("{} [{}] {}: {}", s.name, s.outcome, s.diagnosis, s.message))
            .collect();
        case.set_system_out(steps.join("\n"));
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().map_err(|e| e.to_string())
}
