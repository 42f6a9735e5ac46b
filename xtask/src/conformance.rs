//! `cargo xtask conformance`: the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`, pinned) against `mcpwire-auth`'s conformance client
//! and against the `mcpwire auth` CLI.
//!
//! The suite and a Node 22 are installed from the npm registry into the cache (see
//! [`crate::npm`]). Each leg's full log and result files go to `<target>/conformance/`; the
//! terminal gets one line per leg with its scenario counts. A leg that runs another number of
//! scenarios than [`LEGS`] says fails, so a suite that silently skips scenarios is caught.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Result, cargo, npm, project_root, run, target_dir};

/// The pinned suite.
pub(crate) const SUITE: &str = "@modelcontextprotocol/conformance@0.2.0-alpha.12";

/// Who the suite drives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    /// `crates/mcpwire-auth/examples/conformance-client.rs`.
    Library,
    /// `mcpwire auth login` + `mcpwire auth token` through
    /// `crates/mcpwire-cli/conformance/auth-cli.sh`, with its expected-failures baseline.
    Cli,
}

/// One leg: one or more suite runs whose scenarios are counted together.
struct Leg {
    name: &'static str,
    client: Client,
    /// Each entry is the arguments of one `conformance client` run.
    runs: &'static [&'static [&'static str]],
    /// How many scenarios the leg must run.
    scenarios: usize,
}

/// The draft suite's auth scenarios (its non-auth scenarios test servers, not clients).
const DRAFT_AUTH: &[&[&str]] = &[
    &[
        "--scenario",
        "auth/resource-mismatch",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/offline-access-scope",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/offline-access-not-supported",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/authorization-server-migration",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-supported",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-not-advertised",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-supported-missing",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-wrong-issuer",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-unexpected",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/iss-normalized",
        "--spec-version",
        "2026-07-28",
    ],
    &[
        "--scenario",
        "auth/metadata-issuer-mismatch",
        "--spec-version",
        "2026-07-28",
    ],
];

/// Every leg, in order. The library legs add up to 47 scenarios.
const LEGS: &[Leg] = &[
    Leg {
        name: "auth 2025-11-25",
        client: Client::Library,
        runs: &[&["--suite", "auth", "--spec-version", "2025-11-25"]],
        scenarios: 14,
    },
    Leg {
        name: "auth 2026-07-28",
        client: Client::Library,
        runs: &[&["--suite", "auth", "--spec-version", "2026-07-28"]],
        scenarios: 14,
    },
    Leg {
        name: "draft (auth)",
        client: Client::Library,
        runs: DRAFT_AUTH,
        scenarios: 11,
    },
    Leg {
        name: "backcompat",
        client: Client::Library,
        runs: &[&["--suite", "backcompat"]],
        scenarios: 2,
    },
    // Client credentials (secret, private_key_jwt), enterprise-managed authorization, workload
    // identity federation, DPoP, DPoP with nonces.
    Leg {
        name: "extensions",
        client: Client::Library,
        runs: &[&["--suite", "extensions"]],
        scenarios: 6,
    },
    Leg {
        name: "mcpwire auth CLI",
        client: Client::Cli,
        runs: &[&[
            "--suite",
            "auth",
            "--spec-version",
            "2025-11-25",
            "--expected-failures",
            "crates/mcpwire-cli/conformance/expected-failures.yaml",
        ]],
        scenarios: 14,
    },
];

/// Scenario counts of one leg or of all of them.
#[derive(Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    /// Failures listed in the leg's baseline (not counted in `failed`).
    pub(crate) expected: usize,
}

impl Counts {
    pub(crate) fn total(self) -> usize {
        self.passed + self.failed + self.expected
    }

    fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.expected += other.expected;
    }
}

/// What a whole conformance run found.
pub(crate) struct Outcome {
    pub(crate) library: Counts,
    pub(crate) cli: Counts,
    /// Legs that failed, with why.
    pub(crate) problems: Vec<String>,
}

/// `cargo xtask conformance`.
pub(crate) fn conformance() -> Result {
    let outcome = run_all()?;
    if outcome.problems.is_empty() {
        println!(
            "MCP conformance suite: {} library scenarios passed; mcpwire auth CLI: {} passed, {} expected failure(s)",
            outcome.library.passed, outcome.cli.passed, outcome.cli.expected
        );
        Ok(())
    } else {
        Err(format!(
            "MCP conformance suite failed: {}",
            outcome.problems.join("; ")
        ))
    }
}

