//! What a contract may know of its call: the host's `ContextView`.

use alloc::string::String;

use borsh::{BorshDeserialize, BorshSerialize};

/// Who is calling: the host's `CallerView`, field for field (the order is the
/// Borsh layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Caller {
    /// The signing key.
    pub key_id: String,
    /// The tenant the signer acts under, if any.
    pub tenant: Option<String>,
    /// The participant the key belongs to, if any.
    pub participant: Option<String>,
    /// That participant's kind: `enterprise`, `bank` or `notary`.
    pub participant_kind: Option<String>,
    /// The consortium organisation the key belongs to, if any.
    pub org: Option<String>,
    /// That organisation's role: `notary`, `bank` or `regulator`.
    pub org_role: Option<String>,
}

impl Caller {
    /// Whether the caller is a participant of kind `kind` (`enterprise`, `bank`, `notary`).
    pub fn is_participant_kind(&self, kind: &str) -> bool {
        self.participant.is_some() && self.participant_kind.as_deref() == Some(kind)
    }

    /// Whether the caller is a notary participant.
    pub fn is_notary(&self) -> bool {
        self.is_participant_kind("notary")
    }

    /// Whether the caller is a consortium organisation's administrator (a key
    /// of the organisation itself, not of one of its participants).
    pub fn is_org_admin(&self) -> bool {
        self.org.is_some() && self.participant.is_none()
    }

    /// Whether the caller belongs to an organisation of role `role` (`notary`, `bank`, `regulator`).
    pub fn has_org_role(&self, role: &str) -> bool {
        self.org.is_some() && self.org_role.as_deref() == Some(role)
    }
}

/// The call: the host's `ContextView`, field for field (the order is the
/// Borsh layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Context {
    /// The contract being called.
    pub contract: String,
    /// Its version (`MAJOR.MINOR.PATCH`).
    pub version: String,
    /// The transaction.
    pub tx_id: String,
    /// The block height.
    pub height: u64,
    /// The block time, ms since the Unix epoch (the only clock there is).
    pub time_ms: u64,
    /// The caller.
    pub caller: Caller,
    /// Whether this is a read-only call (a query, or a call from another
    /// contract): writes and events make the host fail the call.
    pub read_only: bool,
}

/// The context of this call.
///
/// # Panics
/// If the host's encoding does not decode (a host of another ABI version).
pub fn context() -> Context {
    match borsh::from_slice(&crate::sys::context()) {
        Ok(context) => context,
        Err(e) => panic!("the host's call context does not decode: {e}"),
    }
}
