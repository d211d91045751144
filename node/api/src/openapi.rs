//! The OpenAPI 3 document at `/v1/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the ledger types' schemas.

use std::sync::OnceLock;

use axum::Json;
use billflow_types::interface::{ContractInterface, TypeDef};
use billflow_types::view::ErrorBody;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, Responses};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::routes;

const DESCRIPTION: &str = "\
The REST gateway of a billflow node: submit signed transactions, follow them to their receipts, \
read blocks, contracts and evidence with their proofs.

Every error is answered as `{code, message, request_id}` (`ErrorBody`) with a fitting HTTP status; \
`code` is stable (e.g. `E_BAD_SIGNATURE`). Every answer carries an `x-request-id` header, the \
client's own if it sent a valid one (8 to 64 characters of `A-Z a-z 0-9 -`).

## Signed requests

Routes that act for someone (submitting, reading one's transactions, querying contracts) need a \
signed request; the public routes answer anonymous requests and show a signed one what its \
signer may see. A signed request carries all four headers, never some of them:

- `x-billflow-key`: the id of a key registered and active on the ledger;
- `x-billflow-timestamp`: the client's time in ms since the Unix epoch, within 300 000 ms \
  (5 minutes) of the node's clock;
- `x-billflow-nonce`: 16 to 64 characters of `A-Z a-z 0-9 _ -`, never used before with this key \
  within the clock window;
- `x-billflow-signature`: the ed25519 signature, in lower-case hex (128 digits), of the request \
  message below.

The message is six lines joined by `\\n` (no final newline): the method in upper case, the path \
and the query exactly as sent (the query without `?`, empty if none), the timestamp and the nonce \
as in their headers, and the SHA-256 of the exact body bytes in lower-case hex (of no bytes for \
no body):

    METHOD\\nPATH\\nQUERY\\nTIMESTAMP\\nNONCE\\nhex(sha256(body))

It is signed in the API-request domain: the signed bytes are one byte holding the length of the \
ASCII tag `billflow/v1/api-request`, the tag, then the message.

A request with some but not all of the headers, an unknown or revoked key, a time outside the \
window, a reused nonce or a signature that does not verify is refused with 401 (a malformed nonce \
with 400), on every route. Requests are rate-limited per tenant (or organisation) and, when \
anonymous, per client address (429 with `retry-after`).";

/// Bytes in the body as they are (`application/octet-stream`): a canonical
/// (Borsh) encoding, or a contract's raw arguments.
pub(crate) struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Binary,
            )))
            .description(Some("Raw bytes."))
            .into()
    }
}

impl ToSchema for Binary {}

/// A batch of signed transactions in JSON.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchBody {
    /// 1 to 1000 signed transactions.
    #[schema(min_items = 1, max_items = 1000)]
    pub txs: Vec<billflow_types::SignedTx>,
}

/// A contract query's arguments in JSON.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryArgs {
    /// The method's arguments in canonical bytes, hex; or
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = "hex", pattern = "^([0-9a-f]{2})*$")]
    pub args: Option<String>,
    /// their JSON form, as the contract's interface describes the method's
    /// argument type (`GET /v1/contracts/{name}/interface`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
}

/// A contract query's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct QueryOutput {
    /// The method's output in canonical bytes, hex.
    #[serde(with = "billflow_types::tx::hex_bytes")]
    #[schema(value_type = String, format = "hex", pattern = "^([0-9a-f]{2})*$")]
    pub output: Vec<u8>,
    /// The output in its JSON form, when the contract's interface names the
    /// method's result type and the query was sent as JSON (a client that
    /// sends canonical bytes reads canonical bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
}

/// Arguments in JSON to encode (`POST /v1/contracts/{name}/encode/{method}`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct EncodeArgs {
    /// The arguments' JSON form, as the contract's interface describes the
    /// method's argument type.
    pub args: serde_json::Value,
}

/// The canonical bytes of JSON arguments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct EncodedArgs {
    /// The canonical bytes, hex: what a transaction's `args` holds.
    #[serde(with = "billflow_types::tx::hex_bytes")]
    #[schema(value_type = String, format = "hex", pattern = "^([0-9a-f]{2})*$")]
    pub args: Vec<u8>,
}

/// The four signature headers, as security schemes a signed route requires together.
struct SignedRequests;

