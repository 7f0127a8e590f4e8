//! A scenario whose expectation is wrong must fail, with a message a person can act on.

use std::path::Path;

use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::load::load_str;

const WRONG_EXPECT: &str = r#"
description: the password is wrong but the scenario expects a 200
world:
  sso:
    accounts:
      - person: myrhusername
        password: canary-portal-pw-7f3e9a
steps:
  - token:
      credentials: {account: myrhusername, password: canary-wrong-pw-1c2d}
    expect: {outcome: ok, status: 200}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_expectation_fails_with_a_readable_message() {
    let scenario = load_str(WRONG_EXPECT, Path::new("inline/wrong-expect.yaml"), None).unwrap();
    let report = run_scenario(&scenario).await;
    assert_eq!(report.status, ScenarioStatus::Failed);
    let reason = report.reason.unwrap();
    assert_eq!(
        reason,
        "step 1 \"1 token repository:rhel:pull\": expected outcome ok, got failed \
         (credentials-rejected: the token endpoint answered 401 Unauthorized to the credentials sent): \
         HTTP 401: UNAUTHORIZED: Invalid username or password; expected HTTP status 200, got 401"
    );
    assert!(!reason.contains("canary"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_of_expectation_can_fail() {
    let cases = [
        (
            "expect: {outcome: ok, status: 201}",
            "expected HTTP status 201, got 200",
        ),
        (
            "expect: {outcome: ok, body: {}}",
            "expected body {}, got {\"token\":\"[jwt]\"",
        ),
        (
            "expect: {outcome: ok, message_contains: nope}",
            "to contain \"nope\"",
        ),
        (
            "expect: {outcome: ok, snapshot: [auth.json]}",
            "wrote no such file",
        ),
        (
            "expect: {outcome: failed}",
            "expected outcome failed, got ok",
        ),
    ];
    for (expect, needle) in cases {
        let text = format!(
            "description: d\nworld:\n  sso:\n    accounts:\n      - service_account: \"1|a\"\nsteps:\n  - token: {{credentials: {{account: a}}}}\n    {expect}\n"
        );
        let scenario = load_str(&text, Path::new("inline.yaml"), None).unwrap();
        let report = run_scenario(&scenario).await;
        assert_eq!(report.status, ScenarioStatus::Failed, "{expect}");
        let reason = report.reason.unwrap();
        assert!(reason.contains(needle), "{expect}: {reason}");
    }
}
