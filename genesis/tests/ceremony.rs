//! The founding ceremony as four organisations run it, each in a directory of
//! its own (docs/identity.md): `org init`, `assemble`, `sign`, `attach`,
//! `node-config`. No private key leaves its organisation's directory, and
//! every bad input is refused with the file or field named and nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use billflow_genesis::keys::read_key;
use billflow_types::{Genesis, PublicKey};

fn genesis(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billflow-genesis")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn ok(args: &[&str]) -> String {
    let (ok, text) = genesis(args);
    assert!(ok, "billflow-genesis {}: {text}", args.join(" "));
    text
}

fn refused(args: &[&str], needles: &[&str]) -> String {
    let (ok, text) = genesis(args);
    assert!(!ok, "billflow-genesis {} was accepted: {text}", args.join(" "));
    for n in needles {
        assert!(text.contains(n), "billflow-genesis {}: {text} lacks {n:?}", args.join(" "));
    }
    text
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every private key file under `dir`, as the public keys they hold.
fn private_keys(dir: &Path) -> BTreeSet<PublicKey> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("PRIVATE KEY")) {
                out.insert(read_key(&path).unwrap().public());
            }
        }
    }
    out
}

const ORGS: [(&str, &str, u16); 4] = [
    ("notary-a", "notary", 7100),
    ("bank-b", "bank", 7110),
    ("bank-c", "bank", 7120),
    ("regulator-d", "regulator", 7130),
];

struct Ceremony {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Ceremony {
    fn org_dir(&self, org: &str) -> PathBuf {
        self.root.join(org)
    }

