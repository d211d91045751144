//! A `billflow-devnet` process for suites and benchmarks: started in a
//! temporary directory, waited for until it is set up, read from its
//! `devnet.json`, stopped as Ctrl-C would or crashed and started again on the
//! same directory, and stopped (every node with it) when dropped.
//!
//! [`Clock::Shifted`] runs the devnet's processes under libfaketime (Debian's
//! `libfaketime` package) with a clock file the suite moves forward, so a
//! scenario can reach a bill's due date: the ledger's clock is its block
//! time, the proposer's wall clock. The suite's own client then shifts its
//! timestamps alike ([`billflow_sdk::set_clock_offset_ms`]).

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_sdk::types::ChainId;
use billflow_sdk::{Client, Signer};

use crate::{devnet_binary, node_binary};

/// libfaketime's preload library, from Debian's `libfaketime` package.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The devnet's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The machine's.
    Real,
    /// The machine's plus an offset the suite sets with [`DevnetProcess::shift_clock`].
    Shifted,
}

/// A running devnet.
pub struct DevnetProcess {
    child: Child,
    /// Holds the devnet's directory (removed on drop).
    _dir: tempfile::TempDir,
    /// The devnet's directory.
    pub path: PathBuf,
    /// What `devnet.json` says.
    pub info: DevnetInfo,
    clock_file: Option<PathBuf>,
    /// `billflow-node`'s arguments: the same on every run.
    args: Vec<OsString>,
    /// What the current run prints (standard output and error), a line at a time.
    lines: mpsc::Receiver<String>,
    /// What the current run has printed so far.
    said: Vec<String>,
}

/// How long a devnet may take to say what [`DevnetProcess::wait_for`] waits for.
const SETUP_TIME: Duration = Duration::from_secs(180);

/// A devnet as its `devnet.json` describes it: nodes, CA, keys.
#[derive(Debug, Clone, Default)]
pub struct DevnetInfo {
    /// `devnet.json`.
    pub json: serde_json::Value,
}

impl std::ops::Deref for DevnetProcess {
    type Target = DevnetInfo;
    fn deref(&self) -> &DevnetInfo {
        &self.info
    }
}

impl DevnetProcess {
    /// Starts a devnet of `voters` and `observers` on free loopback ports and
    /// waits (up to 3 minutes) until it has deployed its contracts,
    /// registered its participants and, with `demo`, seeded the demo.
    pub fn start(voters: usize, observers: usize, demo: bool, clock: Clock) -> Result<DevnetProcess> {
        DevnetProcess::start_with(voters, observers, demo, clock, &[])
    }

    /// [`DevnetProcess::start`] with more of `billflow-devnet`'s flags.
    pub fn start_with(
        voters: usize,
        observers: usize,
        demo: bool,
        clock: Clock,
        flags: &[&str],
    ) -> Result<DevnetProcess> {
        let mut devnet = DevnetProcess::spawn_with(voters, observers, demo, clock, flags)?;
        devnet.wait_for("ready:")?;
        Ok(devnet)
    }

    /// Starts a devnet like [`DevnetProcess::start`] without waiting for it.
    pub fn spawn(voters: usize, observers: usize, demo: bool, clock: Clock) -> Result<DevnetProcess> {
        DevnetProcess::spawn_with(voters, observers, demo, clock, &[])
    }

