//! Project automation, in the `cargo xtask` style: `cargo xtask help` lists the tasks.
//!
//! Every `--check` failure prints the command that fixes it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod apt;
mod bench;
mod chromium;

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod conformance;
mod npm;
mod python;
mod redis;
mod test;

type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test                 every test: the workspace's tests, then the tests that need an outside
                       environment (installed from npm into ~/.cache/mcpwire), then the MCP
                       conformance suite; ends with a summary of what ran and what was skipped
  conformance          the official MCP conformance suite (pinned, with a Node 22, both from the
                       npm registry) against mcpwire-auth's client (47 auth scenarios) and the
                       `mcpwire auth` CLI (auth suite, with its expected-failures baseline)
  fixtures [--check]   parse every file in fixtures/ with the typed schema, verify the round trip,
                       its provenance row and that it holds no real-looking secret
  snapshots [--check]  run the snapshot tests; review (or, with --check, reject) new, changed
                       and unreferenced snapshots
  snapshots --accept   accept every pending snapshot and delete unreferenced ones
  bench                decoding speed of mcpwire vs serde_json::Value, IgnoredAny and async-openai
                       (medians, ratios), and peak memory and throughput of `mcpwire normalize`
  bench --corpus       only write the benchmark corpora (target/bench-corpus/) and print their mix";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test"] => test::test(),
        ["conformance"] => conformance::conformance(),
        ["bench"] => bench::bench(),
        ["bench", "--corpus"] => bench::corpus_only(),
        ["fixtures"] => fixtures(false),
        ["fixtures", "--check"] => fixtures(true),
        ["snapshots"] => snapshots(Mode::Review),
        ["snapshots", "--check"] => snapshots(Mode::Check),
        ["snapshots", "--accept"] => snapshots(Mode::Accept),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(project_root());
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed"))
    }
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| project_root().join("target"), PathBuf::from)
}

/// The workspace root: the parent of `xtask/`.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn fixture_files() -> Result<Vec<PathBuf>> {
    let root = project_root().join("fixtures");
    let mut files = Vec::new();
    for vendor in ["openai", "anthropic"] {
        let dir = root.join(vendor);
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_file() && path.file_name().is_some_and(|n| n != "README.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn fixtures(check: bool) -> Result {
    let root = project_root();
    let mut failures = Vec::new();
    let files = fixture_files()?;
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let bytes = fs::read(path).map_err(|e| format!("{rel}: {e}"))?;
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "sse")
        ) {
            failures.push(format!("{rel}: fixtures are .json or .sse files"));
            continue;
        }
        match mcpwire_schema::check::check(&bytes) {
            Ok(report) => {
                if !check {
                    let summary = report.summary();
                    let kept = if summary.is_empty() {
                        String::new()
                    } else {
                        let list: Vec<String> = summary
                            .iter()
                            .map(|(what, n)| format!("{what} x{n}"))
                            .collect();
                        format!("; kept unmodelled: {}", list.join(", "))
                    };
                    println!("ok    {rel}: {}{kept}", report.kind);
                }
            }
            Err(err) => failures.push(format!("{rel}: {err}")),
        }
        let readme = path
            .parent()
            .map(|d| d.join("README.md"))
            .unwrap_or_default();
        let listed = fs::read_to_string(&readme).is_ok_and(|text| text.contains(name));
        if !listed {
            failures.push(format!(
                "{rel}: no provenance row in {}",
                readme.strip_prefix(&root).unwrap_or(&readme).display()
            ));
        }
        for secret in secrets(&String::from_utf8_lossy(&bytes)) {
            failures.push(format!("{rel}: looks like a real secret: {secret}"));
        }
    }
    // The neutral requests are not vendor payloads (mcpwire-providers parses them); only scan.
    let neutral = root.join("fixtures").join("neutral");
    if let Ok(entries) = fs::read_dir(&neutral) {
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let text = fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
            for secret in secrets(&text) {
                failures.push(format!("{rel}: looks like a real secret: {secret}"));
            }
        }
    }
    // Gateway audit files (`mcpwire log` input): JSON Lines naming a request, a provenance
    // row each, no secrets.
    let audit = root.join("fixtures").join("audit");
    if let Ok(entries) = fs::read_dir(&audit) {
        let readme = fs::read_to_string(audit.join("README.md")).unwrap_or_default();
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if name == "README.md" {
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            if !readme.contains(&name) {
                failures.push(format!(
                    "{rel}: no provenance row in fixtures/audit/README.md"
                ));
            }
            let text = fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
            for (i, line) in text.lines().enumerate() {
                let named = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .is_some_and(|v| v.get("request_id").is_some_and(|id| id.is_string()));
                if !named {
                    failures.push(format!(
                        "{rel}:{}: not a JSON object with a request_id",
                        i + 1
                    ));
                }
            }
            for secret in secrets(&text) {
                failures.push(format!("{rel}: looks like a real secret: {secret}"));
            }
        }
    }
    for snapshot in snapshot_files()? {
        let rel = snapshot
            .strip_prefix(&root)
            .unwrap_or(&snapshot)
            .display()
            .to_string();
        let text = fs::read_to_string(&snapshot).map_err(|e| format!("{rel}: {e}"))?;
        for secret in secrets(&text) {
            failures.push(format!("{rel}: looks like a real secret: {secret}"));
        }
    }
    if failures.is_empty() {
        println!(
            "{} fixtures parse, round-trip, have provenance and hold no secrets",
            files.len()
        );
        Ok(())
    } else {
        for failure in &failures {
            eprintln!("FAIL  {failure}");
        }
        Err(format!(
            "{} fixture problem(s). Fix the payload or the schema, add provenance rows to fixtures/<vendor>/README.md, \
             replace secrets with \"<redacted>\"; then run `cargo xtask fixtures`.",
            failures.len()
        ))
    }
}

