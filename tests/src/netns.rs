//! Hosts on one machine: one network namespace per node, each with a veth
//! link to a bridge in the suite's own namespace (iproute2, as root). A link
//! can be cut and mended, so a node is cut off the way a host is when its
//! network fails. Everything is removed on drop.
//!
//! Addresses are `10.77.S.(k+1)` for node `k` and `10.77.S.254` for the
//! bridge, with `S` taken from the process id so that concurrent suites do
//! not meet; names carry the same tag.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// The namespaces, links and bridge of one suite.
pub struct Fabric {
    tag: String,
    subnet: u8,
    nodes: usize,
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output().context("cannot run `ip` (iproute2)")?;
    if !out.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

impl Fabric {
    /// Makes `nodes` namespaces joined by a bridge. Needs root (CAP_NET_ADMIN).
    pub fn new(nodes: usize) -> Result<Fabric> {
        let pid = std::process::id();
        let fabric = Fabric { tag: format!("bf{}", pid % 100_000), subnet: (pid % 200) as u8 + 20, nodes: 0 };
        let mut fabric = fabric;
        let bridge = fabric.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])
            .context("cannot make a bridge: the fault suite runs as root")?;
        ip(&["addr", "add", &format!("10.77.{}.254/24", fabric.subnet), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for k in 0..nodes {
            let (ns, veth) = (fabric.namespace(k), fabric.veth(k));
            ip(&["netns", "add", &ns])?;
            fabric.nodes = k + 1;
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns])?;
            ip(&["link", "set", &veth, "master", &bridge])?;
            ip(&["link", "set", &veth, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{}/24", fabric.address(k)), "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(fabric)
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    fn veth(&self, k: usize) -> String {
        format!("{}v{k}", self.tag)
    }

    /// Node `k`'s namespace.
    pub fn namespace(&self, k: usize) -> String {
        format!("{}n{k}", self.tag)
    }

    /// Node `k`'s address.
    pub fn address(&self, k: usize) -> String {
        format!("10.77.{}.{}", self.subnet, k + 1)
    }

    /// Every node's address.
    pub fn addresses(&self) -> Vec<String> {
        (0..self.nodes).map(|k| self.address(k)).collect()
    }

    /// Cuts node `k`'s link: its host is off the network.
    pub fn cut(&self, k: usize) -> Result<()> {
        ip(&["link", "set", &self.veth(k), "down"])
    }

    /// Mends node `k`'s link.
    pub fn mend(&self, k: usize) -> Result<()> {
        ip(&["link", "set", &self.veth(k), "up"])
    }
}

impl Drop for Fabric {
    fn drop(&mut self) {
        for k in 0..self.nodes {
            // The veth pair goes with its namespace.
            let _ = ip(&["netns", "del", &self.namespace(k)]);
        }
        let _ = ip(&["link", "del", &self.bridge()]);
    }
}