    fn spawn_with(voters: usize, observers: usize, demo: bool, clock: Clock, flags: &[&str]) -> Result<DevnetProcess> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("net");
        std::fs::create_dir(&path)?;
        let mut args: Vec<OsString> =
            ["--base-port", "0", "--voters", &voters.to_string(), "--observers", &observers.to_string(), "--dir"]
                .map(OsString::from)
                .into();
        args.push(path.clone().into());
        if demo {
            args.push("--demo".into());
        }
        args.extend(flags.iter().map(OsString::from));
        let clock_file = match clock {
            Clock::Real => None,
            Clock::Shifted => {
                if !Path::new(LIBFAKETIME).exists() {
                    bail!("{LIBFAKETIME} is missing: install Debian's libfaketime (the README's test command does)");
                }
                let file = dir.path().join("faketime");
                std::fs::write(&file, "+0\n")?;
                Some(file)
            }
        };
        let (child, lines) = run(&args, clock_file.as_deref())?;
        Ok(DevnetProcess {
            child,
            _dir: dir,
            path,
            info: DevnetInfo::default(),
            clock_file,
            args,
            lines,
            said: Vec::new(),
        })
    }

    /// Waits (up to 3 minutes) until the devnet prints a line starting with
    /// `prefix`. Fails if it says setting it up failed, or exits. Reads
    /// `devnet.json` again once the devnet has written it.
    pub fn wait_for(&mut self, prefix: &str) -> Result<()> {
        let deadline = Instant::now() + SETUP_TIME;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(line) => {
                    let failed = line.contains("setting it up failed");
                    let (seen, written) = (line.starts_with(prefix), line.starts_with("details in "));
                    self.said.push(line);
                    if failed {
                        bail!("the devnet failed to set up; it said:\n{}", self.said.join("\n"));
                    }
                    if written || (seen && self.info.json.is_null()) {
                        self.info = DevnetInfo::load(&self.path.join("devnet.json"))?;
                    }
                    if seen {
                        return Ok(());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => bail!("the devnet did not say {prefix:?}; it said:\n{}", self.said.join("\n")),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("the devnet exited ({status}); it said:\n{}", self.said.join("\n"));
            }
        }
    }

    /// What the devnet's current run has printed so far.
    pub fn said(&self) -> &[String] {
        &self.said
    }

    /// Stops the devnet as Ctrl-C in its terminal does, sending SIGINT to the
    /// terminal's foreground processes: the devnet and every node it runs.
    /// Waits (up to a minute) for the devnet to exit, and its nodes with it.
    pub fn interrupt(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            bail!("the devnet is not running");
        }
        let mut pids = self.live_nodes();
        pids.push(self.child.id());
        for pid in pids {
            Command::new("kill").args(["-INT", &pid.to_string()]).status()?;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                bail!("the devnet did not stop within a minute of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let left = self.live_nodes();
        if !status.success() || !left.is_empty() {
            bail!("after Ctrl-C the devnet exited ({status}), nodes still running: {left:?}");
        }
        Ok(())
    }

    /// Crashes the devnet: SIGKILL to every node and to the devnet, as a power
    /// cut would. Waits (up to 30 s) until they are gone: a node dies when the
    /// kernel gets to it, and holds its store's lock until then.
    pub fn crash(&mut self) -> Result<()> {
        let nodes = self.live_nodes();
        for pid in &nodes {
            Command::new("kill").args(["-KILL", &pid.to_string()]).status()?;
        }
        self.child.kill()?;
        self.child.wait()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !nodes.iter().all(|pid| gone(*pid)) {
            if Instant::now() > deadline {
                bail!("nodes {nodes:?} still running 30 s after SIGKILL");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Runs the same `billflow-devnet` command again on the same
    /// directory, after [`DevnetProcess::interrupt`] or [`DevnetProcess::crash`],
    /// and waits (up to 3 minutes) until it says it is ready.
    pub fn restart(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_none() {
            bail!("the devnet is still running");
        }
        let (child, lines) = run(&self.args, self.clock_file.as_deref())?;
        (self.child, self.lines, self.said) = (child, lines, Vec::new());
        self.wait_for("ready:")
    }

    /// The node processes of the current run still alive: each process with a
    /// pid from `devnet.json` that runs `billflow-node` on its node's configuration.
    fn live_nodes(&self) -> Vec<u32> {
        let nodes = self.info.json["nodes"].as_array().cloned().unwrap_or_default();
        nodes
            .iter()
            .filter_map(|n| {
                let pid = u32::try_from(n["pid"].as_u64()?).ok()?;
                let config = n["config"].as_str()?;
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let ours = cmdline.split(|b| *b == 0).any(|arg| arg == config.as_bytes());
                ours.then_some(pid)
            })
            .collect()
    }

    /// Moves the devnet's clock to `days` days past the machine's, and waits
    /// until every process has read it.
    pub fn shift_clock(&self, days: u32) -> Result<()> {
        let file = self.clock_file.as_ref().context("the devnet runs on the real clock")?;
        std::fs::write(file, format!("+{days}d\n"))?;
        std::thread::sleep(Duration::from_millis(2_500));
        Ok(())
    }
}

impl DevnetInfo {
    /// Reads a `devnet.json`.
    pub fn load(path: &Path) -> Result<DevnetInfo> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(DevnetInfo { json: serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))? })
    }

    /// The chain id.
    pub fn chain_id(&self) -> Result<ChainId> {
        Ok(self.json["chain_id"].as_str().context("chain_id")?.parse()?)
    }

    /// The API URLs of the nodes.
    pub fn urls(&self) -> Vec<String> {
        let nodes = self.json["nodes"].as_array().cloned().unwrap_or_default();
        nodes.iter().filter_map(|n| n["api_url"].as_str().map(str::to_string)).collect()
    }

    /// A client of every node (failing over in order), trusting the devnet's CA.
    pub fn client(&self) -> Result<Client> {
        self.client_of(self.urls())
    }

    /// A client of the given nodes.
    pub fn client_of(&self, urls: Vec<String>) -> Result<Client> {
        let ca = std::fs::read(self.json["ca_cert"].as_str().context("ca_cert")?)?;
        Ok(Client::builder(urls).ca_pem(ca).build()?)
    }

    /// The signer of a key listed under `list` (`participant_keys`, `admin_keys`,
    /// `tenant_keys`, `notary_keys`) with owner `owner`, acting under `tenant`.
    pub fn signer(&self, list: &str, owner: &str, tenant: Option<&str>) -> Result<Signer> {
        let keys = self.json[list].as_array().with_context(|| format!("no {list} in devnet.json"))?;
        let key = keys.iter().find(|k| k["owner"] == owner).with_context(|| format!("no {owner} in {list}"))?;
        Ok(Signer {
            chain_id: self.chain_id()?,
            tenant: tenant.map(str::parse).transpose()?,
            key_id: key["key_id"].as_str().context("key_id")?.parse()?,
            secret: billflow_genesis::keys::read_key(Path::new(key["key_file"].as_str().context("key_file")?))?,
        })
    }

    /// A demo participant's signer: enterprises act under the devnet's tenant.
    pub fn participant(&self, id: &str) -> Result<Signer> {
        let tenant = self.json["tenant_keys"][0]["owner"].as_str().map(str::to_string);
        let tenant = if id.starts_with("bank-") { None } else { tenant };
        self.signer("participant_keys", id, tenant.as_deref())
    }

    /// The process id of node `i`.
    pub fn node_pid(&self, i: usize) -> Option<u64> {
        self.json["nodes"][i]["pid"].as_u64()
    }
}

