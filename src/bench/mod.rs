//! `regharness bench`: the mocks side by side with the real programs they stand for.
//!
//! In one run, with the same client each time:
//!
//! 1. one big blob pulled with the builtin client from the mock registry and from a
//!    real distribution (`docker-registry`), plain HTTP on loopback;
//! 2. the same blob through the mock proxy and through a real squid (`CONNECT`, then
//!    TLS to the mock registry's TLS front; squid's parent is the mock proxy, since
//!    squid cannot resolve the virtual host name);
//! 3. a login + token + pull scenario with the builtin client against `skopeo inspect`
//!    on a world of the same scenario.
//!
//! Each row is the median of its runs; each pair is followed by its ratio. A missing
//! program makes its row `skipped: X not installed`; the other rows still run.

pub mod blob;
pub mod scenario;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::scenario::Scenario;

/// One mebibyte.
pub const MIB: usize = 1024 * 1024;
/// The scenario of the scenario rows (relative to the repository).
pub const DEFAULT_SCENARIO: &str = "scenarios/pull/portal-user-login-then-pull.yaml";

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Size of the blob's pseudo-random content, in MiB (the gzip'd layer is a little
    /// larger).
    pub size_mib: usize,
    /// Pulls per blob row.
    pub iterations: usize,
    /// Runs per scenario row.
    pub scenario_runs: usize,
    /// Bound of one blob pull.
    pub pull_timeout: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            size_mib: 256,
            iterations: 3,
            scenario_runs: 5,
            pull_timeout: Duration::from_secs(300),
        }
    }
}

/// A row's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Wall time of each run.
    pub times: Vec<Duration>,
    /// Bytes moved per run, when the row is a transfer.
    pub bytes: Option<u64>,
}

impl Measurement {
    /// Runs and their size.
    pub fn new(times: Vec<Duration>, bytes: Option<u64>) -> Self {
        Self { times, bytes }
    }

    /// The median time (the upper one of an even count); zero without runs.
    pub fn median(&self) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }

    /// MiB/s at the median time, for transfers.
    pub fn rate_mib_s(&self) -> Option<f64> {
        let secs = self.median().as_secs_f64();
        self.bytes
            .filter(|_| secs > 0.0)
            .map(|b| b as f64 / MIB as f64 / secs)
    }
}

/// What a row came to.
#[derive(Debug, Clone, PartialEq)]
pub enum RowResult {
    /// Measured.
    Measured(Measurement),
    /// Not run: why (`docker-registry not installed`).
    Skipped(String),
    /// Set-up or a run failed: why.
    Failed(String),
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `mock registry`, `distribution`, `mock proxy`, `squid`, `builtin client`,
    /// `skopeo inspect`.
    pub name: String,
    /// Version and set-up, in parentheses (may be empty).
    pub detail: String,
    /// The result.
    pub result: RowResult,
}

impl Row {
    /// A row.
    pub fn new(name: &str, detail: &str, result: RowResult) -> Self {
        Self {
            name: name.to_string(),
            detail: detail.to_string(),
            result,
        }
    }

    /// `  NAME  median 1.234 s  456 MiB/s  (runs: ...)  DETAIL` or `  NAME  skipped: WHY`.
    pub fn render(&self) -> String {
        let head = format!("  {:<15}", self.name);
        match &self.result {
            RowResult::Measured(m) => {
                let median = m.median();
                let time = if median < Duration::from_secs(1) {
                    format!("{:.1} ms", median.as_secs_f64() * 1000.0)
                } else {
                    format!("{:.3} s", median.as_secs_f64())
                };
                let rate = m
                    .rate_mib_s()
                    .map(|r| format!("  {r:.0} MiB/s"))
                    .unwrap_or_default();
                let runs: Vec<String> = m
                    .times
                    .iter()
                    .map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0))
                    .collect();
                format!(
                    "{head} median {time}{rate}  (runs, ms: {})  {}",
                    runs.join(" "),
                    self.detail
                )
                .trim_end()
                .to_string()
            }
            RowResult::Skipped(why) => format!("{head} skipped: {why}"),
            RowResult::Failed(why) => format!("{head} failed: {why}"),
        }
    }
}

/// `  ratio B / A: ...` for two rows of a pair (time of `b` over time of `a`).
pub fn ratio_line(a: &Row, b: &Row) -> String {
    let label = format!("  ratio {} / {}:", b.name, a.name);
    match (&a.result, &b.result) {
        (RowResult::Measured(ma), RowResult::Measured(mb)) if !ma.median().is_zero() => {
            let r = mb.median().as_secs_f64() / ma.median().as_secs_f64();
            format!(
                "{label} {r:.2}x the time ({} is {:.2}x as fast)",
                b.name,
                1.0 / r
            )
        }
        _ => format!("{label} n/a (a row did not run)"),
    }
}

