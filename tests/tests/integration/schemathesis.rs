//! Schemathesis against a development node: requests generated from the node's
//! own OpenAPI document (`tests/schemathesis/run.sh`, signed as the development
//! tenant by `tests/schemathesis/hooks.py`) never get a 5xx, the node keeps
//! answering, and the chain they leave behind verifies.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use billflow_sdk::types::view::Health;
use billflow_tests::NodeProcess;

/// Past the script's own limits (installing, then 600 s of schemathesis).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(1_200);

#[tokio::test]
async fn the_gateway_answers_no_5xx_to_generated_requests() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path()).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis/run.sh");
    let started = Instant::now();
    let run = tokio::process::Command::new("bash")
        .arg(&script)
        .arg(&node.url)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{} did not finish within {SCRIPT_TIMEOUT:?}", script.display()))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{output}\nschemathesis run took {:.0?}", started.elapsed());
    assert!(out.status.success(), "{} failed ({}):\n{output}", script.display(), out.status);

    // The node still answers, and the generated transactions that were signed got recorded.
    let health: Health = reqwest::get(format!("{}/v1/health", node.url))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.height > 0, "no generated transaction was committed: the signing hooks did not work");

    assert!(node.stop().unwrap(), "the node did not stop cleanly");
    let (ok, report) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "the chain does not verify after the run:\n{report}");
}
