//! `billflow-devnet`: a whole consortium on this machine, for trying billflow
//! and for tests. It runs the founding ceremony for every organisation, each in
//! a directory of its own, starts every node as its own `billflow-node`
//! process on loopback, and then acts as a client of the consortium: it
//! deploys the contracts, registers the parties and seeds the demo through the
//! gateway, as any integrator would.

mod bootstrap;
mod demo;
mod devnet;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Run a whole consortium on this machine: generates it with billflow-genesis
/// (or reuses DIR), starts every node as its own process on loopback, writes
/// DIR/devnet.json, and stops every node on Ctrl-C.
#[derive(Parser)]
#[command(name = "billflow-devnet", version)]
struct Cli {
    /// Directory of the devnet.
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// Voting nodes (notary offices and banks).
    #[arg(long, default_value_t = 3)]
    voters: usize,
    /// Observer nodes (regulators).
    #[arg(long, default_value_t = 1)]
    observers: usize,
    /// First port (node k uses base+2k for peers and base+2k+1 for clients); 0 picks free ports.
    #[arg(long, default_value_t = 7100)]
    base_port: u16,
    /// Seed a demo: two suppliers, a core enterprise, two banks, orders,
    /// invoices and bills at different stages.
    #[arg(long)]
    demo: bool,
    /// The billflow-node executable (default: $BILLFLOW_NODE, else the one
    /// beside this one, built first when this one runs under `cargo run`).
    #[arg(long)]
    node_binary: Option<PathBuf>,
    /// Requests a second each node's gateway takes from one tenant,
    /// organisation or address (default 5,000; benchmarks raise it).
    #[arg(long)]
    rate_per_s: Option<u32>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let node = match devnet::node_binary(cli.node_binary) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match devnet::run(&node, &cli.dir, cli.voters, cli.observers, cli.base_port, cli.demo, cli.rate_per_s) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
