//! Deployed contracts and their read-only queries.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use billflow_chain::Chain;
use billflow_types::contract::ContractRecord;
use billflow_types::interface::ContractInterface;
use billflow_types::view::ErrorBody;
use billflow_types::{ContractName, KeyId, MethodName};
use serde_json::Value;

use super::{Gw, contract_name, is_binary, is_json, unsupported_media, wants_binary};
use crate::auth::Subject;
use crate::error::ApiError;

/// Every deployed contract
#[utoipa::path(
    get,
    path = "/v1/contracts",
    tag = "contracts",
    responses((status = 200, description = "The deployed contracts, by name.", body = Vec<ContractRecord>, links(
        ("GetFirstContract" = (operation_id = "get_contract", parameters(("name" = "$response.body#/0/name")))),
    ))),
)]
pub(crate) async fn list_contracts(State(gw): Gw) -> Result<Json<Vec<ContractRecord>>, ApiError> {
    Ok(Json(gw.chain.contracts()?))
}

/// A deployed contract
///
/// Its active version and code hash, whether it is frozen, who may invoke it
/// and every version it has had.
#[utoipa::path(
    get,
    path = "/v1/contracts/{name}",
    tag = "contracts",
    params(("name" = ContractName, Path, description = "The contract's name.")),
    responses(
        (status = 200, description = "The contract.", body = ContractRecord),
        (status = 400, description = "Not a valid contract name (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No contract of this name is deployed.", body = ErrorBody),
    ),
)]
pub(crate) async fn get_contract(State(gw): Gw, Path(name): Path<String>) -> Result<Json<ContractRecord>, ApiError> {
    let name = contract_name(name)?;
    gw.chain
        .contract(&name)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no contract named {name} is deployed")))
}

/// Runs a query as `caller` (`None`: anonymous), here on the runtime's
/// thread: a query is bounded by the chain's fuel limit, and a hop to a
/// blocking thread for each one cost more than most queries take.
pub(crate) async fn run_query(
    chain: Chain,
    caller: Option<KeyId>,
    name: ContractName,
    method: String,
    args: Vec<u8>,
) -> Result<Vec<u8>, ApiError> {
    chain.query(caller.as_ref(), &name, &method, &args)?.map_err(ApiError::contract)
}

/// Query a contract
///
/// Runs a read-only method of a contract on the committed state and answers
/// its output. The contract sees the request's key as its caller (with its
/// tenant, participant and organisation), as it sees a transaction's signer.
/// The arguments are `{"args": hex}` in JSON, or the raw argument bytes as
/// `application/octet-stream`, encoded as the contract defines. The answer is
/// JSON, or the output's bytes alone with `Accept: application/octet-stream`.
#[utoipa::path(
    post,
    path = "/v1/contracts/{name}/query/{method}",
    tag = "contracts",
    params(
        ("name" = ContractName, Path, description = "The contract's name."),
        ("method" = MethodName, Path, description = "The method to run."),
    ),
    request_body(
        description = "The method's arguments: JSON with hex, or the raw bytes.",
        content(
            (crate::openapi::QueryArgs = "application/json"),
            (inline(crate::openapi::Binary) = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "The method's output: JSON, or its bytes alone when asked for \
            with `Accept: application/octet-stream`.", content(
            (crate::openapi::QueryOutput = "application/json"),
            (inline(crate::openapi::Binary) = "application/octet-stream"),
        )),
        (status = 400, description = "A bad name, method or body (`E_INVALID_FIELD`, `E_MALFORMED`).",
            body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 413, description = "The arguments are over the chain's limit (`E_ARGS_TOO_LARGE`).",
            body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
        (status = 422, description = "The contract refused: no such contract or method, or the method failed \
            (with the contract's own code).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn query_contract(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path((name, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    subject.require()?;
    let name = contract_name(name)?;
    let method = MethodName::new(method).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))?;
    let limit = gw.chain.executor().params().max_args_bytes as usize;
    // A client that sends canonical bytes reads canonical bytes: only a
    // query sent as JSON is answered decoded, by the contract's interface.
    let mut interface = None;
    let args = if is_binary(&headers) {
        body.to_vec()
    } else if is_json(&headers) {
        let body = serde_json::from_slice::<crate::openapi::QueryArgs>(&body).map_err(|e| {
            ApiError::bad_request("E_MALFORMED", format!("expected {{\"args\": hex}} or {{\"json\": value}}: {e}"))
        })?;
        match (body.args, body.json) {
            (Some(hex), None) => {
                // Decoding the answer is a courtesy: a contract without an interface answers bytes alone.
                interface = gw.interfaces.of(&gw.chain, &name).ok();
                hex::decode(&hex)
                    .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("`args` is not hex: {e}")))?
            }
            (None, Some(json)) => {
                let known = interface.insert(gw.interfaces.of(&gw.chain, &name)?);
                encode(known, &name, method.as_str(), &json)?
            }
            _ => return Err(ApiError::bad_request("E_MALFORMED", "give either `args` (hex) or `json`, not both")),
        }
    } else {
        return Err(unsupported_media());
    };
    if args.len() > limit {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "E_ARGS_TOO_LARGE".into(),
            message: format!("query arguments are limited to {limit} bytes"),
        });
    }
    // The contract sees the signer as its caller, as in a transaction.
    let caller = match &subject {
        Subject::Key { key_id, .. } => Some(key_id.clone()),
        Subject::Anonymous { .. } => None,
    };
    let output = run_query(gw.chain.clone(), caller, name.clone(), method.to_string(), args).await?;
    if wants_binary(&headers) {
        return Ok(([(header::CONTENT_TYPE, "application/octet-stream")], output).into_response());
    }
    let decoded =
        interface.and_then(|i| i.method(method.as_str()).ok().and_then(|m| i.decode(&m.result, &output).ok()));
    Ok(Json(crate::openapi::QueryOutput { output, decoded }).into_response())
}

