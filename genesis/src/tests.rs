use billflow_types::OrgRole;
use time::OffsetDateTime;

use crate::keys::KeySource;
use crate::{Ca, InitSpec, NodeCertSpec, OrgSpec, init};

fn spec(seed: u8) -> InitSpec {
    InitSpec {
        chain_id: "unit".parse().unwrap(),
        orgs: vec![
            OrgSpec { id: "notary-a".parse().unwrap(), role: OrgRole::Notary },
            OrgSpec { id: "bank-b".parse().unwrap(), role: OrgRole::Bank },
            OrgSpec { id: "reg-c".parse().unwrap(), role: OrgRole::Regulator },
        ],
        nodes_per_org: 2,
        hosts: vec!["node.example".into(), "10.1.2.3".into()],
        tenants: vec![("acme".parse().unwrap(), "notary-a".parse().unwrap())],
        keys: KeySource::Seeded([seed; 32]),
        genesis_time: OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap(),
        base_port: 7100,
        params: Default::default(),
    }
}

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_same_inputs_give_the_same_consortium() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ga = init(a.path(), &spec(1)).unwrap().genesis;
    let gb = init(b.path(), &spec(1)).unwrap().genesis;
    let gc = init(c.path(), &spec(2)).unwrap().genesis;
    assert_eq!(ga.hash(), gb.hash());
    assert_eq!(files(a.path()), files(b.path()));
    assert_ne!(ga.hash(), gc.hash());
    assert_eq!(ga.validate(), Ok(()));
    assert_eq!(ga.verify_signatures(), Ok(()));
    assert_eq!(ga.nodes.len(), 6);
    assert_eq!(ga.admin_policy.min_approving_orgs, 2);
    assert!(
        ga.nodes.iter().filter(|n| n.org.as_str() == "reg-c").all(|n| n.role == billflow_types::NodeRole::Observer)
    );
}

#[test]
fn a_loaded_ca_issues_certificates_for_joining_nodes() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &spec(3)).unwrap();
    let bank = dir.path().join("orgs/bank-b");
    let ca = Ca::load(&bank.join("ca.pem"), &bank.join("ca.key")).unwrap();
    let key = KeySource::Random.key("new");
    let now = OffsetDateTime::now_utc();
    let spec = NodeCertSpec {
        node_id: "bank-b-9".parse().unwrap(),
        org: "bank-b".parse().unwrap(),
        role: OrgRole::Bank,
        hosts: vec![],
        not_before: now,
        not_after: now + time::Duration::days(1),
    };
    let cert = ca.issue_node(&spec, &key).unwrap();
    let described = crate::inspect::describe_cert(&cert.der).unwrap();
    assert!(described.contains("CN=bank-b-9, O=bank-b, OU=bank"), "{described}");
    assert!(described.contains(&key.public().peer_id()), "{described}");
    // A CA key that does not match its certificate is named.
    let err = Ca::load(&bank.join("ca.pem"), &bank.join("admin.key")).unwrap_err();
    assert!(err.to_string().contains("admin.key") && err.to_string().contains("does not match"), "{err}");
}
