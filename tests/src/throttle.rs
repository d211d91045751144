//! A slow disk for chosen processes: the cgroup v1 blkio controller caps the
//! writes they issue to the block device under a directory, in bytes and in
//! operations a second. Writes a process syncs itself (sled's flushes, the
//! block files' fsyncs) are throttled; the kernel's own write-back of dirty
//! pages is not, which is how a slow disk looks to a ledger that syncs each
//! block. Removed on drop, with its processes moved back out.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const BLKIO: &str = "/sys/fs/cgroup/blkio";

/// A throttled blkio cgroup.
pub struct SlowDisk {
    cgroup: PathBuf,
}

/// The `major:minor` of the whole disk that holds `dir` (throttling takes
/// disks, not partitions).
fn disk_of(dir: &Path) -> Result<String> {
    let dev = std::fs::metadata(dir).with_context(|| format!("{}", dir.display()))?.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let sys = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    if !sys.exists() {
        bail!("{} is not on a block device ({major}:{minor})", dir.display());
    }
    if sys.join("partition").exists() {
        let disk = std::fs::read_to_string(sys.join("../dev")).context("the partition's disk")?;
        return Ok(disk.trim().to_string());
    }
    Ok(format!("{major}:{minor}"))
}

impl SlowDisk {
    /// Caps writes to the disk under `dir` at `bytes_per_s` and `ops_per_s`
    /// for the processes later [`SlowDisk::add`]ed. Needs root and the cgroup
    /// v1 blkio controller; the error says which is missing.
    pub fn new(dir: &Path, bytes_per_s: u64, ops_per_s: u64) -> Result<SlowDisk> {
        if !Path::new(BLKIO).join("blkio.throttle.write_bps_device").exists() {
            bail!("no cgroup v1 blkio controller at {BLKIO}");
        }
        let disk = disk_of(dir)?;
        let cgroup = Path::new(BLKIO).join(format!("billflow-slow-{}", std::process::id()));
        std::fs::create_dir(&cgroup).with_context(|| format!("cannot make {}", cgroup.display()))?;
        let slow = SlowDisk { cgroup };
        slow.set("blkio.throttle.write_bps_device", &format!("{disk} {bytes_per_s}"))?;
        slow.set("blkio.throttle.write_iops_device", &format!("{disk} {ops_per_s}"))?;
        Ok(slow)
    }

    fn set(&self, file: &str, value: &str) -> Result<()> {
        std::fs::write(self.cgroup.join(file), value).with_context(|| format!("{file} <- {value}"))
    }

    /// Puts process `pid` (all its threads) on the slow disk.
    pub fn add(&self, pid: u32) -> Result<()> {
        self.set("cgroup.procs", &pid.to_string())
    }
}

impl Drop for SlowDisk {
    fn drop(&mut self) {
        if let Ok(procs) = std::fs::read_to_string(self.cgroup.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(Path::new(BLKIO).join("cgroup.procs"), pid);
            }
        }
        let _ = std::fs::remove_dir(&self.cgroup);
    }
}