/// Every row, in order, with the section and ratio lines, printed through `out` as
/// they finish. Returns the rows.
pub async fn run(
    options: &BenchOptions,
    scenario: &Scenario,
    out: &mut dyn FnMut(&str),
) -> Vec<Row> {
    let mut rows = Vec::new();
    let size = options.size_mib.max(1) * MIB;
    out(&format!(
        "regharness bench: a {} MiB blob, {} pull(s) per blob row; scenario {}, {} run(s) per scenario row; medians",
        options.size_mib.max(1),
        options.iterations.max(1),
        scenario.name,
        options.scenario_runs.max(1)
    ));
    match blob::BlobWorld::start(size, options.pull_timeout).await {
        Ok(world) => {
            out(&format!(
                "blob {} ({} bytes gzip'd), builtin client, loopback",
                world.digest(),
                world.size()
            ));
            out("1. registry: the same blob from each server (plain HTTP)");
            let a = world.mock_registry(options.iterations).await;
            out(&a.render());
            let b = world.distribution(options.iterations).await;
            out(&b.render());
            out(&ratio_line(&a, &b));
            out("2. proxy: the same blob through each proxy (CONNECT, TLS)");
            let c = world.mock_proxy(options.iterations).await;
            out(&c.render());
            let d = world.squid(options.iterations).await;
            out(&d.render());
            out(&ratio_line(&c, &d));
            rows.extend([a, b, c, d]);
        }
        Err(e) => {
            out("1. registry / 2. proxy");
            for name in ["mock registry", "distribution", "mock proxy", "squid"] {
                let row = Row::new(name, "", RowResult::Failed(e.to_string()));
                out(&row.render());
                rows.push(row);
            }
        }
    }
    out("3. scenario: login + token + pull");
    let e = scenario::builtin(scenario, options.scenario_runs).await;
    out(&e.render());
    let f = scenario::skopeo(scenario, options.scenario_runs).await;
    out(&f.render());
    out(&ratio_line(&e, &f));
    rows.extend([e, f]);
    rows
}

/// The first line of `program FLAG` (`--version`, `-v`), bounded to 10 s; `None` when
/// it does not run.
pub fn program_version(program: &Path, flag: &str) -> Option<String> {
    let env: Vec<(String, String)> = std::env::var("PATH")
        .map(|p| vec![("PATH".to_string(), p)])
        .unwrap_or_default();
    let run = crate::client::skopeo::process::run_bounded(
        program,
        &[flag.to_string()],
        &env,
        Path::new("/"),
        Duration::from_secs(10),
    );
    if run.exit_code != Some(0) {
        return None;
    }
    run.stdout
        .lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// The default scenario, found from the current folder or the crate's.
pub fn default_scenario() -> PathBuf {
    let here = PathBuf::from(DEFAULT_SCENARIO);
    if here.is_file() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_SCENARIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(ms: &[u64], bytes: Option<u64>) -> RowResult {
        RowResult::Measured(Measurement::new(
            ms.iter().map(|m| Duration::from_millis(*m)).collect(),
            bytes,
        ))
    }

    #[test]
    fn median_and_rate() {
        let m = Measurement::new(
            [300, 100, 200].map(Duration::from_millis).to_vec(),
            Some(2 * MIB as u64),
        );
        assert_eq!(m.median(), Duration::from_millis(200));
        assert_eq!(m.rate_mib_s(), Some(10.0));
        assert_eq!(Measurement::new(vec![], None).median(), Duration::ZERO);
    }

    #[test]
    fn rows_and_ratios_render() {
        let a = Row::new("mock proxy", "(x)", measured(&[100, 100], Some(MIB as u64)));
        let b = Row::new("squid", "", measured(&[250], Some(MIB as u64)));
        assert_eq!(
            a.render(),
            "  mock proxy      median 100.0 ms  10 MiB/s  (runs, ms: 100 100)  (x)"
        );
        assert_eq!(
            ratio_line(&a, &b),
            "  ratio squid / mock proxy: 2.50x the time (squid is 0.40x as fast)"
        );
        let skipped = Row::new(
            "squid",
            "",
            RowResult::Skipped("squid not installed".into()),
        );
        assert_eq!(
            skipped.render(),
            "  squid           skipped: squid not installed"
        );
        assert_eq!(
            ratio_line(&a, &skipped),
            "  ratio squid / mock proxy: n/a (a row did not run)"
        );
    }
}