    fn bundle(&self, org: &str) -> PathBuf {
        self.org_dir(org).join("bundle.json")
    }
}

fn orgs_initialised() -> Ceremony {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let c = Ceremony { _tmp: tmp, root };
    for (org, role, port) in ORGS {
        let nodes = if role == "regulator" { "1" } else { "2" };
        let text = ok(&[
            "org",
            "init",
            "--org",
            org,
            "--role",
            role,
            "--nodes",
            nodes,
            "--host",
            "127.0.0.1",
            "--base-port",
            &port.to_string(),
            "--out",
            p(&c.org_dir(org)),
        ]);
        assert!(text.contains("holds no private key"), "{text}");
    }
    c
}

#[test]
fn four_organisations_found_a_consortium_without_sharing_a_private_key() {
    let c = orgs_initialised();
    // No organisation's directory holds another's private key, and no bundle holds one at all.
    let keys: BTreeMap<&str, BTreeSet<PublicKey>> =
        ORGS.iter().map(|(org, _, _)| (*org, private_keys(&c.org_dir(org)))).collect();
    for (org, mine) in &keys {
        assert_eq!(mine.len(), if *org == "regulator-d" { 3 } else { 4 }, "{org}: CA, administrator and node keys");
        for (other, theirs) in &keys {
            if org != other {
                assert!(mine.is_disjoint(theirs), "{org} and {other} share a private key");
            }
        }
        let bundle = std::fs::read_to_string(c.bundle(org)).unwrap();
        assert!(!bundle.contains("PRIVATE"), "{org}'s bundle holds a private key");
    }

    // Anyone assembles; each founder signs from its own directory; anyone attaches.
    let genesis_path = c.root.join("genesis.json");
    let mut args = vec!["assemble", "--chain-id", "ceremony-test", "--out", p(&genesis_path)];
    let bundles: Vec<PathBuf> = ORGS.iter().map(|(org, _, _)| c.bundle(org)).collect();
    for b in &bundles {
        args.extend(["--bundle", p(b)]);
    }
    let text = ok(&args);
    assert!(text.contains("to be signed by every founding organisation: notary-a, bank-b, bank-c, regulator-d"));
    let mut sigs = Vec::new();
    for (org, _, _) in ORGS {
        let sig = c.root.join(format!("{org}.sig"));
        let key = c.org_dir(org).join("admin.key");
        let text = ok(&["sign", "--genesis", p(&genesis_path), "--key", p(&key), "--out", p(&sig)]);
        assert!(text.contains(&format!("{org} signed genesis")), "{text}");
        sigs.push(sig);
    }
    // Three of four signatures: written, but not yet startable.
    let mut args = vec!["attach", "--genesis", p(&genesis_path)];
    for s in &sigs[..3] {
        args.extend(["--signature", p(s)]);
    }
    let text = ok(&args);
    assert!(text.contains("still needed") && text.contains("regulator-d"), "{text}");
    let described = ok(&["inspect", p(&genesis_path)]);
    assert!(described.contains("regulator-d: missing") && described.contains("notary-a: valid"), "{described}");
    let (ok_config, text) = genesis(&[
        "node-config",
        "--genesis",
        p(&genesis_path),
        "--org-dir",
        p(&c.org_dir("bank-b")),
        "--node",
        "bank-b-1",
    ]);
    assert!(!ok_config && text.contains("lacks the signature of founding organisation regulator-d"), "{text}");
    ok(&["attach", "--genesis", p(&genesis_path), "--signature", p(&sigs[3])]);

    let g: Genesis = serde_json::from_slice(&std::fs::read(&genesis_path).unwrap()).unwrap();
    assert_eq!(g.verify_signatures(), Ok(()));
    assert_eq!(g.organisations.len(), 4);
    assert_eq!(g.nodes.len(), 7);
    assert!(g.organisations.iter().all(|o| o.ca_cert_pem.is_some()));
    assert_eq!(g.admin_policy.min_approving_orgs, 3);
    let cas: BTreeSet<&str> = g.organisations.iter().filter_map(|o| o.ca_cert_pem.as_deref()).collect();
    assert_eq!(cas.len(), 4, "each organisation has a CA of its own");

    // Each organisation writes its own nodes' configuration.
    for (org, _, _) in ORGS {
        for node in g.nodes.iter().filter(|n| n.org.as_str() == org) {
            let text = ok(&[
                "node-config",
                "--genesis",
                p(&genesis_path),
                "--org-dir",
                p(&c.org_dir(org)),
                "--node",
                node.id.as_str(),
            ]);
            assert!(text.contains(&format!("node {} config", node.id)), "{text}");
            let config = billflow_genesis::NodeConfig::load(
                &c.org_dir(org).join("nodes").join(node.id.as_str()).join("node.toml"),
            )
            .unwrap();
            assert_eq!(config.genesis.canonicalize().unwrap(), genesis_path.canonicalize().unwrap());
            assert_eq!(config.ca_cert.canonicalize().unwrap(), c.org_dir(org).join("ca.pem").canonicalize().unwrap());
            assert_eq!(config.peers.len(), 6);
        }
    }
    // An organisation cannot write the configuration of another's node.
    refused(
        &["node-config", "--genesis", p(&genesis_path), "--org-dir", p(&c.org_dir("bank-b")), "--node", "bank-c-1"],
        &["bundle.json", "has no node bank-c-1"],
    );
}

#[test]
fn bad_bundles_and_signatures_are_refused_naming_the_file_and_nothing_is_written() {
    let c = orgs_initialised();
    let out = c.root.join("genesis.json");
    let assemble = |bundles: &[&Path]| {
        let mut args = vec!["assemble".to_string(), "--chain-id".into(), "t".into(), "--out".into(), p(&out).into()];
        for b in bundles {
            args.extend(["--bundle".to_string(), p(b).to_string()]);
        }
        args
    };
    let run_refused = |args: Vec<String>, needles: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, needles);
        assert!(!out.exists(), "a refused assembly wrote {}", out.display());
    };
    let (a, b) = (c.bundle("notary-a"), c.bundle("bank-b"));

    // A bundle with a private key in it.
    let leaky = c.root.join("leaky.json");
    let mut text = std::fs::read_to_string(&b).unwrap();
    let key = std::fs::read_to_string(c.org_dir("bank-b").join("admin.key")).unwrap();
    text = text.replacen("\"org\"", &format!("\"private_key\": {key:?},\n  \"org\""), 1);
    std::fs::write(&leaky, text).unwrap();
    run_refused(assemble(&[&a, &leaky]), &["leaky.json", "holds a private key"]);

    // A bundle whose node certificate another organisation's CA issued.
    let foreign = c.root.join("foreign.json");
    let mut bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&b).unwrap()).unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(&std::fs::read(c.bundle("bank-c")).unwrap()).unwrap();
    bundle["nodes"][0]["cert_pem"] = theirs["nodes"][0]["cert_pem"].clone();
    std::fs::write(&foreign, serde_json::to_vec(&bundle).unwrap()).unwrap();
    run_refused(
        assemble(&[&a, &foreign]),
        &["foreign.json", "nodes[bank-b-1].cert_pem does not chain to the organisation's CA"],
    );

    // The same organisation twice; a node id another organisation already has.
    run_refused(assemble(&[&a, &b, &b]), &["bank-b/bundle.json", "organisation bank-b is already given by"]);
    let clash = c.root.join("clash.json");
    let mut bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(c.bundle("bank-c")).unwrap()).unwrap();
    bundle["org"] = "bank-x".into();
    std::fs::write(&clash, serde_json::to_vec(&bundle).unwrap()).unwrap();
    run_refused(assemble(&[&a, &c.bundle("bank-c"), &clash]), &["clash.json", "node bank-c-1 is already a node"]);

    // A well-formed genesis of three founders, and signatures that do not belong to it.
    let args = assemble(&[&a, &b, &c.bundle("bank-c")]);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let before = std::fs::read(&out).unwrap();
    // Signed over other bytes: bank-b signs a genesis with another chain id.
    let other = c.root.join("other.json");
    let mut g: serde_json::Value = serde_json::from_slice(&before).unwrap();
    g["chain_id"] = "other-chain".into();
    std::fs::write(&other, serde_json::to_vec(&g).unwrap()).unwrap();
    let sig = c.root.join("bank-b.sig");
    let bank_key = c.org_dir("bank-b").join("admin.key");
    ok(&["sign", "--genesis", p(&other), "--key", p(&bank_key), "--out", p(&sig)]);
    refused(
        &["attach", "--genesis", p(&out), "--signature", p(&sig)],
        &["bank-b.sig", "does not verify over this genesis"],
    );
    // A signature by a non-founder: regulator-d is not in this genesis.
    let reg_key = c.org_dir("regulator-d").join("admin.key");
    refused(
        &["sign", "--genesis", p(&out), "--key", p(&reg_key), "--out", p(&c.root.join("reg.sig"))],
        &["not an administrator key of any founding organisation"],
    );
    assert!(!c.root.join("reg.sig").exists());
    let full = c.root.join("full.json");
    let mut args = assemble(&[&a, &b, &c.bundle("bank-c"), &c.bundle("regulator-d")]);
    args[4] = p(&full).to_string();
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&["sign", "--genesis", p(&full), "--key", p(&reg_key), "--out", p(&c.root.join("reg.sig"))]);
    refused(
        &["attach", "--genesis", p(&out), "--signature", p(&c.root.join("reg.sig"))],
        &["reg.sig", "not an administrator key of a founding organisation"],
    );
    assert_eq!(std::fs::read(&out).unwrap(), before, "a refused signature changed the genesis");
}
