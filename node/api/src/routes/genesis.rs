//! The genesis document: what a verifier checks proofs against.

use axum::Json;
use axum::extract::State;
use billflow_types::Genesis;

use super::{Gw, storage};
use crate::error::ApiError;

/// The genesis document
///
/// The chain's genesis document as this node stores it, with the founders'
/// signatures, in the form of `genesis.json`: what a verifier (the explorer's
/// evidence page, `billflow evidence verify`) checks proofs against. Compare
/// its hash (`billflow-node genesis --file`) with the one your organisation
/// signed before trusting a proof checked against it: a node could serve
/// another.
#[utoipa::path(
    get,
    path = "/v1/genesis",
    tag = "node",
    responses((status = 200, description = "The genesis document (as `genesis.json` holds it).", body = Object)),
)]
pub(crate) async fn genesis(State(gw): Gw) -> Result<Json<Genesis>, ApiError> {
    gw.store
        .genesis()
        .map_err(storage)?
        .map(Json)
        .ok_or_else(|| ApiError::internal("the store holds no genesis document"))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use billflow_types::dev::dev_genesis;

    use super::Genesis;
    use crate::routes::tests::{Api, chain};

    #[tokio::test]
    async fn anyone_reads_the_genesis_the_chain_was_founded_on() {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain(dir.path());
        let api = Api::with(&chain, crate::ApiConfig::default());
        let (status, body) = api.call(Request::get("/v1/genesis").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let served: Genesis = serde_json::from_slice(&body).unwrap();
        assert_eq!(served, dev_genesis());
        assert_eq!(served.hash(), dev_genesis().hash());
    }
}
