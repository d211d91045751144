//! The REST gateway. This is the only crate that uses axum.
//!
//! JSON exists only here: requests are parsed into ledger types and checked by
//! the chain, and every error leaves as `{code, message}` with a fitting HTTP
//! status, never with internal detail.

mod error;
mod routes;

pub use error::ApiError;
pub use routes::router;

use billflow_chain::Chain;
use tokio::net::TcpListener;

/// Serves `chain` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    chain: Chain,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(chain)).with_graceful_shutdown(shutdown).await
}
