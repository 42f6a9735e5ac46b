//! Small helpers of the CLI tests that run the binary: the arguments of an `mcpwire run`
//! test, `mcpwire log` on a file, and a reader that goes away after the first bytes.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Output};

/// `run --vendor {vendor} --model m --mcp {mcp}` followed by `rest`.
pub fn run_args<'a>(vendor: &'a str, mcp: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "--vendor", vendor, "--model", "m", "--mcp", mcp];
    args.extend_from_slice(rest);
    args
}

/// `mcpwire log {args} {path}`.
pub fn log_output(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .arg("log")
        .args(args)
        .arg(path)
        .output()
        .unwrap()
}

/// Reads the first 64 bytes of `child`'s (piped) stdout, closes it as a reader that went
/// away would, and waits for the child.
pub fn close_stdout_after_64_bytes(mut child: Child) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    child.wait_with_output().unwrap()
}