/// Installs the suite, builds both clients and runs every leg. `Err` only when the run cannot
/// start (no npm, build failure); failing legs are in [`Outcome::problems`].
pub(crate) fn run_all() -> Result<Outcome> {
    let version = SUITE.rsplit_once('@').map_or(SUITE, |(_, v)| v);
    let suite = npm::install(&format!("conformance-{version}"), &[SUITE])?;
    let entry = suite.module_file("@modelcontextprotocol/conformance/dist/index.js");
    if !entry.is_file() {
        return Err(format!("{} not found after install", entry.display()));
    }
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--locked",
        "-p",
        "mcpwire-auth",
        "--example",
        "conformance-client",
        "-p",
        "mcpwire-cli",
        "--bin",
        "mcpwire",
    ]);
    run(build, "cargo build of the conformance clients")?;
    let target = target_dir();
    let library = target
        .join("debug")
        .join("examples")
        .join("conformance-client");
    let cli = target.join("debug").join("mcpwire");
    let out = target.join("conformance");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let node_dir = suite
        .node()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(node_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .map_err(|e| e.to_string())?;

    let mut outcome = Outcome {
        library: Counts::default(),
        cli: Counts::default(),
        problems: Vec::new(),
    };
    println!(
        "MCP conformance suite {version} (results: {})",
        out.display()
    );
    for (n, leg) in LEGS.iter().enumerate() {
        let mut counts = Counts::default();
        let mut failed_runs = 0;
        for (k, args) in leg.runs.iter().enumerate() {
            let results = out.join(format!("leg{n}-run{k}"));
            let command = match leg.client {
                Client::Library => library.display().to_string(),
                Client::Cli => "bash crates/mcpwire-cli/conformance/auth-cli.sh".to_owned(),
            };
            let output = Command::new(suite.node())
                .current_dir(project_root())
                .arg(&entry)
                .args(["client", "--command", &command])
                .args(*args)
                .arg("-o")
                .arg(&results)
                .env("PATH", &path)
                .env("MCPWIRE_BIN", &cli)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run the conformance suite: {e}"))?;
            let mut log = output.stdout;
            log.extend_from_slice(&output.stderr);
            let log = strip_ansi(&String::from_utf8_lossy(&log));
            let log_file = results.with_extension("log");
            fs::write(&log_file, &log).map_err(|e| format!("{}: {e}", log_file.display()))?;
            let found = parse(&log);
            if !output.status.success() {
                failed_runs += 1;
                print_failure(&log, &log_file);
            }
            counts.add(found);
        }
        let mut line = format!(
            "  {:<18} {:>2} scenarios: {} passed",
            leg.name,
            counts.total(),
            counts.passed
        );
        if counts.failed > 0 {
            line.push_str(&format!(", {} FAILED", counts.failed));
        }
        if counts.expected > 0 {
            line.push_str(&format!(
                ", {} expected failure(s) (baseline)",
                counts.expected
            ));
        }
        println!("{line}");
        if failed_runs > 0 || counts.failed > 0 {
            outcome.problems.push(format!(
                "{}: {} scenario(s) failed",
                leg.name,
                counts.failed.max(1)
            ));
        }
        if counts.total() != leg.scenarios {
            outcome.problems.push(format!(
                "{}: ran {} scenarios, expected {}",
                leg.name,
                counts.total(),
                leg.scenarios
            ));
        }
        match leg.client {
            Client::Library => outcome.library.add(counts),
            Client::Cli => outcome.cli.add(counts),
        }
    }
    Ok(outcome)
}

/// Counts scenarios in one run's output: the suite summary's `✓ name` / `✗ name` lines, the
/// single-scenario `OVERALL: PASSED|FAILED` line, and the baseline's `~ name` lines (a failure
/// listed in the expected-failures file, already counted as `✗`).
fn parse(log: &str) -> Counts {
    let mut counts = Counts::default();
    for line in log.lines().map(str::trim) {
        if line.starts_with("✓ ") || line.contains("OVERALL: PASSED") {
            counts.passed += 1;
        } else if line.starts_with("✗ ") || line.contains("OVERALL: FAILED") {
            counts.failed += 1;
        } else if line.starts_with("~ ") {
            counts.expected += 1;
        }
    }
    counts.failed = counts.failed.saturating_sub(counts.expected);
    counts
}

/// The part of a failed run's log that says what failed.
fn print_failure(log: &str, file: &Path) {
    let tail: Vec<&str> = log
        .lines()
        .skip_while(|l| !(l.contains("SUITE SUMMARY") || l.contains("Test Results")))
        .collect();
    let shown = if tail.is_empty() {
        log.lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    } else {
        tail
    };
    for line in shown {
        eprintln!("    {line}");
    }
    eprintln!("    (full log: {})", file.display());
}

/// Removes ANSI colour sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_suite_single_and_baseline_output() {
        let suite = "=== SUITE SUMMARY ===\n\n\u{1b}[32m✓ auth/a: 15 passed, 0 failed\u{1b}[0m\n✗ auth/b: 9 passed, 1 failed\n✓ auth/c: 1 passed\n\nExpected failures (in baseline):\n  ~ auth/b\n";
        let c = parse(&strip_ansi(suite));
        assert_eq!((c.passed, c.failed, c.expected), (2, 0, 1));
        let single = "Test Results:\nPassed: 13/13\n\n✅ OVERALL: PASSED\n";
        let c = parse(single);
        assert_eq!((c.passed, c.failed, c.total()), (1, 0, 1));
        assert_eq!(parse("❌ OVERALL: FAILED\n").failed, 1);
    }

    #[test]
    fn library_legs_add_up_to_47_scenarios() {
        let library: usize = LEGS
            .iter()
            .filter(|l| l.client == Client::Library)
            .map(|l| l.scenarios)
            .sum();
        assert_eq!(library, 47);
        let draft = LEGS.iter().find(|l| l.name.starts_with("draft"));
        assert_eq!(draft.map(|l| l.runs.len()), Some(11));
    }
}