impl Modify for SignedRequests {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let schemes = [
            ("billflow_key", "x-billflow-key", "The id of a registered, active key."),
            ("billflow_timestamp", "x-billflow-timestamp", "The client's time, ms since the Unix epoch."),
            ("billflow_nonce", "x-billflow-nonce", "A fresh nonce: 16 to 64 characters of A-Z a-z 0-9 _ -."),
            (
                "billflow_signature",
                "x-billflow-signature",
                "The ed25519 signature of the request, in hex (see the API description).",
            ),
        ];
        for (name, header, description) in schemes {
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, description))),
            );
        }
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                billflow_types::request::HEADER_SESSION,
                "A session's token (POST /v1/sessions), instead of the four signature headers.",
            ))),
        );
    }
}

/// The security scheme of a session's token.
const SESSION_SCHEME: &str = "billflow_session";

/// Every operation that takes the four signature headers takes a session's
/// token instead, except the one that opens a session. A submission may also
/// carry neither: its transaction's signature authenticates it.
fn sessions_stand_for_signatures(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else { continue };
        for (method, op) in ops.iter_mut() {
            if path == "/v1/sessions" && method == "post" {
                continue;
            }
            if let Some(security) = op.get_mut("security").and_then(Value::as_array_mut)
                && security.iter().any(|r| r.get("billflow_signature").is_some())
            {
                // After the four headers, before "none" (a submission's).
                security.insert(1, json!({ SESSION_SCHEME: [] }));
            }
        }
    }
}

/// What the layers in front of every route can answer, whatever the route.
struct LayerResponses;

impl Modify for LayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let common: [(&str, &str); 7] = [
            ("400", "A malformed `x-billflow-nonce` (`E_BAD_NONCE`)."),
            (
                "401",
                "Signature headers were sent but are incomplete, name an unknown or revoked key, are out of \
                 the clock window, reuse a nonce or do not verify.",
            ),
            ("408", "The request took too long (`E_TIMEOUT`)."),
            ("413", "The body is over the gateway's limit (`E_BODY_TOO_LARGE`)."),
            ("429", "Too many requests from this tenant, organisation or address (`E_RATE_LIMITED`); retry."),
            ("500", "The node failed to complete the request (`E_INTERNAL`)."),
            ("503", "The node is busy or shutting down (`E_BUSY`, `E_SHUTTING_DOWN`); retry."),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post];
            for op in operations.into_iter().flatten() {
                add_missing(op, &common);
            }
        }
    }
}

fn add_missing(op: &mut Operation, common: &[(&str, &str)]) {
    let responses: &mut Responses = &mut op.responses;
    for (status, description) in common {
        if !responses.responses.contains_key(*status) {
            let error = ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()))));
            let response = ResponseBuilder::new().description(*description).content("application/json", error.build());
            responses.responses.insert((*status).to_string(), RefOr::T(response.build()));
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "billflow gateway", description = DESCRIPTION),
    paths(
        routes::submit::submit,
        routes::submit::submit_batch,
        routes::transactions::get_transaction,
        routes::transactions::transaction_proof,
        routes::audit::audit_log,
        crate::supervision::stream,
        crate::supervision::events,
        crate::supervision::party_events,
        crate::supervision::party_stream,
        routes::inbox::inbox,
        routes::blocks::list_blocks,
        routes::blocks::get_block,
        routes::blocks::get_block_by_hash,
        routes::contracts::list_contracts,
        routes::contracts::get_contract,
        routes::contracts::query_contract,
        routes::contracts::contract_interface,
        routes::contracts::encode_args,
        routes::sessions::open_session,
        routes::sessions::close_session,
        routes::evidence::evidence,
        crate::explorer::stats,
        crate::explorer::recent_txs,
        crate::explorer::transaction,
        crate::explorer::bill,
        crate::explorer::search,
        routes::health::network_view,
        routes::genesis::genesis,
        routes::health::health,
        routes::health::ready,
        document,
        routes::health::metrics,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SignedRequests, &LayerResponses),
    tags(
        (name = "transactions", description = "Submit signed transactions and follow them (signed requests)."),
        (name = "blocks", description = "Committed blocks."),
        (name = "contracts", description = "Deployed contracts and their read-only queries."),
        (name = "evidence", description = "Notarised evidence of documents, with proofs."),
        (name = "node", description = "The node: health, network, the genesis document, metrics and this document."),
        (name = "audit", description = "The hash-chained audit log, for regulators (signed requests)."),
        (name = "explorer", description = "What the explorer page reads: throughput, latest transactions, a transaction's receipt (signer masked), a bill's disclosure, search."),
        (name = "supervision", description = "Every committed event and risk alert, for regulators (signed requests)."),
    ),
)]
struct ApiDoc;

