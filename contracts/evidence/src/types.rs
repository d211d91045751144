//! The evidence contract's arguments, records, events, storage keys and rules.
//!
//! Everything here is plain data and pure functions: it compiles on any
//! target, so host-side code (the node, clients, tests) uses these very
//! definitions to encode arguments and decode outputs, events and state.

use alloc::format;
use alloc::string::String;
// The `BorshSchema` derive names its types with `to_string`.
#[allow(unused_imports)]
use alloc::string::ToString;
use alloc::vec::Vec;

use billflow_contract::interface::Interface;
use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};

/// A SHA-256 digest of the evidenced document (the contract does not check
/// how it was computed).
pub type DocumentHash = [u8; 32];

/// Method names.
pub mod methods {
    /// Deployment: [`EvidenceConfig`](super::EvidenceConfig).
    pub const INIT: &str = "init";
    /// [`SubmitEvidence`](super::SubmitEvidence) → [`EvidenceRecord`](super::EvidenceRecord).
    pub const SUBMIT: &str = "submit";
    /// [`CosignEvidence`](super::CosignEvidence) → [`EvidenceRecord`](super::EvidenceRecord).
    pub const COSIGN: &str = "cosign";
    /// [`GetEvidence`](super::GetEvidence) → `Option<EvidenceRecord>` (a query).
    pub const GET: &str = "get";
    /// [`ListBySubmitter`](super::ListBySubmitter) → `Vec<EvidenceRecord>` (a query).
    pub const LIST_BY_SUBMITTER: &str = "list_by_submitter";
}

/// The method table: `write` or `query`, the name, the handler (in the
/// contract's entry points), the argument type and the result type. It is
/// handed to `$then!`: the contract's dispatcher and [`interface`] are both
/// made from it, so the interface cannot drift from what a method decodes.
macro_rules! with_methods {
    ($then:ident) => {
        $then! {
            write methods::SUBMIT => submit: SubmitEvidence => EvidenceRecord;
            write methods::COSIGN => cosign: CosignEvidence => EvidenceRecord;
            query methods::GET => get: GetEvidence => Option<EvidenceRecord>;
            query methods::LIST_BY_SUBMITTER => list_by_submitter: ListBySubmitter => Vec<EvidenceRecord>;
        }
    };
}
#[cfg_attr(not(all(feature = "contract", target_arch = "wasm32")), allow(unused_imports))]
pub(crate) use with_methods;

macro_rules! interface_of {
    ($($kind:ident $name:path => $handler:ident : $args:ty => $result:ty;)*) => {
        /// Every method and event topic of the contract with its types (the
        /// contract answers it to its query method `interface`).
        pub fn interface() -> Interface {
            Interface::new()
                $(.$kind::<$args, $result>($name))*
                .event::<EvidenceSubmitted>(topics::SUBMITTED)
                .event::<EvidenceCosigned>(topics::COSIGNED)
                .event::<EvidenceNotarised>(topics::NOTARISED)
        }
    };
}

with_methods!(interface_of);

/// Event topics.
pub mod topics {
    /// A record was submitted: [`EvidenceSubmitted`](super::EvidenceSubmitted).
    pub const SUBMITTED: &str = "evidence.submitted";
    /// A notary co-signed a record: [`EvidenceCosigned`](super::EvidenceCosigned).
    pub const COSIGNED: &str = "evidence.cosigned";
    /// A record reached the notary threshold: [`EvidenceNotarised`](super::EvidenceNotarised).
    pub const NOTARISED: &str = "evidence.notarised";
}

/// Error codes of the contract (besides the SDK's `E_BAD_ARGS` and `E_UNKNOWN_METHOD`).
pub mod codes {
    /// Arguments that break the rules (also: arguments that do not decode).
    pub const E_BAD_ARGS: &str = "E_BAD_ARGS";
    /// The method does not exist.
    pub const E_UNKNOWN_METHOD: &str = "E_UNKNOWN_METHOD";
    /// A record with this hash exists already.
    pub const E_DUPLICATE_EVIDENCE: &str = "E_DUPLICATE_EVIDENCE";
    /// The doc type or metadata looks like personal data.
    pub const E_PERSONAL_DATA: &str = "E_PERSONAL_DATA";
    /// Co-signing needs a notary participant.
    pub const E_NOT_NOTARY: &str = "E_NOT_NOTARY";
    /// No record with this hash.
    pub const E_UNKNOWN_EVIDENCE: &str = "E_UNKNOWN_EVIDENCE";
    /// This notary co-signed the record already.
    pub const E_ALREADY_SIGNED: &str = "E_ALREADY_SIGNED";
    /// A method that writes was called read-only (as a query or from another contract).
    pub const E_READ_ONLY_CALL: &str = "E_READ_ONLY_CALL";
    /// The caller is neither a participant, a tenant nor an organisation.
    pub const E_NO_SUBMITTER: &str = "E_NO_SUBMITTER";
    /// The contract was deployed without its configuration.
    pub const E_NOT_INITIALISED: &str = "E_NOT_INITIALISED";
}

