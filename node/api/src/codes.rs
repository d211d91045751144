//! The catalogue of every error code the gateway answers, with its HTTP
//! status and what a client does about it. docs/api.md carries it as a table
//! rendered by [`markdown`]; tests check that every code the gateway or a
//! transaction rejection can produce is here, and that the document's table
//! is the rendering of this one.

/// One error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The code in the error body.
    pub code: &'static str,
    /// The HTTP status it comes with.
    pub status: u16,
    /// When it is answered, and what the client does.
    pub meaning: &'static str,
}

const fn e(code: &'static str, status: u16, meaning: &'static str) -> ErrorCode {
    ErrorCode { code, status, meaning }
}

/// Every code the gateway answers itself, by status then code. A refused
/// contract call or query answers `422` with the receipt's code instead (the
/// executor's codes such as `E_VERSION_MISMATCH` and `E_NOT_REGISTERED`, and
/// each contract's own).
pub const CATALOGUE: &[ErrorCode] = &[
    e("E_ARGS_MISMATCH", 400, "JSON arguments do not fit the method's argument type (the message says where)"),
    e("E_BAD_BATCH", 400, "a batch is empty or holds more than 1,000 transactions"),
    e("E_BAD_CURSOR", 400, "a supervision cursor is not `HEIGHT-TX-EVENT`"),
    e("E_BAD_NONCE", 400, "the request nonce is not 16 to 64 characters of `[A-Za-z0-9_-]`"),
    e("E_BAD_QUERY", 400, "a query-string or path parameter does not parse, or is out of range"),
    e("E_BAD_REQUEST", 400, "a request the framework refused without a code of its own"),
    e("E_INVALID_FIELD", 400, "a transaction field is not valid (an id, a version, a method name)"),
    e("E_MALFORMED", 400, "the body does not decode, or was cut short"),
    e("E_NOT_WEBSOCKET", 400, "a stream route was called without a WebSocket upgrade"),
    e("E_PERSONAL_DATA", 400, "an id or argument holds a phone, identity or bank card number"),
    e("E_TX_STALE", 400, "the transaction's timestamp is outside the accepted window: sign it again"),
    e("E_WRONG_CHAIN", 400, "the transaction names another chain id"),
    e("E_BAD_AUTH_HEADER", 401, "the signature headers are missing or malformed"),
    e("E_BAD_SIGNATURE", 401, "a request or transaction signature does not verify"),
    e("E_BAD_TIMESTAMP", 401, "the request's time is not a number of milliseconds"),
    e("E_KEY_REVOKED", 401, "the signing key was revoked"),
    e("E_NONCE_REUSED", 401, "the request nonce was used before: sign the request anew"),
    e("E_REQUEST_EXPIRED", 401, "the request's time is too far from the node's clock"),
    e("E_UNAUTHENTICATED", 401, "the route needs a signed request"),
    e("E_UNKNOWN_KEY", 401, "the signing key is not registered"),
    e("E_UNKNOWN_SESSION", 401, "the session token expired, was closed, or is used from another address: open another"),
    e("E_FORBIDDEN", 403, "the signer may not use this route"),
    e("E_FOREIGN_PARTICIPANT", 403, "a tenant asked about another tenant's participant or transaction"),
    e("E_NOT_A_PARTY", 403, "the route is for participants' and tenants' keys, not administrators'"),
    e("E_NOT_REGULATOR", 403, "the route is for regulators' organisation keys"),
    e("E_SIGNED_ON_PUBLIC_LISTENER", 403, "a signed request reached the anonymous explorer listener"),
    e("E_TENANT_MISMATCH", 403, "the transaction's tenant is not the signing key's"),
    e("E_NOT_FOUND", 404, "no such route, block, transaction, contract or record"),
    e("E_NO_INTERFACE", 404, "the contract's active version publishes no interface"),
    e("E_METHOD_NOT_ALLOWED", 405, "the route does not take this method"),
    e("E_READ_ONLY_LISTENER", 405, "the explorer listener takes only GET and HEAD"),
    e("E_TIMEOUT", 408, "the request took too long to arrive or to answer"),
    e("E_DUPLICATE_TX", 409, "the transaction id was used before (the earlier one stands)"),
    e("E_ARGS_TOO_LARGE", 413, "a query's arguments are too large"),
    e("E_BODY_TOO_LARGE", 413, "the body is over the gateway's limit"),
    e("E_TX_TOO_LARGE", 413, "the transaction is over the chain's size limit"),
    e("E_UNSUPPORTED_MEDIA_TYPE", 415, "the body is neither JSON nor canonical bytes"),
    e("E_RATE_LIMITED", 429, "over the tenant's request rate: slow down and retry"),
    e("E_AUDIT_BROKEN", 500, "the node's audit log fails its hash chain at the entry named"),
    e("E_INTERNAL", 500, "the node's fault: the detail is in its log under the request id"),
    e("E_BUSY", 503, "the node's queue is full: retry later or on another node"),
    e("E_NOT_READY", 503, "the node is not ready (no leader known, or catching up)"),
    e("E_SHUTTING_DOWN", 503, "the node is stopping: retry on another node"),
];

