//! Administrative proposals on the command line: `admin propose` and `admin
//! approve`, signed with an organisation administrator's key (no tenant).
//!
//! The admin policy (a majority of organisations by default) decides when a
//! proposal is carried out: the proposer's transaction counts as its
//! organisation's approval, and the transaction that meets the policy carries
//! the action out in its block. Each command prints which of the two happened.

use std::path::PathBuf;

use billflow_sdk::new_tx_id;
use billflow_sdk::types::system::{AdminAction, ApproveAdmin, KeyGrant, ProposeAdmin, SystemCall};
use billflow_sdk::types::view::TxView;
use billflow_sdk::types::{AdminPolicy, KeyId, NodeId, NodeRole, OrgId, OrgRole, PublicKey, RegulatorApproval, TxId};
use clap::{Subcommand, ValueEnum};

use super::{COMMIT_WAIT, CliError, Session, read_file, read_json, report_tx};

/// `billflow admin …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Propose an action; the proposal counts as your organisation's approval.
    Propose {
        /// The proposal's id, which the other administrators approve.
        #[arg(long, value_name = "ID")]
        proposal: TxId,
        /// The action.
        #[command(subcommand)]
        action: ProposedAction,
    },
    /// Approve another organisation's proposal.
    Approve {
        /// The proposal's id.
        #[arg(long, value_name = "ID")]
        proposal: TxId,
    },
}