/// The most notaries a record may need.
pub const MAX_NOTARY_THRESHOLD: u32 = 16;
/// The longest doc type, in characters.
pub const MAX_DOC_TYPE_CHARS: usize = 64;
/// The most metadata pairs.
pub const MAX_METADATA_PAIRS: usize = 16;
/// The longest metadata key, in bytes.
pub const MAX_METADATA_KEY_BYTES: usize = 64;
/// The longest metadata value, in bytes.
pub const MAX_METADATA_VALUE_BYTES: usize = 256;
/// The most records one [`ListBySubmitter`] returns.
pub const MAX_LIST_LIMIT: u32 = 100;

/// The deployment's (`init`) arguments, stored under [`CONFIG_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct EvidenceConfig {
    /// How many distinct notary offices (organisations) must co-sign a record
    /// for it to be notarised (1 to 16); two notaries of one office count once.
    pub notary_threshold: u32,
}

/// `submit`: records a document hash.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct SubmitEvidence {
    /// The document's hash; at most one record per hash.
    pub hash: DocumentHash,
    /// What the document is: 1 to 64 characters, no control characters.
    pub doc_type: String,
    /// Up to 16 pairs, keys 1 to 64 bytes (no control characters, no two the
    /// same), values up to 256 bytes. No personal data: see [`find_personal_data`].
    pub metadata: Vec<(String, String)>,
}

/// `cosign`: a notary signs a record.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct CosignEvidence {
    /// The record's hash.
    pub hash: DocumentHash,
}

/// `get`: one record.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct GetEvidence {
    /// The record's hash.
    pub hash: DocumentHash,
}

/// `list_by_submitter`: one submitter's records in (height, hash) order, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ListBySubmitter {
    /// The submitter, as in [`EvidenceRecord::submitter`].
    pub submitter: String,
    /// Start after this (height, hash): the last record of the previous page.
    pub after: Option<(u64, DocumentHash)>,
    /// The most records to return, 1 to 100.
    pub limit: u32,
}

/// A notary's co-signature.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct NotarySignature {
    /// The notary participant.
    pub notary: String,
    /// Its organisation, if any.
    pub org: Option<String>,
    /// The block height of the co-signing.
    pub height: u64,
    /// The block time of the co-signing, ms since the Unix epoch.
    pub time_ms: u64,
}

/// A stored record, under [`record_key`]. The output of `submit` and `cosign`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct EvidenceRecord {
    /// The document's hash.
    pub hash: DocumentHash,
    /// What the document is.
    pub doc_type: String,
    /// Its metadata.
    pub metadata: Vec<(String, String)>,
    /// Who submitted it: `participant:<id>`, else `tenant:<id>`, else `org:<id>` ([`submitter_of`]).
    pub submitter: String,
    /// The tenant the submitter acted under, if any.
    pub tenant: Option<String>,
    /// The submitting transaction.
    pub tx_id: String,
    /// The block height of the submission.
    pub height: u64,
    /// The block time of the submission, ms since the Unix epoch.
    pub time_ms: u64,
    /// Notary co-signatures, in order.
    pub signatures: Vec<NotarySignature>,
    /// The height at which the signatures reached the threshold, if they have.
    pub notarised_at: Option<u64>,
}

impl EvidenceRecord {
    /// Whether `notary` (a participant id) co-signed the record.
    pub fn signed_by(&self, notary: &str) -> bool {
        self.signatures.iter().any(|s| s.notary == notary)
    }

    /// How many distinct notary offices have co-signed: two notaries of one
    /// office are one co-signature. A notary with no organisation is an office
    /// of its own.
    pub fn offices(&self) -> u32 {
        let mut offices: Vec<&str> =
            self.signatures.iter().map(|s| s.org.as_deref().unwrap_or(s.notary.as_str())).collect();
        offices.sort_unstable();
        offices.dedup();
        u32::try_from(offices.len()).unwrap_or(u32::MAX)
    }
}

