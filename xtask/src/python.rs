//! The Python virtualenv for the gateway's official-SDK tests
//! (`crates/mcpwire-gateway/sdk-tests`): created under `target/sdk-venv` and filled with the
//! pinned `openai` and `anthropic` packages from PyPI.
//!
//! A row of the gated-test table of `cargo xtask test` ([`provide_sdk_env`]): the SDK tests run
//! with `--ignored` and `MCPWIRE_SDK_PYTHON` set to the venv's interpreter.

use std::path::PathBuf;
use std::process::Command;

/// The pins (one `name==version` a line).
const REQUIREMENTS: &str = "crates/mcpwire-gateway/sdk-tests/requirements.txt";

/// Creates (or reuses) `target/sdk-venv` with the pinned SDKs and returns its `python`.
/// Reinstalls only when the pins changed since the last install.
pub(crate) fn provide_python_sdks() -> Result<PathBuf, String> {
    let root = crate::project_root();
    let venv = root.join("target").join("sdk-venv");
    let python = venv.join("bin").join("python");
    let pins = std::fs::read_to_string(root.join(REQUIREMENTS))
        .map_err(|e| format!("{REQUIREMENTS}: {e}"))?;
    let stamp = venv.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == pins) {
        return Ok(python);
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("python3 -m venv: {e}"))?;
    if !status.success() {
        return Err("python3 -m venv failed (is python3-venv installed?)".to_owned());
    }
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(root.join(REQUIREMENTS))
        .status()
        .map_err(|e| format!("pip install: {e}"))?;
    if !status.success() {
        return Err(format!("pip install -r {REQUIREMENTS} failed"));
    }
    std::fs::write(&stamp, pins).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

/// Provider for the gated-test table: the variable the SDK tests read.
pub(crate) fn provide_sdk_env() -> Result<Vec<(String, String)>, String> {
    let python = provide_python_sdks()?;
    Ok(vec![(
        "MCPWIRE_SDK_PYTHON".to_owned(),
        python.display().to_string(),
    )])
}
