//! Test harness: starts real `billflow-node` processes on loopback, talks to them
//! through the SDK, and kills or stops them. Used by the integration suites in
//! `tests/tests/` and, later, the benchmark harness.

pub mod devnet;
pub mod netns;
pub mod proxy;
pub mod throttle;
pub mod trade;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_sdk::types::dev::{DEV_BANK, DEV_CHAIN_ID, DEV_NOTARY, DEV_TENANT, dev_key};
use billflow_sdk::types::ids::credit_code_check_char;
use billflow_sdk::types::{ChainId, KeyId, OrgRole, ParticipantId, TenantId};
use billflow_sdk::{Client, Signer};

/// The `billflow-node` binary. `cargo test --workspace` builds it before any test
/// runs (the node package has integration tests); when it is missing (a test of
/// this package alone on a fresh tree) it is built here.
pub fn node_binary() -> Result<PathBuf> {
    workspace_binary("billflow-node", "billflow-node")
}

/// `billflow-devnet`: `$BILLFLOW_DEVNET` if set (a build kept aside, to
/// compare two builds: the devnet deploys the contracts it embeds, as
/// `$BILLFLOW_NODE` picks the node), else built like [`node_binary`].
pub fn devnet_binary() -> Result<PathBuf> {
    match std::env::var_os("BILLFLOW_DEVNET") {
        Some(path) => Ok(PathBuf::from(path)),
        None => workspace_binary("billflow-devnet", "billflow-devnet"),
    }
}

/// `billflow-bench`, built like [`node_binary`] when missing.
pub fn bench_binary() -> Result<PathBuf> {
    workspace_binary("billflow-tests", "billflow-bench")
}

/// The `billflow-genesis` tool, built like [`node_binary`] when missing.
pub fn genesis_binary() -> Result<PathBuf> {
    workspace_binary("billflow-genesis", "billflow-genesis")
}

/// The `billflow` command line, built like [`node_binary`] when missing.
pub fn cli_binary() -> Result<PathBuf> {
    workspace_binary("billflow-cli", "billflow")
}

/// The packages whose binaries a benchmark runs, built together in release.
const BENCH_PACKAGES: [&str; 3] = ["billflow-node", "billflow-devnet", "billflow-tests"];

/// Binary `bin` of `package`, next to this test's profile directory; built
/// with cargo (once per test process) when it is missing, or always in the
/// release profile (benchmarks).
fn workspace_binary(package: &str, bin: &str) -> Result<PathBuf> {
    static BINS: std::sync::Mutex<Vec<(String, Result<PathBuf, String>)>> = std::sync::Mutex::new(Vec::new());
    let mut bins = BINS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, found)) = bins.iter().find(|(b, _)| b == bin) {
        return found.clone().map_err(anyhow::Error::msg);
    }
    let found = (|| {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        // target/<profile>/deps/<test> or target/<profile>/<tool> → target/<profile>/<bin>
        let mut profile_dir = exe.parent().ok_or("no target directory")?;
        if profile_dir.file_name().is_some_and(|n| n == "deps") {
            profile_dir = profile_dir.parent().ok_or("no target directory")?;
        }
        let path = profile_dir.join(bin);
        // Benchmarks (release) always let cargo bring the binary up to date:
        // a stale one would measure old code.
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        if path.exists() && !release {
            return Ok(path);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        if release {
            // The binaries a benchmark runs, in one build: built one package
            // at a time, each with its own set of features, they would
            // rebuild the crates they share for one another on every run.
            cmd.args(["build", "--release", "--bins"]);
            for p in BENCH_PACKAGES.iter().chain((!BENCH_PACKAGES.contains(&package)).then_some(&package)) {
                cmd.args(["-p", p]);
            }
        } else {
            cmd.args(["build", "-p", package, "--bin", bin]);
        }
        let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() || !path.exists() {
            return Err(format!("could not build {}", path.display()));
        }
        Ok(path)
    })();
    bins.push((bin.to_string(), found.clone()));
    found.map_err(anyhow::Error::msg)
}

/// A running node process.
pub struct NodeProcess {
    child: Child,
    /// The gateway's base URL.
    pub url: String,
    /// Its data directory.
    pub data: PathBuf,
    /// The consortium CA certificate (PEM) its gateway's certificate chains to
    /// (`None`: a development node on plain HTTP).
    pub ca_pem: Option<Vec<u8>>,
}

impl NodeProcess {
    /// Starts a development-chain node on `data`, on a free loopback port.
    pub fn start(data: &Path) -> Result<NodeProcess> {
        let args =
            ["run".into(), "--listen".into(), "127.0.0.1:0".into(), "--data".into(), data.as_os_str().to_owned()];
        Self::spawn(&args, data, None)
    }

    /// Starts a node from a configuration written by `billflow-genesis init`.
    pub fn start_configured(config: &Path) -> Result<NodeProcess> {
        Self::start_configured_in(config, None)
    }