/// Event `evidence.submitted`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct EvidenceSubmitted {
    /// The document's hash.
    pub hash: DocumentHash,
    /// What the document is.
    pub doc_type: String,
    /// Who submitted it.
    pub submitter: String,
    /// The tenant the submitter acted under, if any.
    pub tenant: Option<String>,
}

/// Event `evidence.cosigned`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct EvidenceCosigned {
    /// The document's hash.
    pub hash: DocumentHash,
    /// The notary participant.
    pub notary: String,
    /// Its organisation, if any.
    pub org: Option<String>,
    /// How many notaries have co-signed now.
    pub signatures: u32,
    /// How many distinct notary offices they belong to (what the threshold counts).
    pub offices: u32,
    /// How many offices the threshold is.
    pub threshold: u32,
}

/// Event `evidence.notarised`: emitted once per record, when the threshold is reached.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct EvidenceNotarised {
    /// The document's hash.
    pub hash: DocumentHash,
    /// The notaries that had co-signed, in order.
    pub notaries: Vec<String>,
}

/// The key of the [`EvidenceConfig`].
pub const CONFIG_KEY: &[u8] = b"config";

/// The key of a record: `e/` and the 32 hash bytes.
pub fn record_key(hash: &DocumentHash) -> Vec<u8> {
    let mut key = Vec::with_capacity(34);
    key.extend_from_slice(b"e/");
    key.extend_from_slice(hash);
    key
}

/// The prefix of a submitter's index keys: `s/<submitter>/`.
pub fn submitter_prefix(submitter: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(submitter.len() + 43);
    key.extend_from_slice(b"s/");
    key.extend_from_slice(submitter.as_bytes());
    key.push(b'/');
    key
}

/// A submitter's index key for a record (its value is empty):
/// `s/<submitter>/`, the height as 8 big-endian bytes, the 32 hash bytes. Keys
/// sort by (height, hash).
pub fn submitter_index_key(submitter: &str, height: u64, hash: &DocumentHash) -> Vec<u8> {
    let mut key = submitter_prefix(submitter);
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(hash);
    key
}

/// Who a caller submits as: `participant:<id>` if it is a participant, else
/// `tenant:<id>`, else `org:<id>`; `None` if it is none of them.
pub fn submitter_of(participant: Option<&str>, tenant: Option<&str>, org: Option<&str>) -> Option<String> {
    match (participant, tenant, org) {
        (Some(p), _, _) => Some(format!("participant:{p}")),
        (None, Some(t), _) => Some(format!("tenant:{t}")),
        (None, None, Some(o)) => Some(format!("org:{o}")),
        (None, None, None) => None,
    }
}

/// Lower-case hex, for messages.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Why arguments are refused: the error code the contract aborts with, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad_args(message: String) -> Refusal {
    Refusal { code: codes::E_BAD_ARGS, message }
}

fn personal_data(what: String, kind: PersonalData) -> Refusal {
    Refusal {
        code: codes::E_PERSONAL_DATA,
        message: format!("{what} looks like {}: personal data may not be put on the ledger", kind.describe()),
    }
}

impl EvidenceConfig {
    /// Checks the threshold is 1 to [`MAX_NOTARY_THRESHOLD`].
    ///
    /// # Errors
    /// `E_BAD_ARGS` otherwise.
    pub fn validate(&self) -> Result<(), Refusal> {
        if !(1..=MAX_NOTARY_THRESHOLD).contains(&self.notary_threshold) {
            return Err(bad_args(format!(
                "notary_threshold must be 1 to {MAX_NOTARY_THRESHOLD}, got {}",
                self.notary_threshold
            )));
        }
        Ok(())
    }
}