/// The catalogue as the Markdown table in docs/api.md.
pub fn markdown() -> String {
    let mut out = String::from("| code | status | when, and what to do |\n|---|---|---|\n");
    for c in CATALOGUE {
        out.push_str(&format!("| `{}` | {} | {} |\n", c.code, c.status, c.meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// Every `"E_…"` string literal in `text`.
    fn literals(text: &str) -> impl Iterator<Item = &str> {
        text.split('"').skip(1).step_by(2).filter(|s| {
            s.len() > 2
                && s.starts_with("E_")
                && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
    }

    /// The codes the gateway's own sources and the transaction rejections name
    /// (tests excluded: they also name the codes contracts answer with).
    fn codes_in_sources() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("../types/src/reject.rs")];
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if path.is_dir() {
                    dirs.push(path);
                } else if name.ends_with(".rs") && !name.contains("tests") && name != "codes.rs" {
                    files.push(path);
                }
            }
        }
        let mut codes = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // Unit tests at the end of a source file are not the gateway's answers.
            let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
            codes.extend(literals(text).map(str::to_string));
        }
        codes
    }

    #[test]
    fn every_code_the_gateway_answers_is_catalogued_once_and_nothing_else() {
        let catalogued: Vec<&str> = CATALOGUE.iter().map(|c| c.code).collect();
        let unique: BTreeSet<&str> = catalogued.iter().copied().collect();
        assert_eq!(unique.len(), catalogued.len(), "a code is catalogued twice");
        let found = codes_in_sources();
        let missing: Vec<&String> = found.iter().filter(|c| !unique.contains(c.as_str())).collect();
        assert!(missing.is_empty(), "codes the gateway answers but the catalogue lacks: {missing:?}");
        let stale: Vec<&&str> = unique.iter().filter(|c| !found.contains(**c)).collect();
        assert!(stale.is_empty(), "catalogued codes no source answers: {stale:?}");
        let mut order: Vec<(u16, &str)> = CATALOGUE.iter().map(|c| (c.status, c.code)).collect();
        order.sort();
        let listed: Vec<(u16, &str)> = CATALOGUE.iter().map(|c| (c.status, c.code)).collect();
        assert_eq!(listed, order, "keep the catalogue by status, then code");
    }

    #[test]
    fn the_rejections_carry_their_catalogued_status() {
        use billflow_types::Rejection;
        let rejections = [
            Rejection::Stale { timestamp_ms: 0, now_ms: 1 },
            Rejection::Duplicate("t-1".parse().unwrap()),
            Rejection::Busy(3),
        ];
        for r in rejections {
            let err = crate::error::ApiError::from(r);
            let entry = CATALOGUE.iter().find(|c| c.code == err.code).unwrap();
            assert_eq!(err.status.as_u16(), entry.status, "{}", entry.code);
        }
        for status in [404, 405, 408, 413, 415, 429, 401, 403, 500, 418] {
            let err = crate::error::ApiError::for_status(axum::http::StatusCode::from_u16(status).unwrap());
            let entry = CATALOGUE.iter().find(|c| c.code == err.code).unwrap();
            let expected = if status == 418 { 400 } else { status };
            assert_eq!(entry.status, expected, "{status} answers {}", entry.code);
        }
    }

    /// docs/api.md holds the table between its two markers. To regenerate it,
    /// run this test with `BILLFLOW_WRITE_DOCS=1`.
    #[test]
    fn docs_api_md_carries_the_catalogue() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (start, end) =
            ("<!-- error codes: generated from node/api/src/codes.rs -->\n", "<!-- end of error codes -->");
        let from = doc.find(start).expect("the start marker in docs/api.md") + start.len();
        let to = doc[from..].find(end).expect("the end marker in docs/api.md") + from;
        let table = markdown();
        if std::env::var_os("BILLFLOW_WRITE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &doc[..from], &doc[to..])).unwrap();
            return;
        }
        assert_eq!(&doc[from..to], table, "docs/api.md's error codes differ: run with BILLFLOW_WRITE_DOCS=1");
    }
}
