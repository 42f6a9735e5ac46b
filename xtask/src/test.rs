//! `cargo xtask test`: every test the project has, with nothing beside the repository.
//!
//! 1. `cargo test --workspace`. Tests that need something outside Rust are
//!    `#[ignore = "needs X: cargo xtask test runs it"]`, so a plain `cargo test` shows them as
//!    ignored rather than passing without running.
//! 2. Each row of [`GATED`]: its provider installs or finds the environment and returns the
//!    variables the tests read; then `cargo test -p <package> --test <target> -- --ignored`.
//!    Outside CI an environment that cannot be provided is skipped with the reason; in CI
//!    (`CI=true`) it is an error.
//! 3. The MCP conformance suite ([`crate::conformance`]).
//!
//! The run ends with a summary: per group what ran, passed and failed, every test still
//! skipped with its reason, and a last line `N passed, N failed, N skipped` summing the
//! `test result:` lines (a gated test that ran in step 2 is not counted as skipped).

use std::collections::BTreeMap;
use std::env;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::{Result, cargo, chromium, conformance, npm, python, redis};

/// Environment variables for a test run.
type Vars = Vec<(String, String)>;

/// Provides an environment: the variables its tests read, or why it cannot.
type Provider = fn() -> Result<Vars>;

/// A test target that needs something outside the Rust toolchain.
struct Gated {
    /// What it needs: the summary's group name, as in the tests' `#[ignore = "needs ..."]`.
    needs: &'static str,
    /// The package and `--test` target.
    package: &'static str,
    test: &'static str,
    /// Variables set for the run besides the provider's.
    env: &'static [(&'static str, &'static str)],
    provide: Provider,
}

const fn gated(
    needs: &'static str,
    package: &'static str,
    test: &'static str,
    env: &'static [(&'static str, &'static str)],
    provide: Provider,
) -> Gated {
    Gated {
        needs,
        package,
        test,
        env,
        provide,
    }
}

/// Every gated test target, one row each. Adding one: a row here, a provider function (which
/// may install what is missing and returns the variables the tests read), and
/// `#[ignore = "needs <needs>: cargo xtask test runs it"]` on the tests.
#[rustfmt::skip]
const GATED: &[Gated] = &[
    //    needs                package        --test     env  provider
    gated("server-everything", "mcpwire-sim", "interop", &[], provide_server_everything),
    gated("server-everything", "mcpwire-cli", "interop", &[], provide_server_everything),
    gated("redis-server",      "mcpwire-auth", "redis_store", &[], redis::provide_redis_server),
    gated("redis-server",      "mcpwire-auth", "fleet",       &[], redis::provide_redis_server),
    gated("redis-server",      "mcpwire-cli",  "gateway_fleet", &[], redis::provide_redis_server),
    gated("redis-server",      "mcpwire-gateway", "per_user_fleet", &[], redis::provide_redis_server),
    gated("redis-server",      "mcpwire-gateway", "shared_limits",  &[], redis::provide_redis_server),
    gated("the Python SDK venv", "mcpwire-gateway", "sdk",     &[], python::provide_sdk_env),
    gated("server-everything", "mcpwire-probe", "interop", &[], provide_server_everything),
    gated("the MCP conformance suite", "mcpwire-probe", "conformance",       &[], provide_conformance_suite),
    gated("the MCP conformance suite", "mcpwire-cli",   "probe_conformance", &[], provide_conformance_suite),
    gated("chromium",          "mcpwire-gateway", "ui_browser", &[], chromium::provide_chromium),
];

/// The reference MCP server `@modelcontextprotocol/server-everything`, pinned.
const SERVER_EVERYTHING: &str = "@modelcontextprotocol/server-everything@2026.8.31";

/// Installs server-everything and a Node 22 from the npm registry into the cache.
fn provide_server_everything() -> Result<Vars> {
    let version = SERVER_EVERYTHING.rsplit_once('@').map_or("", |(_, v)| v);
    let install = npm::install(
        &format!("server-everything-{version}"),
        &[SERVER_EVERYTHING],
    )?;
    Ok(vec![
        (
            "MCPWIRE_SERVER_EVERYTHING_DIR".to_owned(),
            install.dir.display().to_string(),
        ),
        (
            "MCPWIRE_NODE".to_owned(),
            install.node().display().to_string(),
        ),
    ])
}

