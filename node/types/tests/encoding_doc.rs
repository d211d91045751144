//! docs/encoding.md lists the genesis document's types field by field, in the
//! order they are encoded. This holds those rows to the types: the same
//! fields, in the same order, as the types serialise them.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use billflow_types::dev::dev_genesis;
use billflow_types::{GenesisNode, NodeRole, SecretKey};
use serde::Serialize;

/// The field names of `type_name`'s row in docs/encoding.md, in order.
fn documented(doc: &str, type_name: &str) -> Vec<String> {
    let prefix = format!("| `{type_name}` | ");
    let row = doc.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no row for {type_name}"));
    let row = row.trim_end_matches('|').trim();
    // Commas inside parentheses (e.g. "0 notary, 1 bank") do not separate fields.
    let (mut fields, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in row.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => fields.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    fields.push(current);
    fields.iter().map(|f| f.trim().to_string()).collect()
}

/// The fields of `value` as it serialises, in order (serde writes a struct's
/// fields in declaration order, which is also the canonical encoding's order).
fn fields<T: Serialize>(value: &T) -> Vec<String> {
    let text = serde_json::to_string(value).unwrap();
    let object = serde_json::from_str::<serde_json::Value>(&text).unwrap();
    let mut keys: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")).unwrap());
    keys
}

#[test]
fn the_genesis_rows_of_docs_encoding_md_are_the_types_fields_in_order() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/encoding.md")).unwrap();
    let mut genesis = dev_genesis();
    genesis.organisations[0].ca_cert_pem = Some("-----BEGIN CERTIFICATE-----".into());
    genesis.nodes.push(GenesisNode {
        id: "n1".parse().unwrap(),
        org: genesis.organisations[0].id.clone(),
        public_key: SecretKey::generate().public(),
        peer_id: "12D3KooW".into(),
        role: NodeRole::Voter,
        address: Some("/ip4/127.0.0.1/tcp/7100".into()),
    });
    let cases: [(&str, Vec<String>); 8] = [
        ("Genesis", fields(&genesis)),
        ("ChainParams", fields(&genesis.params)),
        ("GenesisOrg", fields(&genesis.organisations[0])),
        ("GenesisKey", fields(&genesis.organisations[0].admin_keys[0])),
        ("GenesisTenant", fields(&genesis.tenants[0])),
        ("GenesisNode", fields(&genesis.nodes[0])),
        ("AdminPolicy", fields(&genesis.admin_policy)),
        ("GenesisSignature", fields(&genesis.signatures[0])),
    ];
    for (type_name, actual) in cases {
        assert_eq!(documented(&doc, type_name), actual, "docs/encoding.md's row for {type_name}");
    }
}