/// The document, built once.
pub(crate) fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            Value::Null
        });
        let shipped = [
            ("flows", billflow_contract_flows::interface()),
            ("evidence", billflow_contract_evidence::interface()),
            (billflow_types::system::SYSTEM_CONTRACT, billflow_types::interface::system_interface()),
        ];
        sessions_stand_for_signatures(&mut doc);
        for (name, schema) in shipped {
            match ContractInterface::from_schema(name, "", &schema) {
                Ok(interface) => contract_schemas(&mut doc["components"]["schemas"], &interface),
                Err(e) => {
                    tracing::error!(contract = name, error = %e, "a shipped contract's interface is not described")
                }
            }
        }
        doc
    })
}

/// Adds the JSON Schema of each method's arguments and result of a shipped
/// contract (`<contract>.<method>.args`, `.result`) and of each named type
/// they use (`<contract>.<Type>`) to `schemas`.
fn contract_schemas(schemas: &mut Value, interface: &ContractInterface) {
    let contract = &interface.contract;
    for method in &interface.methods {
        schemas[format!("{contract}.{}.args", method.name)] = json_schema(interface, &method.args);
        schemas[format!("{contract}.{}.result", method.name)] = json_schema(interface, &method.result);
    }
    for name in interface.types.keys().filter(|n| component(interface, n)) {
        schemas[format!("{contract}.{name}")] = definition_schema(interface, name);
    }
}

/// Whether type `name` is a component of its own: a struct or enum with a
/// plain name (generic instances such as `Option<Bill>` are written inline).
fn component(interface: &ContractInterface, name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && matches!(
            interface.types.get(name),
            Some(TypeDef::Struct { .. } | TypeDef::Enum { .. } | TypeDef::Newtype { .. })
        )
}

/// A reference to type `ty`'s component, or its schema inline.
fn json_schema(interface: &ContractInterface, ty: &str) -> Value {
    if component(interface, ty) {
        json!({ "$ref": format!("#/components/schemas/{}.{ty}", interface.contract) })
    } else {
        definition_schema(interface, ty)
    }
}

/// The JSON Schema of type `ty`'s JSON form (docs/api.md, "Contract data in JSON").
fn definition_schema(interface: &ContractInterface, ty: &str) -> Value {
    let Some(def) = interface.types.get(ty) else { return json!({}) };
    let hex = |pattern: String| json!({ "type": "string", "pattern": pattern, "description": "lower-case hex" });
    match def {
        TypeDef::Unit => json!({ "type": "null" }),
        TypeDef::Bool => json!({ "type": "boolean" }),
        TypeDef::Int { bytes, signed } if *bytes <= 4 => {
            let bits = u32::from(*bytes) * 8;
            let (min, max) =
                if *signed { (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1) } else { (0, (1i64 << bits) - 1) };
            json!({ "type": "integer", "minimum": min, "maximum": max })
        }
        TypeDef::Int { signed, .. } => {
            let digits = if *signed { "^-?[0-9]+$" } else { "^[0-9]+$" };
            json!({ "oneOf": [{ "type": "integer" }, { "type": "string", "pattern": digits }], "description": ty })
        }
        TypeDef::String => json!({ "type": "string" }),
        TypeDef::Bytes => hex("^([0-9a-f]{2})*$".to_string()),
        TypeDef::FixedBytes { length } => hex(format!("^[0-9a-f]{{{}}}$", length * 2)),
        TypeDef::Option { ty } => json!({ "oneOf": [{ "type": "null" }, json_schema(interface, ty)] }),
        TypeDef::Vec { ty } => json!({ "type": "array", "items": json_schema(interface, ty) }),
        TypeDef::Array { length, ty } => {
            json!({ "type": "array", "items": json_schema(interface, ty), "minItems": length, "maxItems": length })
        }
        TypeDef::Tuple { types } => json!({
            "type": "array",
            "prefixItems": types.iter().map(|t| json_schema(interface, t)).collect::<Vec<_>>(),
            "minItems": types.len(),
            "maxItems": types.len(),
        }),
        TypeDef::Struct { fields } => json!({
            "type": "object",
            "properties": fields.iter().map(|f| (f.name.clone(), json_schema(interface, &f.ty))).collect::<Map<_, _>>(),
            "required": fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
            "additionalProperties": false,
        }),
        TypeDef::Newtype { ty } => json_schema(interface, ty),
        TypeDef::Enum { variants } => {
            let names: Vec<&str> = variants.iter().filter(|v| v.ty.is_none()).map(|v| v.name.as_str()).collect();
            let mut one_of: Vec<Value> =
                if names.is_empty() { Vec::new() } else { vec![json!({ "type": "string", "enum": names })] };
            for v in variants {
                if let Some(t) = &v.ty {
                    one_of.push(json!({
                        "type": "object",
                        "properties": { &v.name: json_schema(interface, t) },
                        "required": [&v.name],
                        "additionalProperties": false,
                    }));
                }
            }
            json!({ "oneOf": one_of })
        }
    }
}

