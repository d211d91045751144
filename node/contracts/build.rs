//! Builds the contracts workspace (`contracts/` at the repository's root) for
//! `wasm32-unknown-unknown` and copies the `.wasm` files into `OUT_DIR`.
//!
//! The nested build runs `$CARGO build --release --locked --target
//! wasm32-unknown-unknown` with its own target directory, `<target>/contracts`,
//! shared by debug and release builds of the node so that it is incremental.
//! None of the outer build's settings (flags, target, profile, features,
//! wrappers) leak into it: the contracts are built the same way whatever the
//! node is built with.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// (the artifact's name in the contracts workspace, the name in `OUT_DIR`)
const ARTIFACTS: [(&str, &str); 3] = [
    ("billflow_contract_evidence.wasm", "evidence.wasm"),
    ("billflow_contract_flows.wasm", "flows.wasm"),
    ("billflow_contract_hostile.wasm", "hostile.wasm"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let contracts = manifest_dir.join("../../contracts");
    let contracts = contracts
        .canonicalize()
        .unwrap_or_else(|e| panic!("the contracts workspace {} is missing: {e}", contracts.display()));

    watch(&contracts, &contracts);
    ensure_wasm_target();

    let target_dir = shared_target_dir(&out_dir).join("contracts");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--locked", "--target", WASM_TARGET, "--manifest-path"])
        .arg(contracts.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // Cargo reads configuration from the working directory: the contracts'.
        .current_dir(&contracts);
    for (key, _) in env::vars_os() {
        if key.to_str().is_some_and(leaks_into_nested_build) {
            cmd.env_remove(&key);
        }
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("could not run cargo to build the contracts: {e}"));
    if !output.status.success() {
        panic!(
            "building the contracts ({}) failed with {}:\n{}{}",
            contracts.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }

    let built = target_dir.join(WASM_TARGET).join("release");
    for (artifact, name) in ARTIFACTS {
        let from = built.join(artifact);
        fs::copy(&from, out_dir.join(name)).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
}

/// Whether an environment variable of this build script would change the
/// nested build: flags, target and target directory, wrappers (clippy's), and
/// what cargo sets for the outer package (profile, cfg, features, paths).
fn leaks_into_nested_build(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PRIMARY_PACKAGE",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "RUSTC_LINKER",
    ];
    const PREFIXES: &[&str] =
        &["CARGO_PROFILE_", "CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_"];
    EXACT.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Makes sure the standard library for `wasm32-unknown-unknown` is installed
/// in the toolchain that builds the node, adding it with rustup if not.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let installed = || {
        let output = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .output()
            .unwrap_or_else(|e| panic!("could not run {} --print sysroot: {e}", rustc.to_string_lossy()));
        let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Path::new(&sysroot).join("lib").join("rustlib").join(WASM_TARGET).is_dir()
    };
    if installed() {
        return;
    }
    println!("cargo:warning=the {WASM_TARGET} target is missing: running `rustup target add {WASM_TARGET}`");
    let added = Command::new("rustup").args(["target", "add", WASM_TARGET]).status();
    match added {
        Ok(status) if status.success() && installed() => {}
        Ok(status) => panic!(
            "the contracts need the {WASM_TARGET} target, and `rustup target add {WASM_TARGET}` failed ({status}): \
             install it for the toolchain that builds the node"
        ),
        Err(e) => panic!(
            "the contracts need the {WASM_TARGET} target, which is not installed, and rustup could not be run ({e}): \
             install the target for the toolchain that builds the node (`rustup target add {WASM_TARGET}`)"
        ),
    }
}

/// The outer build's target directory: `CARGO_TARGET_DIR` if it is an
/// absolute path, else derived from `OUT_DIR`, which is
/// `<target>/[<triple>/]<profile>/build/<package>-<hash>/out`. Falls back to
/// `OUT_DIR` itself (a build that is not shared) if the layout is not that.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).filter(|d| d.is_absolute()) {
        return dir;
    }
    let triple = env::var("TARGET").unwrap_or_default();
    let build = out_dir.ancestors().find(|d| d.file_name().is_some_and(|n| n == "build"));
    let Some(target) = build.and_then(Path::parent).and_then(Path::parent) else {
        return out_dir.to_path_buf();
    };
    if target.file_name().is_some_and(|n| n.to_str() == Some(triple.as_str())) {
        if let Some(parent) = target.parent() {
            return parent.to_path_buf();
        }
    }
    target.to_path_buf()
}

/// Reruns the build script when a source, manifest or lock file of the
/// contracts workspace changes, or a file appears in or leaves one of its
/// directories. The workspace's own `target/` is not watched.
fn watch(root: &Path, dir: &Path) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    if dir != root {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if !(dir == root && name == "target") && (!name.starts_with('.') || name == ".cargo") {
                watch(root, &path);
            }
        } else if name.ends_with(".rs") || name.ends_with(".toml") || name == "Cargo.lock" {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