/// Installs the pinned MCP conformance suite and a Node 22 (the same install as `cargo xtask
/// conformance`): its client scenarios, run without `--command`, serve mock MCP and
/// authorization servers for `mcpwire probe` to be pointed at.
fn provide_conformance_suite() -> Result<Vars> {
    let version = conformance::SUITE.rsplit_once('@').map_or("", |(_, v)| v);
    let install = npm::install(&format!("conformance-{version}"), &[conformance::SUITE])?;
    Ok(vec![
        (
            "MCPWIRE_CONFORMANCE_DIR".to_owned(),
            install.dir.display().to_string(),
        ),
        (
            "MCPWIRE_NODE".to_owned(),
            install.node().display().to_string(),
        ),
    ])
}

pub(crate) fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// What one `cargo test` run printed.
#[derive(Default)]
struct TestRun {
    passed: u64,
    failed: u64,
    ignored: u64,
    /// Ignored tests: name and reason (names may repeat across test binaries).
    ignored_tests: Vec<(String, String)>,
    /// Tests that ran (passed or failed), by name.
    ran: Vec<String>,
    success: bool,
}

impl TestRun {
    fn read_line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let mut words = part.split_whitespace().rev();
                let (Some(what), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                let n = n.parse::<u64>().unwrap_or(0);
                match what {
                    "passed" => self.passed += n,
                    "failed" => self.failed += n,
                    "ignored" => self.ignored += n,
                    _ => {}
                }
            }
        } else if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, status)) = rest.split_once(" ... ")
        {
            let name = name.trim().to_owned();
            if let Some(reason) = status.strip_prefix("ignored") {
                let reason = reason.trim_start_matches(',').trim();
                let reason = if reason.is_empty() {
                    "no reason given"
                } else {
                    reason
                };
                self.ignored_tests.push((name, reason.to_owned()));
            } else if status.starts_with("ok") || status.starts_with("FAILED") {
                self.ran.push(name);
            }
        }
    }
}

/// Runs `cargo test <args>`, echoing its output and reading its results.
fn cargo_test(args: &[&str], vars: &[(String, String)]) -> Result<TestRun> {
    let mut cmd = cargo();
    cmd.arg("test")
        .args(["--locked", "--no-fail-fast"])
        .args(args)
        .stdout(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut run = TestRun::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            println!("{line}");
            run.read_line(&line);
        }
    }
    run.success = child.wait().map_err(|e| e.to_string())?.success();
    Ok(run)
}

/// One line of the summary.
struct Group {
    name: String,
    line: String,
}

