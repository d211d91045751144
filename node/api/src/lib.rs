//! The REST gateway. This is the only crate that uses axum.
//!
//! JSON exists only here: requests are parsed into ledger types and checked by
//! the chain, and every error leaves as `{code, message}` with a fitting HTTP
//! status, never with internal detail.

mod error;
mod routes;

pub use error::ApiError;
pub use routes::router;

use std::sync::Arc;

use billflow_chain::Chain;
use billflow_types::view::NetworkView;
use tokio::net::TcpListener;

/// What the node tells the gateway about its network.
pub trait NetworkInfo: Send + Sync + 'static {
    /// The network as this node sees it now.
    fn view(&self) -> futures_util::future::BoxFuture<'_, NetworkView>;
}

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The chain.
    pub chain: Chain,
    /// The network, if the node has one.
    pub network: Option<Arc<dyn NetworkInfo>>,
}

/// Serves the gateway on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
