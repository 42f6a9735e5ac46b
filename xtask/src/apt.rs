//! Installing Debian packages for the gated tests' providers (`redis-server`, `chromium`),
//! as root with apt-get, the way the project's machines and CI are set up.

use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("{shown}: cannot run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown}: {status}"))
    }
}

/// `apt-get update` then `apt-get install` of `packages` (no recommends); an error when there
/// is no apt-get.
pub(crate) fn install(packages: &[&str]) -> Result<(), String> {
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "no apt-get to install {}: install them",
            packages.join(" ")
        ));
    }
    eprintln!(
        "xtask: installing {} from the Debian packages",
        packages.join(" ")
    );
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