    /// [`NodeProcess::start_configured`] inside network namespace `namespace`
    /// (`ip netns exec`, which becomes the node's process).
    pub fn start_configured_in(config: &Path, namespace: Option<&str>) -> Result<NodeProcess> {
        let args = ["run".into(), "--config".into(), config.as_os_str().to_owned()];
        // Clients trust every organisation's CA, as `cas.pem` holds them, and
        // the node's own (an organisation admitted after genesis).
        let loaded = billflow_genesis::NodeConfig::load(config)?;
        let genesis = billflow_genesis::ceremony::read_genesis(&loaded.genesis)?;
        let mut ca_pem: String = genesis.organisations.iter().filter_map(|o| o.ca_cert_pem.as_deref()).collect();
        let own = std::fs::read_to_string(&loaded.ca_cert)
            .with_context(|| format!("cannot read {}", loaded.ca_cert.display()))?;
        if !ca_pem.contains(own.trim()) {
            ca_pem.push_str(&own);
        }
        let ca_pem = ca_pem.into_bytes();
        Self::spawn_in(&args, config.parent().unwrap_or(Path::new(".")), Some(ca_pem), namespace)
    }

    /// The node's log goes to `node-stderr.log` beside its data, not into the
    /// test output, where it would interleave with the test runner's lines.
    fn spawn(args: &[std::ffi::OsString], data: &Path, ca_pem: Option<Vec<u8>>) -> Result<NodeProcess> {
        Self::spawn_in(args, data, ca_pem, None)
    }

    fn spawn_in(
        args: &[std::ffi::OsString],
        data: &Path,
        ca_pem: Option<Vec<u8>>,
        namespace: Option<&str>,
    ) -> Result<NodeProcess> {
        std::fs::create_dir_all(data)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.join("node-stderr.log"))?;
        let mut command = match namespace {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(node_binary()?);
                c
            }
            None => Command::new(node_binary()?),
        };
        let mut child = command
            .args(args)
            .env("RUST_LOG", "warn,openraft=error,libp2p_request_response=error")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .context("cannot start billflow-node")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("billflow-node listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let tail = log_tail(data, 20);
                bail!("billflow-node did not report its address within 60 s; its log ends:\n{tail}");
            }
        };
        Ok(NodeProcess { child, url, data: data.to_path_buf(), ca_pem })
    }

    /// A client of this node: signing as the development tenant on a
    /// development node, unsigned (public routes only) on a configured one.
    pub fn client(&self) -> Client {
        match &self.ca_pem {
            None => self.client_as(&tenant_signer()),
            Some(_) => self.builder().build().expect_client(),
        }
    }

    /// A client of this node signing its requests as `signer`.
    pub fn client_as(&self, signer: &Signer) -> Client {
        self.builder().auth(signer.clone()).build().expect_client()
    }

    fn builder(&self) -> billflow_sdk::ClientBuilder {
        let builder = Client::builder([&self.url]);
        match &self.ca_pem {
            Some(pem) => builder.ca_pem(pem.clone()),
            None => builder,
        }
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Asks the node to stop (SIGTERM) and waits for it to exit; returns whether it exited cleanly.
    pub fn stop(mut self) -> Result<bool> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                bail!("node did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait ExpectClient {
    fn expect_client(self) -> Client;
}

impl ExpectClient for billflow_sdk::Result<Client> {
    fn expect_client(self) -> Client {
        #[allow(clippy::expect_used)]
        self.expect("an HTTP client for the node")
    }
}

/// The last `lines` lines of the log of the node started in `dir`
/// (`node-stderr.log`), to show beside a failure; empty if there is none.
pub fn log_tail(dir: &Path, lines: usize) -> String {
    let log = std::fs::read_to_string(dir.join("node-stderr.log")).unwrap_or_default();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs `billflow-node verify --data DIR`; returns (success, stdout + stderr).
pub fn verify(data: &Path) -> Result<(bool, String)> {
    let out = Command::new(node_binary()?).args(["verify", "--data"]).arg(data).output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    #[allow(clippy::expect_used)]
    s.parse().expect("valid id")
}

/// A signer with a development key.
pub fn dev_signer(key_id: &str, tenant: Option<&str>) -> Signer {
    Signer {
        chain_id: id::<ChainId>(DEV_CHAIN_ID),
        tenant: tenant.map(id::<TenantId>),
        key_id: id::<KeyId>(key_id),
        secret: dev_key(key_id),
    }
}

/// The development tenant platform's signer.
pub fn tenant_signer() -> Signer {
    dev_signer(DEV_TENANT.1, Some(DEV_TENANT.0))
}

/// The development notary office's administrator.
pub fn notary_admin() -> Signer {
    dev_signer(DEV_NOTARY.1, None)
}

/// The development bank's administrator.
pub fn bank_admin() -> Signer {
    dev_signer(DEV_BANK.1, None)
}

/// A valid unified social credit code made from `n`.
pub fn credit_code(n: u64) -> ParticipantId {
    let body = format!("91310000{n:09}");
    #[allow(clippy::expect_used)]
    let check = credit_code_check_char(&body).expect("digits are valid code characters");
    id(&format!("{body}{check}"))
}

/// Every supervision event from the start of the chain, a page at a time
/// through the polling route (`client` signs as a regulator).
pub async fn all_supervision_events(client: &Client) -> Result<Vec<billflow_sdk::types::view::StreamEvent>> {
    let mut events = Vec::new();
    let mut from = "0-0-0".to_string();
    loop {
        let page = client.supervision_events(Some(&from), &[], None).await?;
        if page.events.is_empty() {
            return Ok(events);
        }
        from = page.next.clone();
        events.extend(page.events);
    }
}

/// Polls `cond` every 20 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut cond: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("timed out after {within:?} waiting for {what}")
}

/// Loopback ports free at the moment of asking.
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    Ok(billflow_genesis::init::free_loopback_ports(n)?)
}

