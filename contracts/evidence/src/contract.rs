//! The contract: entry points and methods.

use alloc::format;
use alloc::vec::Vec;

use billflow_contract::{Context, Error, args, context, emit, ok, state};

use crate::types::*;

billflow_contract::contract! {
    call => dispatch,
    interface => crate::interface,
    init => init,
}

fn refused(r: Refusal) -> Error {
    Error::new(r.code, r.message)
}

/// Deployment: stores the configuration.
fn init() -> Result<(), Error> {
    let config: EvidenceConfig = args()?;
    config.validate().map_err(refused)?;
    state::put_as(CONFIG_KEY, &config);
    Ok(())
}

/// Decodes each method's arguments as the method table says, and runs it.
macro_rules! dispatcher {
    ($($kind:ident $name:path => $handler:ident : $args:ty => $result:ty;)*) => {
        fn dispatch(method: &str) -> Result<Vec<u8>, Error> {
            match method {
                $($name => $handler(args::<$args>()?),)*
                other => Err(Error::unknown_method(other)),
            }
        }
    };
}

crate::types::with_methods!(dispatcher);

/// The context of a call that writes.
fn writing_context(method: &str) -> Result<Context, Error> {
    let ctx = context();
    if ctx.read_only {
        return Err(Error::new(codes::E_READ_ONLY_CALL, format!("`{method}` cannot be called read-only")));
    }
    Ok(ctx)
}

fn submit(a: SubmitEvidence) -> Result<Vec<u8>, Error> {
    let ctx = writing_context(methods::SUBMIT)?;
    a.validate().map_err(refused)?;
    let caller = &ctx.caller;
    let submitter = submitter_of(caller.participant.as_deref(), caller.tenant.as_deref(), caller.org.as_deref())
        .ok_or_else(|| {
            Error::new(codes::E_NO_SUBMITTER, "the caller is neither a participant, a tenant nor an organisation")
        })?;
    let key = record_key(&a.hash);
    if state::exists(&key) {
        return Err(Error::new(
            codes::E_DUPLICATE_EVIDENCE,
            format!("evidence {} was submitted already", hex(&a.hash)),
        ));
    }
    let record = EvidenceRecord {
        hash: a.hash,
        doc_type: a.doc_type,
        metadata: a.metadata,
        submitter,
        tenant: ctx.caller.tenant,
        tx_id: ctx.tx_id,
        height: ctx.height,
        time_ms: ctx.time_ms,
        signatures: Vec::new(),
        notarised_at: None,
    };
    let bytes = billflow_contract::encode(&record);
    state::put(&key, &bytes);
    state::put(submitter_index_key(&record.submitter, record.height, &record.hash), b"");
    emit(
        topics::SUBMITTED,
        &EvidenceSubmitted {
            hash: record.hash,
            doc_type: record.doc_type,
            submitter: record.submitter,
            tenant: record.tenant,
        },
    );
    Ok(bytes)
}

fn cosign(a: CosignEvidence) -> Result<Vec<u8>, Error> {
    let ctx = writing_context(methods::COSIGN)?;
    let notary = match &ctx.caller.participant {
        Some(p) if ctx.caller.is_notary() => p.clone(),
        _ => return Err(Error::new(codes::E_NOT_NOTARY, "only a notary participant may co-sign evidence")),
    };
    let key = record_key(&a.hash);
    let Some(mut record) = state::get_as::<EvidenceRecord>(&key)? else {
        return Err(Error::new(codes::E_UNKNOWN_EVIDENCE, format!("no evidence {}", hex(&a.hash))));
    };
    if record.signed_by(&notary) {
        return Err(Error::new(
            codes::E_ALREADY_SIGNED,
            format!("notary {notary} co-signed evidence {} already", hex(&a.hash)),
        ));
    }
    let Some(config) = state::get_as::<EvidenceConfig>(CONFIG_KEY)? else {
        return Err(Error::new(codes::E_NOT_INITIALISED, "the contract has no configuration"));
    };
    record.signatures.push(NotarySignature {
        notary: notary.clone(),
        org: ctx.caller.org.clone(),
        height: ctx.height,
        time_ms: ctx.time_ms,
    });
    let signatures = u32::try_from(record.signatures.len()).unwrap_or(u32::MAX);
    let offices = record.offices();
    let notarised_now = record.notarised_at.is_none() && offices >= config.notary_threshold;
    if notarised_now {
        record.notarised_at = Some(ctx.height);
    }
    let bytes = billflow_contract::encode(&record);
    state::put(&key, &bytes);
    emit(
        topics::COSIGNED,
        &EvidenceCosigned {
            hash: record.hash,
            notary,
            org: ctx.caller.org,
            signatures,
            offices,
            threshold: config.notary_threshold,
        },
    );
    if notarised_now {
        let notaries = record.signatures.into_iter().map(|s| s.notary).collect();
        emit(topics::NOTARISED, &EvidenceNotarised { hash: record.hash, notaries });
    }
    Ok(bytes)
}

/// `Option<EvidenceRecord>`, straight from the stored encoding.
fn get(a: GetEvidence) -> Result<Vec<u8>, Error> {
    match state::get(record_key(&a.hash)) {
        None => ok(&None::<EvidenceRecord>),
        Some(record) => {
            let mut out = Vec::with_capacity(record.len() + 1);
            out.push(1);
            out.extend_from_slice(&record);
            Ok(out)
        }
    }
}

/// `Vec<EvidenceRecord>`: a count, then the stored encodings back to back.
fn list_by_submitter(a: ListBySubmitter) -> Result<Vec<u8>, Error> {
    a.validate().map_err(refused)?;
    let prefix = submitter_prefix(&a.submitter);
    let start = match &a.after {
        // The first key past the last one listed.
        Some((height, hash)) => {
            let mut start = submitter_index_key(&a.submitter, *height, hash);
            start.push(0);
            start
        }
        None => prefix.clone(),
    };
    let end = state::prefix_end(&prefix);
    let entries = state::range(&start, end.as_deref(), a.limit);
    let mut out = Vec::from([0u8; 4]);
    let mut count: u32 = 0;
    for (key, _) in entries {
        // Index keys are the prefix, 8 height bytes and 32 hash bytes.
        let Some(suffix) = key.strip_prefix(prefix.as_slice()).filter(|s| s.len() == 40) else {
            continue;
        };
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&suffix[8..]);
        if let Some(record) = state::get(record_key(&hash)) {
            out.extend_from_slice(&record);
            count += 1;
        }
    }
    out[..4].copy_from_slice(&count.to_le_bytes());
    Ok(out)
}