/// What `admin propose` proposes.
#[derive(Debug, Subcommand)]
pub(crate) enum ProposedAction {
    /// Admit a new node (its certificate from `billflow-genesis issue-node`).
    AddNode {
        /// The node's id.
        #[arg(long = "node-id", value_name = "ID")]
        node: NodeId,
        /// The organisation that runs it.
        #[arg(long)]
        org: OrgId,
        /// Voter or observer (a regulator's node is always an observer).
        #[arg(long, value_enum, default_value_t = Role::Voter)]
        role: Role,
        /// The public key of its certificate, in hex, as `issue-node` prints it.
        #[arg(long, value_name = "HEX", value_parser = public_key)]
        public_key: PublicKey,
        /// Where the other nodes dial it (a multiaddr, e.g. /dns4/node.bank-b.example/tcp/7100).
        #[arg(long, value_name = "MULTIADDR")]
        address: String,
    },
    /// Revoke a node for ever: its connections close and it is refused.
    RevokeNode {
        /// The node's id.
        #[arg(long = "node-id", value_name = "ID")]
        node: NodeId,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
    },
    /// Make a node a voter or an observer (one membership change at a time).
    SetNodeRole {
        /// The node's id.
        #[arg(long = "node-id", value_name = "ID")]
        node: NodeId,
        /// Its new role.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Replace the approval policy of administrative actions.
    SetPolicy {
        /// Organisations (among those whose approval counts) that must approve.
        #[arg(long, value_name = "N", default_value_t = 1)]
        min_approving_orgs: u32,
        /// The share of the organisations whose approval counts that must
        /// approve, in percent (51: a strict majority, as organisations join and leave).
        #[arg(long, value_name = "PERCENT", default_value_t = 51)]
        min_share_percent: u32,
        /// How a regulator's approval weighs.
        #[arg(long, value_enum, default_value_t = Regulator::Counts)]
        regulator: Regulator,
    },
    /// Admit a new organisation from its public bundle.json (`billflow-genesis
    /// org init`): its CA and administrator key. Its nodes are added afterwards
    /// with add-node.
    AddOrg {
        /// The organisation's bundle.json.
        #[arg(long, value_name = "FILE")]
        bundle: PathBuf,
        /// Its name as the ledger shows it (default: its id).
        #[arg(long)]
        name: Option<String>,
    },
    /// Replace an organisation's CA; certificates of the old one keep working
    /// until the height given.
    RotateCa {
        /// The organisation.
        #[arg(long)]
        org: OrgId,
        /// The new CA certificate (PEM file, from `billflow-genesis org new-ca`).
        #[arg(long, value_name = "FILE")]
        new_ca: PathBuf,
        /// The height from which certificates of the old CA are refused.
        #[arg(long, value_name = "HEIGHT")]
        old_until_height: u64,
    },
    /// Remove an organisation: its nodes and administrator keys are revoked;
    /// its tenants move to another sponsor, or are suspended.
    RemoveOrg {
        /// The organisation.
        #[arg(long)]
        org: OrgId,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
        /// The organisation that sponsors its tenants from now on (without
        /// it, its tenants' keys are revoked).
        #[arg(long, value_name = "ORG")]
        tenants_to: Option<OrgId>,
    },
    /// Give an organisation a new administrator key, retiring an old one.
    RotateAdminKey {
        /// The organisation.
        #[arg(long)]
        org: OrgId,
        /// The new key's id (unused on the chain).
        #[arg(long, value_name = "ID")]
        new_key_id: KeyId,
        /// The new public key in hex (`billflow keys new` prints it).
        #[arg(long, value_name = "HEX", value_parser = public_key)]
        public_key: PublicKey,
        /// The administrator key to revoke once the new one is in.
        #[arg(long, value_name = "ID")]
        retire: Option<KeyId>,
    },
    /// Any administrative action, as JSON (`{"action": "upgrade_contract", "name": …, "version": …, "code": HEX, "migrate_args": HEX}`).
    Action {
        /// The JSON file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// What `add-org` takes from an organisation's bundle.json (its nodes are
/// proposed one by one with add-node).
#[derive(Debug, serde::Deserialize)]
struct BundleHead {
    org: OrgId,
    role: OrgRole,
    ca_cert_pem: String,
    admin_key: KeyGrant,
}

/// How a regulator's approval weighs.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Regulator {
    /// Like any organisation's.
    Counts,
    /// It counts, and nothing is carried out without one.
    Required,
    /// Recorded, but not counted.
    Excluded,
}

/// A node's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Role {
    /// Votes in consensus.
    Voter,
    /// Follows the ledger without voting.
    Observer,
}

impl From<Role> for NodeRole {
    fn from(role: Role) -> NodeRole {
        match role {
            Role::Voter => NodeRole::Voter,
            Role::Observer => NodeRole::Observer,
        }
    }
}

pub(crate) fn public_key(s: &str) -> Result<PublicKey, String> {
    PublicKey::from_hex(s).map_err(|e| format!("not a 32-byte public key in hex: {e}"))
}

/// Runs `admin …`.
pub(crate) async fn run(session: &Session, command: AdminCommand, json: bool) -> Result<(), CliError> {
    let (proposal_id, call) = match command {
        AdminCommand::Propose { proposal, action } => {
            let action = match action {
                ProposedAction::AddNode { node, org, role, public_key, address } => {
                    AdminAction::AddNode { node, org, public_key, role: role.into(), address }
                }
                ProposedAction::RevokeNode { node, reason } => AdminAction::RevokeNode { node, reason },
                ProposedAction::SetNodeRole { node, role } => AdminAction::SetNodeRole { node, role: role.into() },
                ProposedAction::AddOrg { bundle, name } => {
                    let text = read_file(&bundle)?;
                    if String::from_utf8_lossy(&text).contains("PRIVATE KEY") {
                        return Err(CliError::Input(format!(
                            "{} holds a private key: a bundle carries public material only; nothing was sent",
                            bundle.display()
                        )));
                    }
                    let b: BundleHead = read_json(&bundle, "organisation bundle")?;
                    let name = name.unwrap_or_else(|| b.org.to_string());
                    AdminAction::AddOrg {
                        org: b.org,
                        name,
                        role: b.role,
                        ca_cert_pem: b.ca_cert_pem,
                        admin_key: b.admin_key,
                    }
                }
                ProposedAction::RotateCa { org, new_ca, old_until_height } => {
                    let pem = String::from_utf8(read_file(&new_ca)?)
                        .map_err(|_| CliError::Input(format!("{} is not a PEM file", new_ca.display())))?;
                    AdminAction::RotateCa { org, ca_cert_pem: pem, old_until_height }
                }
                ProposedAction::RemoveOrg { org, reason, tenants_to } => {
                    AdminAction::RemoveOrg { org, reason, tenants_to }
                }
                ProposedAction::RotateAdminKey { org, new_key_id, public_key, retire } => {
                    AdminAction::RotateAdminKey { org, key: KeyGrant { key_id: new_key_id, public_key }, retire }
                }
                ProposedAction::SetPolicy { min_approving_orgs, min_share_percent, regulator } => {
                    let regulator = match regulator {
                        Regulator::Counts => RegulatorApproval::Counts,
                        Regulator::Required => RegulatorApproval::Required,
                        Regulator::Excluded => RegulatorApproval::Excluded,
                    };
                    AdminAction::SetPolicy { policy: AdminPolicy { min_approving_orgs, min_share_percent, regulator } }
                }
                ProposedAction::Action { file } => read_json(&file, "administrative action")?,
            };
            (proposal.clone(), SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: proposal, action }))
        }
        AdminCommand::Approve { proposal } => {
            (proposal.clone(), SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: proposal }))
        }
    };
    let signer = session.signer()?;
    let tx = signer.system(new_tx_id("admin")?, &call);
    let view = session.client.submit_and_wait(&tx, COMMIT_WAIT).await?;
    if !json && view.receipt.as_ref().is_some_and(|r| r.failure.is_none()) {
        println!("proposal {proposal_id}: {}", outcome(&view));
    }
    report_tx(&view, json)
}

fn outcome(view: &TxView) -> String {
    let executed = view.receipt.iter().flat_map(|r| &r.events).any(|e| e.topic == "admin.executed");
    match (executed, view.height) {
        (true, Some(h)) => format!("carried out in block {h}"),
        (true, None) => "carried out".into(),
        (false, _) => "recorded; waiting for more organisations to approve".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_files_docs_operations_shows_parse() {
        let upgrade = r#"{"action": "upgrade_contract", "name": "flows", "version": "1.1.0",
                          "code": "0061736d01000000", "migrate_args": ""}"#;
        match serde_json::from_str::<AdminAction>(upgrade).unwrap() {
            AdminAction::UpgradeContract { name, version, code, migrate_args } => {
                assert_eq!((name.as_str(), version.to_string()), ("flows", "1.1.0".to_string()));
                assert_eq!((code.len(), migrate_args.len()), (8, 0));
            }
            other => panic!("{other:?}"),
        }
        let freeze = r#"{"action": "freeze_contract", "name": "flows", "reason": "a fault under study"}"#;
        assert!(matches!(serde_json::from_str(freeze).unwrap(), AdminAction::FreezeContract { .. }));
    }
}