impl SubmitEvidence {
    /// Checks the doc type and metadata against the limits, and for personal data.
    ///
    /// # Errors
    /// `E_BAD_ARGS` for broken limits, `E_PERSONAL_DATA` for what looks like
    /// personal data (the message names the metadata key, never the value).
    pub fn validate(&self) -> Result<(), Refusal> {
        let chars = self.doc_type.chars().count();
        if chars == 0 || chars > MAX_DOC_TYPE_CHARS {
            return Err(bad_args(format!("doc_type must be 1 to {MAX_DOC_TYPE_CHARS} characters, got {chars}")));
        }
        if self.doc_type.chars().any(char::is_control) {
            return Err(bad_args("doc_type holds a control character".into()));
        }
        if self.metadata.len() > MAX_METADATA_PAIRS {
            return Err(bad_args(format!("at most {MAX_METADATA_PAIRS} metadata pairs, got {}", self.metadata.len())));
        }
        for (i, (key, value)) in self.metadata.iter().enumerate() {
            if key.is_empty() || key.len() > MAX_METADATA_KEY_BYTES {
                return Err(bad_args(format!(
                    "metadata key {} must be 1 to {MAX_METADATA_KEY_BYTES} bytes, got {}",
                    i + 1,
                    key.len()
                )));
            }
            if key.chars().any(char::is_control) {
                return Err(bad_args(format!("metadata key {} holds a control character", i + 1)));
            }
            if self.metadata[..i].iter().any(|(k, _)| k == key) {
                return Err(bad_args(format!("metadata key `{key}` appears twice")));
            }
            if value.len() > MAX_METADATA_VALUE_BYTES {
                return Err(bad_args(format!(
                    "metadata `{key}` must be at most {MAX_METADATA_VALUE_BYTES} bytes, got {}",
                    value.len()
                )));
            }
        }
        if let Some(kind) = find_personal_data(&self.doc_type) {
            return Err(personal_data("doc_type".into(), kind));
        }
        for (i, (key, value)) in self.metadata.iter().enumerate() {
            if let Some(kind) = find_personal_data(key) {
                return Err(personal_data(format!("metadata key {}", i + 1), kind));
            }
            if let Some(kind) = find_personal_data(value) {
                return Err(personal_data(format!("the value of metadata `{key}`"), kind));
            }
        }
        Ok(())
    }
}

impl ListBySubmitter {
    /// Checks the limit is 1 to [`MAX_LIST_LIMIT`] and the submitter is 1 to 200
    /// bytes without `/`.
    ///
    /// # Errors
    /// `E_BAD_ARGS` otherwise.
    pub fn validate(&self) -> Result<(), Refusal> {
        if !(1..=MAX_LIST_LIMIT).contains(&self.limit) {
            return Err(bad_args(format!("limit must be 1 to {MAX_LIST_LIMIT}, got {}", self.limit)));
        }
        if self.submitter.is_empty() || self.submitter.len() > 200 || self.submitter.contains('/') {
            return Err(bad_args("submitter must be 1 to 200 bytes without `/`".into()));
        }
        Ok(())
    }
}

