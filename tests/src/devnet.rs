//! A `billflow-node devnet` process for suites and benchmarks: started in a
//! temporary directory, waited for until it is set up, read from its
//! `devnet.json`, and stopped (every node with it) when dropped.
//!
//! [`Clock::Shifted`] runs the devnet's processes under libfaketime (Debian's
//! `libfaketime` package) with a clock file the suite moves forward, so a
//! scenario can reach a bill's due date: the ledger's clock is its block
//! time, the proposer's wall clock. The suite's own client then shifts its
//! timestamps alike ([`billflow_sdk::set_clock_offset_ms`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_sdk::types::ChainId;
use billflow_sdk::{Client, Signer};

use crate::node_binary;

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
}

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
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("net");
        std::fs::create_dir(&path)?;
        let mut cmd = Command::new(node_binary()?);
        cmd.args([
            "devnet",
            "--base-port",
            "0",
            "--voters",
            &voters.to_string(),
            "--observers",
            &observers.to_string(),
        ])
        .arg("--dir")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if demo {
            cmd.arg("--demo");
        }
        let clock_file = match clock {
            Clock::Real => None,
            Clock::Shifted => {
                if !Path::new(LIBFAKETIME).exists() {
                    bail!("{LIBFAKETIME} is missing: install Debian's libfaketime (the README's test command does)");
                }
                let file = dir.path().join("faketime");
                std::fs::write(&file, "+0\n")?;
                cmd.env("LD_PRELOAD", LIBFAKETIME)
                    .env("FAKETIME_TIMESTAMP_FILE", &file)
                    .env("FAKETIME_CACHE_DURATION", "1")
                    .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
                Some(file)
            }
        };
        let mut child = cmd.spawn().context("cannot start billflow-node devnet")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (lines, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut devnet = DevnetProcess { child, _dir: dir, path, info: DevnetInfo::default(), clock_file };
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(line) if line.starts_with("ready:") => break,
                Ok(line) if line.contains("setting it up failed") => bail!("the devnet failed to set up: {line}"),
                Ok(line) => seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => bail!("the devnet did not become ready; it said:\n{}", seen.join("\n")),
            }
            if let Ok(Some(status)) = devnet.child.try_wait() {
                bail!("the devnet exited ({status}); it said:\n{}", seen.join("\n"));
            }
        }
        devnet.info = DevnetInfo::load(&devnet.path.join("devnet.json"))?;
        Ok(devnet)
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
    /// Stops the devnet and its nodes (SIGTERM, then SIGKILL after 10 s) and
    /// keeps its directory until drop, to read what the nodes left on disk.
    pub fn stop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