impl DevnetProcess {
    /// Stops the devnet and its nodes (SIGTERM, then SIGKILL after 10 s, to
    /// any node left too) and keeps its directory until drop, to read what
    /// the nodes left on disk.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
            for _ in 0..100 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        for pid in self.live_nodes() {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether process `pid` has exited: no such process, or a zombie with every
/// thread exited (so it has closed its files and let go of its locks).
fn gone(pid: u32) -> bool {
    let dead = |task: &str| match std::fs::read_to_string(format!("/proc/{pid}/task/{task}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    };
    // A killed process's main thread turns zombie while its other threads are
    // still exiting, and they share its open files (the store's lock among
    // them): it is gone only once no thread of it is left alive.
    match std::fs::read_dir(format!("/proc/{pid}/task")) {
        Ok(tasks) => tasks.filter_map(|t| t.ok()).all(|t| dead(&t.file_name().to_string_lossy())),
        Err(_) => true,
    }
}

/// Starts `billflow-devnet` with `args`, running this build's `billflow-node`
/// (under libfaketime with `clock_file`), and reads what it prints, standard
/// output and error, a line at a time.
fn run(args: &[OsString], clock_file: Option<&Path>) -> Result<(Child, mpsc::Receiver<String>)> {
    let mut cmd = Command::new(devnet_binary()?);
    cmd.arg("--node-binary").arg(node_binary()?);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(file) = clock_file {
        cmd.env("LD_PRELOAD", LIBFAKETIME)
            .env("FAKETIME_TIMESTAMP_FILE", file)
            .env("FAKETIME_CACHE_DURATION", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    let mut child = cmd.spawn().context("cannot start billflow-devnet")?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("no output from billflow-devnet");
    };
    let (lines, rx) = mpsc::channel();
    forward(stdout, lines.clone());
    forward(stderr, lines);
    Ok((child, rx))
}

/// Sends each line `from` prints to `to`, until either closes.
fn forward(from: impl std::io::Read + Send + 'static, to: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if to.send(line).is_err() {
                break;
            }
        }
    });
}

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
