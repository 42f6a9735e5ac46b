//! The house rules ARCHITECTURE.md states about how the crates depend on each other, checked on
//! the manifests and sources as they are:
//!
//! * schema and auth depend on no mcpwire crate; normalize only on schema; providers on
//!   schema, normalize, auth; probe on schema and auth; gateway on providers' layer and
//!   below (schema, normalize, auth, providers, probe); sim on schema; the CLI on any; no other edge, so no cycle;
//! * without their `client` feature, auth and providers pull in none of reqwest, tokio, rustls;
//! * in the simulator, `state.rs` (what the vendor handlers share) imports no handler and not
//!   the server, and the handlers do not import the server.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest(krate: &str) -> toml::Table {
    let path = crates_dir().join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The mcpwire crates in `[dependencies]` (not dev-dependencies) of `krate`.
fn ours(krate: &str) -> BTreeSet<String> {
    let manifest = manifest(krate);
    let deps = manifest.get("dependencies").and_then(|d| d.as_table());
    deps.into_iter()
        .flat_map(|d| d.keys())
        .filter(|name| name.starts_with("mcpwire-"))
        .cloned()
        .collect()
}

#[test]
fn crates_depend_only_downwards() {
    let allowed: &[(&str, &[&str])] = &[
        ("mcpwire-schema", &[]),
        ("mcpwire-auth", &[]),
        ("mcpwire-normalize", &["mcpwire-schema"]),
        (
            "mcpwire-providers",
            &["mcpwire-schema", "mcpwire-normalize", "mcpwire-auth"],
        ),
        ("mcpwire-probe", &["mcpwire-schema", "mcpwire-auth"]),
        (
            "mcpwire-gateway",
            &[
                "mcpwire-schema",
                "mcpwire-normalize",
                "mcpwire-auth",
                "mcpwire-providers",
                "mcpwire-probe",
            ],
        ),
        ("mcpwire-sim", &["mcpwire-schema"]),
        ("mcpwire-testkit", &[]),
    ];
    for (krate, may) in allowed {
        let extra: Vec<String> = ours(krate)
            .into_iter()
            .filter(|dep| !may.contains(&dep.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "{krate} depends on {extra:?}; ARCHITECTURE.md allows only {may:?}"
        );
    }
    // Every library crate has a row: a new crate must say where it sits.
    let listed: BTreeSet<&str> = allowed.iter().map(|(k, _)| *k).collect();
    for entry in std::fs::read_dir(crates_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "mcpwire-cli" && crates_dir().join(&name).join("src/lib.rs").exists() {
            assert!(
                listed.contains(name.as_str()),
                "{name} has no row in this test"
            );
        }
    }
}

#[test]
fn without_client_auth_and_providers_need_no_http_stack() {
    for krate in ["mcpwire-auth", "mcpwire-providers"] {
        let manifest = manifest(krate);
        let deps = manifest["dependencies"].as_table().unwrap();
        for heavy in ["reqwest", "tokio", "rustls"] {
            let optional = deps
                .get(heavy)
                .map(|d| d.get("optional").and_then(|o| o.as_bool()) == Some(true));
            assert_ne!(
                optional,
                Some(false),
                "{krate}: {heavy} must be optional (behind `client`)"
            );
        }
        let client = manifest["features"]["client"].as_array().unwrap();
        assert!(
            client.iter().any(|f| f.as_str() == Some("dep:reqwest")),
            "{krate}: `client` turns reqwest on"
        );
        // What providers takes of auth must not switch auth's client on by default.
        if krate == "mcpwire-providers" {
            let auth = &deps["mcpwire-auth"];
            assert_eq!(
                auth.get("default-features").and_then(|d| d.as_bool()),
                Some(false)
            );
        }
    }
}

#[test]
fn the_simulators_shared_state_imports_no_handler() {
    let src = crates_dir().join("mcpwire-sim/src");
    let read = |rel: &str| std::fs::read_to_string(src.join(rel)).unwrap();
    let state = read("state.rs");
    for handler in ["crate::openai", "crate::anthropic", "crate::server"] {
        assert!(!state.contains(handler), "state.rs imports {handler}");
    }
    for vendor in ["openai", "anthropic"] {
        for file in ["mod.rs", "request.rs", "turn.rs"] {
            let text = read(&format!("{vendor}/{file}"));
            assert!(
                !text.contains("crate::server"),
                "{vendor}/{file} imports the server"
            );
        }
    }
}

#[test]
fn schema_and_normalize_take_no_runtime_or_io_crate() {
    for krate in ["mcpwire-schema", "mcpwire-normalize"] {
        let manifest = manifest(krate);
        let deps = manifest["dependencies"].as_table().unwrap();
        for io in [
            "tokio",
            "async-trait",
            "futures-util",
            "reqwest",
            "rustls",
            "axum",
        ] {
            assert!(!deps.contains_key(io), "{krate} depends on {io}");
        }
    }
}