/// `cargo xtask test`.
pub(crate) fn test() -> Result {
    let mut groups: Vec<Group> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let (mut passed, mut failed) = (0, 0);

    let workspace = cargo_test(&["--workspace"], &[])?;
    passed += workspace.passed;
    failed += workspace.failed;
    if !workspace.success {
        problems.push("cargo test --workspace failed".to_owned());
    }
    groups.push(Group {
        name: "workspace".to_owned(),
        line: format!(
            "{} passed, {} failed, {} ignored (cargo test --workspace)",
            workspace.passed, workspace.failed, workspace.ignored
        ),
    });

    // Each environment is provided once, whatever the number of targets needing it.
    let mut provided: BTreeMap<&str, Result<Vars>> = BTreeMap::new();
    // Tests run by a gated row, by name and count: not skipped after all.
    let mut ran_later: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_provided: BTreeMap<&str, String> = BTreeMap::new();
    for row in GATED {
        let name = format!("{} ({} --test {})", row.needs, row.package, row.test);
        let vars = provided.entry(row.needs).or_insert_with(|| (row.provide)());
        let vars = match vars {
            Ok(vars) => vars.clone(),
            Err(why) => {
                if in_ci() {
                    problems.push(format!("{}: {why}", row.needs));
                }
                not_provided.insert(row.needs, why.clone());
                groups.push(Group {
                    name,
                    line: format!("not run: {why}"),
                });
                continue;
            }
        };
        let mut vars = vars;
        vars.extend(
            row.env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let run = cargo_test(
            &["-p", row.package, "--test", row.test, "--", "--ignored"],
            &vars,
        )?;
        passed += run.passed;
        failed += run.failed;
        if !run.success {
            problems.push(format!("{name} failed"));
        }
        for test in &run.ran {
            *ran_later.entry(test.clone()).or_default() += 1;
        }
        groups.push(Group {
            name,
            line: format!("{} passed, {} failed", run.passed, run.failed),
        });
    }

    let suite = match conformance::run_all() {
        Ok(outcome) => {
            problems.extend(outcome.problems.iter().cloned());
            format!(
                "{} library scenarios: {} passed, {} failed; mcpwire auth CLI {} scenarios: {} passed, {} failed, {} expected failure(s)",
                outcome.library.total(),
                outcome.library.passed,
                outcome.library.failed,
                outcome.cli.total(),
                outcome.cli.passed,
                outcome.cli.failed,
                outcome.cli.expected,
            )
        }
        // Without npm (and no earlier install) the suite cannot be installed: skipped, except
        // in CI. Any other failure (npm install, build) is a failure.
        Err(why) => {
            if in_ci() || npm::available() {
                problems.push(format!("MCP conformance suite: {why}"));
            }
            format!("not run: {why}")
        }
    };
    groups.push(Group {
        name: "MCP conformance suite".to_owned(),
        line: suite,
    });

    // Ignored in the workspace run and not run by a gated row: skipped, grouped by reason.
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (test, reason) in &workspace.ignored_tests {
        match ran_later.get_mut(test) {
            Some(n) if *n > 0 => *n -= 1,
            _ => *skipped.entry(reason.clone()).or_default() += 1,
        }
    }
    let skipped_total: usize = skipped.values().sum();

    println!("\n==> summary");
    for group in &groups {
        println!("  {}: {}", group.name, group.line);
    }
    if skipped.is_empty() {
        println!("  skipped: none");
    } else {
        println!("  skipped (ignored):");
        for (reason, n) in &skipped {
            let why_not = not_provided
                .iter()
                .find(|(needs, _)| reason.contains(*needs))
                .map(|(_, why)| format!(" [not provided: {why}]"))
                .unwrap_or_default();
            println!("    {n} x {reason}{why_not}");
        }
    }
    for problem in &problems {
        println!("  FAILED: {problem}");
    }
    println!("{passed} passed, {failed} failed, {skipped_total} skipped");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("cargo xtask test: {} problem(s)", problems.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libtest_output() {
        let mut run = TestRun::default();
        for line in [
            "running 3 tests",
            "test a::b ... ok",
            "test c ... ignored, needs server-everything: cargo xtask test runs it",
            "test d ... ignored",
            "test e ... FAILED",
            "test result: FAILED. 1 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ] {
            run.read_line(line);
        }
        assert_eq!((run.passed, run.failed, run.ignored), (5, 1, 2));
        let ignored: Vec<(&str, &str)> = run
            .ignored_tests
            .iter()
            .map(|(n, r)| (n.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            ignored,
            [
                ("c", "needs server-everything: cargo xtask test runs it"),
                ("d", "no reason given")
            ]
        );
        assert_eq!(run.ran, ["a::b", "e"]);
    }

    #[test]
    fn every_gated_row_names_a_test_file_that_exists() {
        for row in GATED {
            let file = crate::project_root()
                .join("crates")
                .join(row.package)
                .join("tests")
                .join(format!("{}.rs", row.test));
            assert!(file.is_file(), "{}", file.display());
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(
                text.contains(&format!("needs {}", row.needs)),
                "{} has no #[ignore = \"needs {}...\"]",
                file.display(),
                row.needs
            );
        }
    }
}
