//! Hosts on one machine: one network namespace per node, each with a veth
//! link to a bridge in the suite's own namespace (iproute2, as root). A link
//! can be cut and mended, so a node is cut off the way a host is when its
//! network fails, or degraded: packets lost at random (nftables) and the
//! bandwidth capped (tc's token bucket), as a poor WAN link does. Everything
//! is removed on drop.
//!
//! Addresses are `10.77.S.(k+1)` for node `k` and `10.77.S.254` for the
//! bridge, with `S` taken from the process id and a count of the process's
//! fabrics so that concurrent suites and successive fabrics do not meet;
//! names carry the same tag.

use std::collections::BTreeSet;
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
        // Each fabric of the process gets names and a subnet of its own: the
        // kernel removes a deleted namespace (and the veth in it) in the
        // background, so the last fabric's may still be there.
        static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid = std::process::id();
        let fabric =
            Fabric { tag: format!("bf{}x{}", pid % 100_000, n % 100), subnet: ((pid + n) % 200) as u8 + 20, nodes: 0 };
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

    /// Node `k`'s established TCP connections from or to `port`, each as
    /// "local-address peer-address": the same pair before and after a fault
    /// is the same connection, kept through it.
    pub fn connections(&self, k: usize, port: u16) -> Result<BTreeSet<String>> {
        let filter = format!("( sport = :{port} or dport = :{port} )");
        let ns = self.namespace(k);
        let args = ["netns", "exec", &ns, "ss", "-Htn", "state", "established", &filter];
        let out = Command::new("ip").args(args).output().context("cannot run `ss` (iproute2)")?;
        if !out.status.success() {
            bail!("ss in {ns}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        // Each line: receive queue, send queue, local address, peer address.
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [.., local, peer] => Some(format!("{local} {peer}")),
                _ => None,
            })
            .collect())
    }
}

/// How a degraded link behaves.
///
/// This kernel has no `netem`, so there is no fixed added latency: the delay
/// is that of a shaped link, whose queue holds packets for up to 500 ms when
/// the traffic is over the rate.
#[derive(Debug, Clone, Copy)]
pub struct Degradation {
    /// Packets dropped at random in each direction, in percent.
    pub loss_percent: u8,
    /// The link's rate in each direction, in kbit/s.
    pub rate_kbit: Option<u32>,
}

/// The nftables table the suite adds in a node's namespace.
const FAULT_TABLE: &str = "billflow_faults";

fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).output().with_context(|| format!("cannot run `{program}`"))?;
    if !out.status.success() {
        bail!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

impl Fabric {
    /// Degrades node `k`'s link in both directions (until [`Fabric::restore`]).
    /// Loss needs `nft` (Debian's nftables).
    pub fn degrade(&self, k: usize, how: Degradation) -> Result<()> {
        let ns = self.namespace(k);
        if how.loss_percent > 0 {
            let nft = |rule: String| run("ip", &["netns", "exec", &ns, "nft", &rule]);
            nft(format!("add table inet {FAULT_TABLE}"))?;
            for (hook, dir) in [("input", "iifname"), ("output", "oifname")] {
                nft(format!("add chain inet {FAULT_TABLE} {hook} {{ type filter hook {hook} priority 0; }}"))?;
                nft(format!(
                    "add rule inet {FAULT_TABLE} {hook} {dir} \"eth0\" numgen random mod 100 < {} drop",
                    how.loss_percent
                ))?;
            }
        }
        if let Some(rate) = how.rate_kbit {
            let shape = ["root", "tbf", "rate", &format!("{rate}kbit"), "burst", "32kbit", "latency", "500ms"];
            // Out of the node, and into it (out of the bridge's end of the link).
            run("tc", &[&["-n", &ns, "qdisc", "add", "dev", "eth0"][..], &shape].concat())?;
            run("tc", &[&["qdisc", "add", "dev", &self.veth(k)][..], &shape].concat())?;
        }
        Ok(())
    }

    /// Takes away whatever [`Fabric::degrade`] did to node `k`'s link.
    pub fn restore(&self, k: usize) -> Result<()> {
        let ns = self.namespace(k);
        // Each may be absent: only what was added is removed.
        let _ = run("ip", &["netns", "exec", &ns, "nft", &format!("delete table inet {FAULT_TABLE}")]);
        let _ = run("tc", &["-n", &ns, "qdisc", "del", "dev", "eth0", "root"]);
        let _ = run("tc", &["qdisc", "del", "dev", &self.veth(k), "root"]);
        Ok(())
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
