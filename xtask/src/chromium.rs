//! Chromium and chromedriver for the gateway's `/ui` browser test (`mcpwire-gateway --test
//! ui_browser`): found on the machine, else installed from the Debian packages `chromium` and
//! `chromium-driver` (the test drives the browser over WebDriver and starts its own
//! chromedriver on a free loopback port). The binaries go to the test in `MCPWIRE_CHROMIUM` and
//! `MCPWIRE_CHROMEDRIVER`.

use std::env;
use std::path::PathBuf;

const CHROMIUM_ENV: &str = "MCPWIRE_CHROMIUM";
const DRIVER_ENV: &str = "MCPWIRE_CHROMEDRIVER";

fn find(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = env::var_os(var).map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    let usual = [PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")];
    dirs.iter()
        .chain(usual.iter())
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

fn found() -> Option<(PathBuf, PathBuf)> {
    Some((
        find(CHROMIUM_ENV, &["chromium", "chromium-browser"])?,
        find(DRIVER_ENV, &["chromedriver"])?,
    ))
}

/// Provider for the gated-test table: installs `chromium` and `chromium-driver` with apt-get
/// when either is missing (needs root, as on the project's machines and CI).
pub(crate) fn provide_chromium() -> Result<Vec<(String, String)>, String> {
    let (browser, driver) = match found() {
        Some(both) => both,
        None => {
            crate::apt::install(&["chromium", "chromium-driver"])?;
            found().ok_or(
                "apt-get installed chromium but no chromium or chromedriver binary was found",
            )?
        }
    };
    Ok(vec![
        (CHROMIUM_ENV.to_owned(), browser.display().to_string()),
        (DRIVER_ENV.to_owned(), driver.display().to_string()),
    ])
}
