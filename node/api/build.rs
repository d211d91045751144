//! Embeds the explorer's files (`explorer/` at the repository root) in the
//! gateway: `$OUT_DIR/explorer_assets.rs` holds `(path, bytes)` for each, so a
//! node serves the page with no files beside its binary and no network.

// A build script that cannot read its inputs has nothing better to do than stop.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../explorer");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        collect(&root, &mut files);
    }
    files.sort();
    let mut out = String::from("/// The explorer's files: path under `/explorer/`, and content.\n");
    out.push_str("pub(crate) static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
        let abs = file.canonicalize().expect("an existing file");
        let _ = writeln!(out, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string());
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("explorer_assets.rs");
    std::fs::write(dest, out).expect("writing the asset table");
}

/// Every file under `dir`, skipping hidden ones and the browser test's own files.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name == "node_modules"
            || name == "test"
            || name == "package.json"
            || name == "package-lock.json"
        {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