/// Creates a consortium in `dir` with `billflow-genesis`'s library, one node per
/// organisation, every node on free loopback ports, and a tenant `demo` of the first organisation.
pub fn consortium(dir: &Path, orgs: &[(&str, OrgRole)]) -> Result<billflow_genesis::init::InitOutput> {
    consortium_with(dir, orgs, Default::default())
}

/// Only one test at a time runs node processes: the machine has two cores, and
/// timing-sensitive checks (elections) must not compete with another test's load.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// [`consortium`] with chosen chain parameters.
pub fn consortium_with(
    dir: &Path,
    orgs: &[(&str, OrgRole)],
    params: billflow_sdk::types::ChainParams,
) -> Result<billflow_genesis::init::InitOutput> {
    consortium_on(dir, orgs, params, vec![])
}

/// [`consortium_with`] whose certificates also name `hosts`.
pub fn consortium_on(
    dir: &Path,
    orgs: &[(&str, OrgRole)],
    params: billflow_sdk::types::ChainParams,
    hosts: Vec<String>,
) -> Result<billflow_genesis::init::InitOutput> {
    let spec = billflow_genesis::InitSpec {
        chain_id: id("billflow-test"),
        orgs: orgs.iter().map(|(name, role)| billflow_genesis::OrgSpec { id: id(name), role: *role }).collect(),
        nodes_per_org: 1,
        hosts,
        tenants: vec![(id("demo"), id(orgs[0].0))],
        keys: billflow_genesis::keys::KeySource::Random,
        genesis_time: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
        base_port: 7100,
        params,
    };
    let mut out = billflow_genesis::init(dir, &spec)?;
    out.relocate(&free_ports(out.nodes.len() * 2)?)?;
    Ok(out)
}

/// A signer with an organisation administrator's key from a consortium directory.
pub fn org_admin(dir: &Path, genesis: &billflow_sdk::types::Genesis, org: &str) -> Result<Signer> {
    let secret = billflow_genesis::keys::read_key(&dir.join("orgs").join(org).join("admin.key"))?;
    Ok(Signer { chain_id: genesis.chain_id.clone(), tenant: None, key_id: id(&format!("{org}.admin")), secret })
}

/// The port of a `/ip4/127.0.0.1/tcp/PORT` address.
pub fn port_of(multiaddr: &str) -> Result<u16> {
    Ok(multiaddr.rsplit('/').next().context("empty address")?.parse()?)
}

/// Routes every node-to-node link of a consortium through its own [`proxy::LinkProxy`]
/// (from `i` to `j` at `links[(i, j)]`) and rewrites the configurations.
pub async fn route_through_proxies(
    out: &mut billflow_genesis::init::InitOutput,
) -> Result<std::collections::HashMap<(usize, usize), proxy::LinkProxy>> {
    let names: Vec<_> = out.nodes.iter().map(|(c, _)| c.node_id.clone()).collect();
    let targets: Vec<u16> = out.nodes.iter().map(|(c, _)| port_of(&c.p2p_listen)).collect::<Result<_>>()?;
    let mut links = std::collections::HashMap::new();
    for (i, (config, path)) in out.nodes.iter_mut().enumerate() {
        for peer in &mut config.peers {
            let j = names.iter().position(|n| *n == peer.node_id).context("peer not in the consortium")?;
            let link = proxy::LinkProxy::start(([127, 0, 0, 1], targets[j]).into()).await?;
            peer.address = format!("/ip4/127.0.0.1/tcp/{}", link.addr.port());
            links.insert((i, j), link);
        }
        std::fs::write(&*path, config.to_toml())?;
    }
    Ok(links)
}