/// This OpenAPI document
///
/// Generated from the gateway's code: every route, its parameters, bodies,
/// answers and security.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "openapi",
    tag = "node",
    responses((status = 200, description = "The OpenAPI document.", body = Object)),
)]
pub(crate) async fn document() -> Json<&'static Value> {
    Json(openapi())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::to_value(openapi()).unwrap()
    }

    /// Every `$ref` anywhere in `v`.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// What `routes::routes` serves, read from its source: `(method, path)` of each `.route(...)`.
    fn served() -> BTreeSet<(String, String)> {
        let source = include_str!("routes.rs");
        let body = source.split("pub(crate) fn routes()").nth(1).unwrap().split(".fallback(").next().unwrap();
        let mut served = BTreeSet::new();
        for call in body.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').unwrap();
            let rest = rest.split(".route(").next().unwrap();
            for method in ["get", "post", "put", "patch", "delete"] {
                if rest.contains(&format!("{method}(")) {
                    served.insert((method.to_string(), path.to_string()));
                }
            }
        }
        served
    }

    #[test]
    fn the_document_is_openapi_3_and_lists_every_route() {
        let text = serde_json::to_string(openapi()).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
        assert_eq!(doc["info"]["title"], "billflow gateway");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(doc.get("servers").is_none());
        let description = doc["info"]["description"].as_str().unwrap();
        for needed in ["x-billflow-key", "x-billflow-timestamp", "x-billflow-nonce", "x-billflow-signature"] {
            assert!(description.contains(needed), "{needed}");
        }
        assert!(description.contains(billflow_types::Domain::ApiRequest.tag()));
        let listed: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
            .collect();
        let served = served();
        assert!(served.len() >= 15, "reading routes.rs found only {served:?}");
        assert_eq!(listed, served);
    }

    #[test]
    fn every_link_names_an_operation() {
        let doc = doc();
        let operations: BTreeSet<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values().map(|op| op["operationId"].as_str().unwrap()))
            .collect();
        let mut links = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for response in op["responses"].as_object().unwrap().values() {
                    for link in response.get("links").and_then(Value::as_object).into_iter().flat_map(|l| l.values()) {
                        assert!(operations.contains(link["operationId"].as_str().unwrap()), "{link}");
                        links += 1;
                    }
                }
            }
        }
        assert!(links >= 8);
    }

    #[test]
    fn every_ref_resolves_to_a_component() {
        let doc = doc();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 20);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
            assert!(schemas.contains_key(name), "$ref {r} has no component");
        }
    }

    #[test]
    fn signed_routes_require_all_four_headers_and_public_routes_none() {
        let doc = doc();
        let four: BTreeSet<&str> =
            ["billflow_key", "billflow_timestamp", "billflow_nonce", "billflow_signature"].into();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        for name in &four {
            assert_eq!(schemes[*name]["type"], "apiKey");
            assert_eq!(schemes[*name]["in"], "header");
        }
        let signed: BTreeSet<&str> = [
            "/v1/transactions",
            "/v1/transactions/batch",
            "/v1/transactions/{tx_id}",
            "/v1/transactions/{tx_id}/proof",
            "/v1/contracts/{name}/query/{method}",
            "/v1/audit",
            "/v1/supervision/stream",
            "/v1/supervision/events",
            "/v1/events",
            "/v1/events/stream",
            "/v1/inbox",
            "/v1/sessions",
        ]
        .into();
        let session = serde_json::json!({ "billflow_session": [] });
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                match op.get("security") {
                    Some(security) => {
                        assert!(signed.contains(path.as_str()), "{path} is public");
                        let requirement = security.as_array().unwrap();
                        if (path.as_str(), method.as_str()) == ("/v1/sessions", "delete") {
                            assert_eq!(requirement, std::slice::from_ref(&session), "a session is closed under itself");
                            continue;
                        }
                        let opens = (path.as_str(), method.as_str()) == ("/v1/sessions", "post");
                        let submits = path.starts_with("/v1/transactions") && method == "post";
                        assert_eq!(
                            requirement.len(),
                            if opens {
                                1
                            } else if submits {
                                3
                            } else {
                                2
                            },
                            "{path}: the four headers, or a session (or, to submit, neither)"
                        );
                        if submits {
                            assert_eq!(requirement[2], serde_json::json!({}), "{path}: the transaction's signature");
                        }
                        let names: BTreeSet<&str> =
                            requirement[0].as_object().unwrap().keys().map(String::as_str).collect();
                        assert_eq!(names, four);
                        if !opens {
                            assert_eq!(requirement[1], session, "{path}");
                        }
                        assert!(op["responses"].get("401").is_some());
                    }
                    None => assert!(!signed.contains(path.as_str()), "{path} needs a signature"),
                }
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                            "{path} {status}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bodies_accept_json_and_canonical_bytes_where_the_handlers_do() {
        let doc = doc();
        for path in ["/v1/transactions", "/v1/transactions/batch", "/v1/contracts/{name}/query/{method}"] {
            let content = &doc["paths"][path]["post"]["requestBody"]["content"];
            assert!(content.get("application/json").is_some(), "{path}");
            assert_eq!(content["application/octet-stream"]["schema"]["format"], "binary", "{path}");
        }
        assert_eq!(
            doc["paths"]["/v1/transactions"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/SignedTx"
        );
    }

    #[test]
    fn schemas_match_what_serde_writes() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        // Skipped when absent: not required.
        let view = &schemas["TxView"];
        let required: BTreeSet<&str> =
            view["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(required, ["status", "tx_hash", "tx_id"].into());
        // Always written, `null` when absent: required.
        assert!(schemas["Receipt"]["required"].as_array().unwrap().contains(&"failure".into()));
        assert!(schemas["Tx"]["required"].as_array().unwrap().contains(&"tenant".into()));
        // Hex bytes are strings.
        assert_eq!(schemas["Tx"]["properties"]["args"]["type"], "string");
        assert_eq!(schemas["Event"]["properties"]["data"]["type"], "string");
        assert_eq!(schemas["EvidenceProof"]["properties"]["record"]["type"], "string");
        assert_eq!(schemas["TxState"]["enum"], serde_json::json!(["pending", "committed"]));
        assert_eq!(schemas["Signature"]["pattern"], "^[0-9a-f]{128}$");

        // Each shipped contract method's JSON arguments and result, by reference to its types.
        assert_eq!(schemas["flows.bill.issue.args"]["$ref"], "#/components/schemas/flows.IssueBill");
        assert_eq!(schemas["flows.IssueBill"]["additionalProperties"], false);
        assert_eq!(schemas["evidence.get.result"]["oneOf"][0]["type"], "null");
        assert!(schemas["system.register_participant.args"]["$ref"].is_string());
        assert_eq!(schemas["evidence.SubmitEvidence"]["properties"]["hash"]["pattern"], "^[0-9a-f]{64}$");

        // The body types the handlers parse are the documented ones.
        let args: QueryArgs = serde_json::from_str(r#"{"args":"00ff"}"#).unwrap();
        assert_eq!(args.args.as_deref(), Some("00ff"));
        let args: QueryArgs = serde_json::from_str(r#"{"json":{"id":"B1"}}"#).unwrap();
        assert_eq!(args.json, Some(serde_json::json!({"id": "B1"})));
        assert!(serde_json::from_str::<QueryArgs>(r#"{"args":"00","x":1}"#).is_err());
        assert_eq!(schemas["BatchBody"]["additionalProperties"], false);
    }
}