pub use billflow_privacy::{PersonalData, find_personal_data};

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn the_threshold_counts_notary_offices_not_notaries() {
        let sig = |notary: &str, org: Option<&str>| NotarySignature {
            notary: notary.into(),
            org: org.map(Into::into),
            height: 1,
            time_ms: 0,
        };
        let cases: [(&str, Vec<NotarySignature>, u32); 5] = [
            ("none", vec![], 0),
            ("one notary", vec![sig("a-1", Some("notary-a"))], 1),
            ("two notaries of one office", vec![sig("a-1", Some("notary-a")), sig("a-2", Some("notary-a"))], 1),
            ("two offices", vec![sig("a-1", Some("notary-a")), sig("c-1", Some("notary-c"))], 2),
            ("a notary of no office counts alone", vec![sig("a-1", Some("notary-a")), sig("x", None)], 2),
        ];
        for (what, signatures, offices) in cases {
            let record = EvidenceRecord {
                hash: [1; 32],
                doc_type: "invoice".into(),
                metadata: vec![],
                submitter: "tenant:t".into(),
                tenant: None,
                tx_id: "tx".into(),
                height: 1,
                time_ms: 0,
                signatures,
                notarised_at: None,
            };
            assert_eq!(record.offices(), offices, "{what}");
        }
    }

    fn submit(doc_type: &str, metadata: &[(&str, &str)]) -> SubmitEvidence {
        SubmitEvidence {
            hash: [7; 32],
            doc_type: doc_type.into(),
            metadata: metadata.iter().map(|(k, v)| (String::from(*k), String::from(*v))).collect(),
        }
    }

    #[test]
    fn submissions_are_checked() {
        assert_eq!(submit("invoice", &[("amount", "100.00"), ("currency", "CNY")]).validate(), Ok(()));
        assert_eq!(submit(&"x".repeat(64), &[]).validate(), Ok(()));
        assert_eq!(submit(&"票".repeat(64), &[]).validate(), Ok(()));
        let code = |s: SubmitEvidence| s.validate().err().map(|r| r.code);
        assert_eq!(code(submit("", &[])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit(&"x".repeat(65), &[])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit("in\nvoice", &[])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit("invoice", &[("", "v")])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit("invoice", &[("a", "1"), ("a", "2")])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit("invoice", &[(&"k".repeat(65), "v")])), Some(codes::E_BAD_ARGS));
        assert_eq!(code(submit("invoice", &[("k", &"v".repeat(257))])), Some(codes::E_BAD_ARGS));
        let many: Vec<(String, String)> = (0..17).map(|i| (format!("k{i}"), String::new())).collect();
        let mut s = submit("invoice", &[]);
        s.metadata = many;
        assert_eq!(code(s), Some(codes::E_BAD_ARGS));

        let refusal = submit("invoice", &[("buyer_phone", "13812345678")]).validate();
        let Err(refusal) = refusal else { panic!("a phone number passed") };
        assert_eq!(refusal.code, codes::E_PERSONAL_DATA);
        assert!(refusal.message.contains("buyer_phone"), "{}", refusal.message);
        assert!(!refusal.message.contains("13812345678"), "{}", refusal.message);
        let refusal = submit("invoice", &[("13812345678", "x")]).validate();
        assert!(refusal.is_err_and(|r| r.code == codes::E_PERSONAL_DATA && !r.message.contains("138")));
    }

    #[test]
    fn configs_and_lists_are_checked() {
        assert!(EvidenceConfig { notary_threshold: 0 }.validate().is_err());
        assert!(EvidenceConfig { notary_threshold: 1 }.validate().is_ok());
        assert!(EvidenceConfig { notary_threshold: 16 }.validate().is_ok());
        assert!(EvidenceConfig { notary_threshold: 17 }.validate().is_err());
        let list = |submitter: &str, limit| ListBySubmitter { submitter: submitter.into(), after: None, limit };
        assert!(list("participant:p1", 1).validate().is_ok());
        assert!(list("participant:p1", 100).validate().is_ok());
        assert!(list("participant:p1", 0).validate().is_err());
        assert!(list("participant:p1", 101).validate().is_err());
        assert!(list("", 10).validate().is_err());
        assert!(list("a/b", 10).validate().is_err());
    }

    #[test]
    fn keys_sort_by_height_then_hash() {
        assert_eq!(record_key(&[1; 32])[..2], *b"e/");
        assert_eq!(record_key(&[1; 32]).len(), 34);
        let a = submitter_index_key("participant:p", 2, &[9; 32]);
        let b = submitter_index_key("participant:p", 256, &[0; 32]);
        assert!(a < b);
        assert!(a.starts_with(b"s/participant:p/"));
        assert_eq!(a.len(), "s/participant:p/".len() + 40);
        assert_eq!(submitter_of(Some("p"), Some("t"), Some("o")).as_deref(), Some("participant:p"));
        assert_eq!(submitter_of(None, Some("t"), Some("o")).as_deref(), Some("tenant:t"));
        assert_eq!(submitter_of(None, None, Some("o")).as_deref(), Some("org:o"));
        assert_eq!(submitter_of(None, None, None), None);
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn records_round_trip() {
        let record = EvidenceRecord {
            hash: [3; 32],
            doc_type: "invoice".into(),
            metadata: vec![("amount".into(), "1.00".into())],
            submitter: "participant:p1".into(),
            tenant: Some("t1".into()),
            tx_id: "tx-1".into(),
            height: 5,
            time_ms: 9,
            signatures: vec![NotarySignature { notary: "n1".into(), org: None, height: 6, time_ms: 10 }],
            notarised_at: Some(6),
        };
        let bytes = borsh::to_vec(&record).unwrap();
        assert_eq!(&bytes[..32], &[3; 32]);
        assert_eq!(EvidenceRecord::try_from_slice(&bytes).unwrap(), record);
        // A list output is a count and the records' encodings back to back.
        let mut list = 2u32.to_le_bytes().to_vec();
        list.extend_from_slice(&bytes);
        list.extend_from_slice(&bytes);
        assert_eq!(Vec::<EvidenceRecord>::try_from_slice(&list).unwrap(), vec![record.clone(), record]);
    }
}
