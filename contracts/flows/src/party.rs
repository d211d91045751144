//! Parties: each participant registers itself, once, with its settlement
//! account; its kind comes from the system contract's registration (the
//! caller's context), never from the arguments.

use alloc::format;
use alloc::vec::Vec;

use crate::codes::*;
use crate::ledger::{Cx, Out, Refusal, check_text, ensure, keys, ok, owned};
use crate::types::*;

/// Checks an account as the ledger keeps it: a registered bank, a masked number, a digest.
pub(crate) fn check_account(cx: &Cx<'_>, account: &Account, own_id: &str) -> Result<(), Refusal> {
    ensure!(
        account.masked.len() <= 32
            && account.masked.contains('*')
            && account.masked.bytes().all(|b| b.is_ascii_digit() || b == b'*')
            && account.masked.bytes().filter(u8::is_ascii_digit).count() <= 8,
        E_PERSONAL_DATA,
        "an account number goes on the ledger masked (`6222****1234`), at most 8 digits shown"
    );
    ensure!(account.number_hash != [0; 32], E_BAD_ARGS, "the account number's digest is missing");
    if account.bank != own_id {
        let bank = cx.party(&account.bank)?;
        ensure!(bank.kind != PartyKind::Enterprise, E_BAD_ARGS, "the account's bank {} is not a bank", account.bank);
    }
    Ok(())
}

/// `party.register`.
pub(crate) fn register(cx: &mut Cx<'_>, a: RegisterParty) -> Out {
    let id = cx.participant()?;
    ensure!(!cx.exists(&keys::party(&id)), E_PARTY_EXISTS, "{id} is registered already");
    crate::risk::admit(cx, &id)?;
    let caller = &cx.env.caller;
    let kind = match (caller.participant_kind.as_deref(), a.finance_company) {
        (Some("enterprise"), false) => PartyKind::Enterprise,
        (Some("bank"), false) => PartyKind::Bank,
        (Some("bank"), true) => PartyKind::FinanceCompany,
        (Some("enterprise"), true) => {
            return Err(Refusal::new(E_NOT_AUTHORISED, "only a bank participant may be a finance company"));
        }
        (other, _) => {
            return Err(Refusal::new(
                E_NOT_AUTHORISED,
                format!("participants of kind {} take no part in bill flows", other.unwrap_or("none")),
            ));
        }
    };
    check_text("the city", &a.city, 64)?;
    ensure!(!a.city.is_empty(), E_BAD_ARGS, "the city is missing");
    ensure!(
        kind != PartyKind::Enterprise || a.account.bank != id,
        E_BAD_ARGS,
        "an enterprise's account is kept by a bank"
    );
    check_account(cx, &a.account, &id)?;
    let party = Party {
        id: id.clone(),
        kind,
        tenant: caller.tenant.clone(),
        org: caller.org.clone(),
        city: a.city,
        account: a.account,
        custody: Vec::new(),
        height: cx.env.height,
    };
    cx.put(&keys::party(&id), &party);
    cx.emit(topics::PARTY_REGISTERED, &party);
    ok(&party)
}

/// `fund.open_custody`: a bank opens a platform custody account with itself.
pub(crate) fn open_custody(cx: &mut Cx<'_>, a: OpenCustody) -> Out {
    let mut bank = cx.actor()?;
    ensure!(bank.kind != PartyKind::Enterprise, E_NOT_BANK, "custody accounts are kept by banks");
    ensure!(a.account.bank == bank.id, E_WRONG_PARTY, "a bank opens custody accounts with itself");
    check_account(cx, &a.account, &bank.id)?;
    ensure!(bank.custody.len() < 16, E_BAD_ARGS, "a bank keeps at most 16 custody accounts");
    bank.custody.push(a.account);
    cx.put(&keys::party(&bank.id), &bank);
    ok(&bank)
}

/// `party.get` (query): anyone registered sees a party; the account stays masked.
pub(crate) fn get(cx: &mut Cx<'_>, a: ById) -> Out {
    let party: Option<Party> = cx.get(&keys::party(&a.id))?;
    ok(&party)
}

/// The owner label of a bank's custody account.
pub(crate) fn custody_owner(bank: &str) -> alloc::string::String {
    format!("custody:{}", owned(bank))
}