/// The canonical bytes of JSON `args` for `method`, or a 400 that says where they do not fit.
fn encode(interface: &ContractInterface, name: &ContractName, method: &str, args: &Value) -> Result<Vec<u8>, ApiError> {
    let spec = interface
        .method(method)
        .map_err(|_| ApiError::not_found(format!("contract {name} has no method `{method}` in its interface")))?;
    interface.encode(&spec.args, args).map_err(|e| {
        ApiError::bad_request("E_ARGS_MISMATCH", format!("the arguments of {method} do not fit {}: {e}", spec.args))
    })
}

/// A contract's interface
///
/// Every method of the contract's active version (write or query) with its
/// argument and result types, every event topic with its data type, and the
/// definition of each type: its canonical bytes and its JSON form. A client
/// in any language encodes transaction arguments from JSON with it (it must
/// not sign bytes a node hands it). The `system` contract is the node's own.
#[utoipa::path(
    get,
    path = "/v1/contracts/{name}/interface",
    tag = "contracts",
    params(("name" = ContractName, Path, description = "The contract's name, or `system`.")),
    responses(
        (status = 200, description = "The interface.", body = ContractInterface),
        (status = 400, description = "Not a valid contract name (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No such contract (`E_NOT_FOUND`), or its version publishes no interface \
            (`E_NO_INTERFACE`).", body = ErrorBody),
    ),
)]
pub(crate) async fn contract_interface(
    State(gw): Gw,
    Path(name): Path<String>,
) -> Result<Json<ContractInterface>, ApiError> {
    let name = contract_name(name)?;
    Ok(Json(gw.interfaces.of(&gw.chain, &name)?.as_ref().clone()))
}

/// Encode JSON arguments
///
/// The canonical bytes of a method's arguments given in their JSON form, for
/// a client to check its own encoder against; a transaction carries bytes
/// its signer encoded itself. For the contracts that ship with the node, the
/// JSON Schema of each method's arguments is the component
/// `<contract>.<method>.args` of this document (and of its result,
/// `<contract>.<method>.result`).
#[utoipa::path(
    post,
    path = "/v1/contracts/{name}/encode/{method}",
    tag = "contracts",
    params(
        ("name" = ContractName, Path, description = "The contract's name, or `system`."),
        ("method" = MethodName, Path, description = "The method."),
    ),
    request_body(content = crate::openapi::EncodeArgs, content_type = "application/json"),
    responses(
        (status = 200, description = "The canonical bytes.", body = crate::openapi::EncodedArgs),
        (status = 400, description = "A bad name or body (`E_INVALID_FIELD`, `E_MALFORMED`), or arguments that \
            do not fit the method's argument type (`E_ARGS_MISMATCH`, saying where).", body = ErrorBody),
        (status = 404, description = "No such contract or method (`E_NOT_FOUND`), or no interface \
            (`E_NO_INTERFACE`).", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
    ),
)]
pub(crate) async fn encode_args(
    State(gw): Gw,
    Path((name, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<crate::openapi::EncodedArgs>, ApiError> {
    let name = contract_name(name)?;
    if !is_json(&headers) {
        return Err(unsupported_media());
    }
    let body: crate::openapi::EncodeArgs = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("expected {{\"args\": value}}: {e}")))?;
    let interface = gw.interfaces.of(&gw.chain, &name)?;
    Ok(Json(crate::openapi::EncodedArgs { args: encode(&interface, &name, &method, &body.args)? }))
}