/// Values that look like real credentials: vendor key formats, JWTs, long bearer tokens, and
/// credential fields whose value is not an obvious placeholder. Returns them masked.
fn secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let token_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut i = 0;
    while i < bytes.len() {
        if !token_char(bytes[i]) || (i > 0 && token_char(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let end = (i..bytes.len())
            .find(|&j| !token_char(bytes[j]))
            .unwrap_or(bytes.len());
        let word = &text[i..end];
        let suspicious = [
            ("sk-ant-", 20),
            ("sk-proj-", 20),
            ("sk-", 32),
            ("ghp_", 30),
            ("gho_", 30),
            ("ghs_", 30),
            ("github_pat_", 30),
            ("xoxb-", 10),
            ("xoxp-", 10),
            ("AKIA", 16),
        ]
        .iter()
        .any(|(prefix, min)| word.starts_with(prefix) && word.len() >= prefix.len() + min)
            || (word.starts_with("eyJ") && text[end..].starts_with(".eyJ"));
        if suspicious {
            found.push(mask(word));
        }
        i = end;
    }
    for field in [
        "\"authorization\"",
        "\"authorization_token\"",
        "\"Authorization\"",
        "\"x-api-key\"",
        "\"api_key\"",
        "\"client_secret\"",
        "\"access_token\"",
        "\"refresh_token\"",
    ] {
        let mut rest = text;
        while let Some(pos) = rest.find(field) {
            rest = &rest[pos + field.len()..];
            let after = rest.trim_start().strip_prefix(':').map(str::trim_start);
            if let Some(value) = after
                .and_then(|a| a.strip_prefix('"'))
                .and_then(|a| a.split('"').next())
            {
                let value = value.strip_prefix("Bearer ").unwrap_or(value);
                let placeholder = value.len() < 20
                    || value.contains('<')
                    || value.contains("redacted")
                    || value.contains("REDACTED")
                    || value.starts_with("YOUR")
                    || value.contains("example")
                    || value.contains("test");
                if !placeholder {
                    found.push(format!("{field}: {}", mask(value)));
                }
            }
        }
    }
    found
}

fn mask(secret: &str) -> String {
    let shown: String = secret.chars().take(6).collect();
    format!("{shown}... ({} chars)", secret.chars().count())
}

/// Files under `crates/*/tests/snapshots/` whose name ends with `suffix`.
fn snapshot_dir_files(suffix: &str) -> Result<Vec<PathBuf>> {
    let crates = project_root().join("crates");
    let mut out = Vec::new();
    for entry in fs::read_dir(&crates).map_err(|e| e.to_string())? {
        let dir = entry
            .map_err(|e| e.to_string())?
            .path()
            .join("tests")
            .join("snapshots");
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.to_string_lossy().ends_with(suffix) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn snapshot_files() -> Result<Vec<PathBuf>> {
    snapshot_dir_files(".snap")
}

fn pending_snapshots() -> Result<Vec<PathBuf>> {
    snapshot_dir_files(".snap.new")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Review,
    Check,
    Accept,
}

/// Runs every `tests/snapshots.rs` of the workspace, records which snapshot files the run
/// referenced, and compares with the files on disk.
fn snapshots(mode: Mode) -> Result {
    let root = project_root();
    let refs = root.join("target").join("xtask-snapshot-refs.txt");
    fs::create_dir_all(root.join("target")).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&refs);
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--workspace",
        "--locked",
        "--test",
        "snapshots",
        "--quiet",
    ])
    .env("INSTA_SNAPSHOT_REFERENCES_FILE", &refs)
    .env_remove("INSTA_FORCE_PASS");
    match mode {
        Mode::Check => cmd.env("INSTA_UPDATE", "no").env("CI", "true"),
        Mode::Review | Mode::Accept => cmd.env("INSTA_UPDATE", "new").env("INSTA_FORCE_PASS", "1"),
    };
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    let referenced: BTreeSet<PathBuf> = fs::read_to_string(&refs)
        .unwrap_or_default()
        .lines()
        .map(|l| fs::canonicalize(l).unwrap_or_else(|_| PathBuf::from(l)))
        .collect();
    let unreferenced: Vec<PathBuf> = snapshot_files()?
        .into_iter()
        .filter(|p| !referenced.contains(&fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
        .collect();
    let rel = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    match mode {
        Mode::Check => {
            let mut problems = Vec::new();
            if !status.success() {
                problems
                    .push("snapshot tests failed: new or changed snapshots (see above)".to_owned());
            }
            problems.extend(
                unreferenced
                    .iter()
                    .map(|p| format!("unreferenced snapshot: {}", rel(p))),
            );
            if problems.is_empty() {
                println!(
                    "{} snapshots, all referenced and unchanged",
                    referenced.len()
                );
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("FAIL  {p}");
                }
                Err(
                    "run `cargo xtask snapshots`, review each change, then commit the .snap files"
                        .to_owned(),
                )
            }
        }
        Mode::Review | Mode::Accept => {
            if !status.success() {
                return Err(
                    "snapshot tests failed for a reason other than a snapshot (see above)"
                        .to_owned(),
                );
            }
            let pending = pending_snapshots()?;
            if mode == Mode::Accept {
                for p in &pending {
                    let target = PathBuf::from(p.to_string_lossy().trim_end_matches(".new"));
                    fs::rename(p, &target).map_err(|e| e.to_string())?;
                    println!("accepted    {}", rel(&target));
                }
                for p in &unreferenced {
                    fs::remove_file(p).map_err(|e| e.to_string())?;
                    println!("deleted     {} (unreferenced)", rel(p));
                }
                return Ok(());
            }
            for p in &pending {
                println!("pending     {}", rel(p));
            }
            for p in &unreferenced {
                println!("unreferenced {}", rel(p));
            }
            if pending.is_empty() && unreferenced.is_empty() {
                println!("{} snapshots, nothing to review", referenced.len());
            } else if Command::new("cargo")
                .args(["insta", "--version"])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                let status = Command::new("cargo")
                    .current_dir(&root)
                    .args(["insta", "review"])
                    .status();
                status.map_err(|e| e.to_string())?;
            } else {
                println!(
                    "review the .snap.new files (diff each against its .snap), then `cargo xtask snapshots --accept`; \
                     or `cargo install cargo-insta` and `cargo insta review`"
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::secrets;

    #[test]
    fn secret_scan_flags_real_looking_keys_and_spares_placeholders() {
        let fake_key = format!("sk-ant-{}", "a1B2".repeat(8));
        let jwt = format!("eyJ{}.eyJ{}.sig", "x".repeat(10), "y".repeat(10));
        let real_header = format!(r#"{{"authorization": "{}"}}"#, "Zx9".repeat(12));
        assert_eq!(secrets(&fake_key).len(), 1);
        assert_eq!(secrets(&jwt).len(), 1);
        assert_eq!(secrets(&real_header).len(), 1);
        assert!(
            !secrets(&real_header)[0].contains(&"Zx9".repeat(12)),
            "the finding masks the secret"
        );
        for placeholder in [
            r#"{"authorization": "<redacted>"}"#,
            r#"{"authorization_token": "YOUR_TOKEN"}"#,
            r#"{"authorization": "<oauth access token>"}"#,
            r#"{"authorization": "fake"}"#,
            "task-based sk-ill",
        ] {
            assert!(secrets(placeholder).is_empty(), "{placeholder}");
        }
    }
}
