//! The Linux peer guest: Debian's own kernel and busybox, booted under Ingot's QEMU flags.
//!
//! [`prepare`] downloads `linux-image-amd64` (a meta package; its `Depends` names the
//! versioned `linux-image-*-amd64`) and `busybox-static` with `apt-get download`,
//! extracts them with `dpkg-deb -x` (nothing is installed), and produces in
//! `target/ingot/linux-peer/`:
//! - `vmlinuz`: Debian's bzImage as shipped (boots through the Linux boot protocol);
//! - `vmlinux`: the same kernel uncompressed. Debian ships no vmlinux, but the bzImage
//!   carries it as one xz stream; we find the xz magic and run `xz -dc --single-stream`
//!   from there. The result is an ELF with a PVH note (`CONFIG_PVH=y`), so `-kernel
//!   vmlinux` boots through PVH like Ingot's `kernel-pvh.elf`;
//! - `initramfs.cpio`: busybox, `/init` ([`INIT`]), the virtio NIC/disk modules and their
//!   dependencies, and `/www/index.html`, written by [`super::cpio`];
//! - `initramfs-smp.cpio`: the same plus `/bin/smp-bench`, the work-queue benchmark's
//!   pthread-pool twin (`tools/bench-peer/smp_bench.c`, linked statically by the host's
//!   gcc), run by `/init` under `peer=smp` ([`SMP_APPEND`]). A separate file, so the boot
//!   benchmark's initramfs stays as small as it was;
//! - `initramfs-disk.cpio`: the base plus the NVMe, AHCI and PIIX IDE modules
//!   ([`DISK_MODULES`]) and `/bin/disk-bench` (`tools/bench-peer/disk_bench.c`, built by
//!   [`super::peer_programs`]), run by `/init` under `peer=disk` ([`DISK_APPEND`]) on the
//!   first disk that appears.
//!
//! Downloads and extractions are cached: a rerun only rewrites the initramfs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cpio::Cpio;

/// The line `/init` prints first; the peer's "ready".
pub const READY: &str = "ingot-peer: ready";
/// Kernel command line for benchmark boots (`peer=boot`: print the marker, then exit
/// QEMU through isa-debug-exit). `nokaslr` keeps instruction counts repeatable;
/// `panic=-1` turns a panic (e.g. out of memory) into a reset, which `-no-reboot` ends.
pub const BOOT_APPEND: &str = "console=ttyS0 quiet nokaslr panic=-1 peer=boot";
/// Kernel command line for `bench smp`: run `/bin/smp-bench`, then exit QEMU.
pub const SMP_APPEND: &str = "console=ttyS0 quiet nokaslr panic=-1 peer=smp";
/// The Linux side of `bench smp`, relative to the workspace root.
const SMP_BENCH_SOURCE: &str = "tools/bench-peer/smp_bench.c";
/// Kernel command line for `bench disk`: run `/bin/disk-bench` on the disk, then exit.
pub const DISK_APPEND: &str = "console=ttyS0 quiet nokaslr panic=-1 peer=disk";
/// Kernel command line for `bench disk`'s parallel phase on `peerdisks=N` disks
/// (appended): `/bin/disk-bench --parallel` on them, then exit.
pub const DISKS_APPEND: &str = "console=ttyS0 quiet nokaslr panic=-1 peer=disks";
/// Modules the initramfs carries (with their dependencies), loaded in `net` mode.
const MODULES: &[&str] = &["virtio_pci", "virtio_net", "virtio_blk"];
/// Further modules of `initramfs-disk.cpio`: the NVMe, AHCI and PIIX IDE controllers.
const DISK_MODULES: &[&str] = &["nvme", "ahci", "ata_piix", "sd_mod"];
/// Busybox applets linked into `/bin` before anything else runs.
const APPLETS: &[&str] =
    &["sh", "mount", "insmod", "ip", "httpd", "dd", "cat", "sleep", "mkdir", "printf"];

/// `/init`. Modes come from `peer=` on the kernel command line (Linux passes unknown
/// `key=value` words to init as environment variables).
const INIT: &str = r#"#!/bin/sh
# Ingot benchmark peer. The marker comes first, so "ready" means "userspace runs".
echo "ingot-peer: ready"
exit_qemu() { printf '\000' | dd of=/dev/port bs=1 seek=244 2>/dev/null; }
[ "${peer:-boot}" = boot ] && exit_qemu
if [ "$peer" = smp ]; then /bin/smp-bench; exit_qemu; fi
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in @MODULES@; do insmod "/lib/modules/$m.ko" || echo "ingot-peer: insmod $m failed"; done
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
    ip addr add "${peerip:-10.0.2.15/24}" dev eth0
    ip route add default via "${peergw:-10.0.2.2}"
    echo "ingot-peer: eth0 $(cat /sys/class/net/eth0/address) ${peerip:-10.0.2.15/24}"
    [ -x /bin/udp-echo ] && /bin/udp-echo &
    httpd -p 80 -h /www && echo "ingot-peer: http-ready"
else
    echo "ingot-peer: no eth0"
fi
if [ "$peer" = dd ]; then
    # Debian's busybox dd prints no rate, so `time` reports the elapsed time.
    time dd if=/dev/zero of=/dev/null bs=1048576 count="${peerddmb:-64}" 2>&1
    [ -b /dev/vda ] && time dd if=/dev/vda of=/dev/null bs=1048576 2>&1
    exit_qemu
fi
if [ "$peer" = disk ]; then
    # `bench disk`: the first disk that appears (devtmpfs adds it once probed), then
    # tools/bench-peer/disk_bench.c on it.
    disk=
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        for d in vda nvme0n1 sda; do [ -b "/dev/$d" ] && disk=/dev/$d && break 2; done
        sleep 1
    done
    if [ -n "$disk" ]; then
        echo "ingot-peer: disk $disk"
        # peerreads=N (bench disk --instructions-only): only N random reads.
        /bin/disk-bench ${peerreads:+--random "$peerreads"} "$disk"
        echo "ingot-peer: disk-bench exit $?"
    else
        echo "ingot-peer: no disk"
    fi
    exit_qemu
fi
if [ "$peer" = disks ]; then
    # `bench disk`'s parallel phase: the first ${peerdisks} disks that appear, then
    # tools/bench-peer/disk_bench.c --parallel on them (one reader per disk and CPU);
    # with peershared=1 the first disk ${peerdisks} times (reader k reads its k-th
    # 32 MiB of it).
    want=${peerdisks:-2}
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        set --
        for d in vda vdb vdc vdd nvme0n1 nvme1n1 nvme2n1 nvme3n1; do
            [ -b "/dev/$d" ] && [ $# -lt "$want" ] && set -- "$@" "/dev/$d"
        done
        if [ "$peershared" = 1 ] && [ $# -ge 1 ]; then
            first=$1
            set --
            while [ $# -lt "$want" ]; do set -- "$@" "$first"; done
        fi
        [ $# -ge "$want" ] && break
        sleep 1
    done
    if [ $# -ge "$want" ]; then
        echo "ingot-peer: disks $*"
        /bin/disk-bench --parallel "$@"
        echo "ingot-peer: disk-bench exit $?"
    else
        echo "ingot-peer: no disk"
    fi
    exit_qemu
fi
# Serve until the console sends "q".
while read -r line; do [ "$line" = q ] && exit_qemu; done
while :; do sleep 3600; done
"#;

/// What [`prepare`] produced.
pub struct Peer {
    /// Debian's kernel release, e.g. `6.1.0-56-amd64`.
    pub release: String,
    /// The bzImage as shipped.
    pub vmlinuz: PathBuf,
    /// The uncompressed ELF (PVH entry).
    pub vmlinux: PathBuf,
    /// The initramfs (uncompressed newc cpio).
    pub initramfs: PathBuf,
    /// The initramfs with `/bin/smp-bench` added.
    pub smp_initramfs: PathBuf,
    /// The initramfs with the disk modules and `/bin/disk-bench` added.
    pub disk_initramfs: PathBuf,
}

fn run(command: &mut Command, what: &str) -> Result<Vec<u8>, String> {
    let output = command
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", command.get_program()))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

/// The one file in `dir` whose name starts with `prefix` and ends with `suffix`.
fn find_one(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    found.sort();
    found.pop()
}

/// `apt-get download` into `dir` unless a matching `.deb` is already there.
fn download(dir: &Path, package: &str, prefix: &str) -> Result<PathBuf, String> {
    if let Some(deb) = find_one(dir, prefix, ".deb") {
        return Ok(deb);
    }
    eprintln!("linux peer: apt-get download {package}");
    let fetch = || {
        run(
            Command::new("apt-get").arg("download").arg(package).current_dir(dir),
            "apt-get download",
        )
    };
    if fetch().is_err() {
        // A fresh machine may have no package lists yet.
        eprintln!("linux peer: apt-get update, then retry");
        run(Command::new("apt-get").args(["update", "-qq"]), "apt-get update")?;
        fetch().map_err(|e| format!("{e} (package {package})"))?;
    }
    find_one(dir, prefix, ".deb").ok_or(format!("apt-get download {package} left no {prefix}*.deb"))
}

/// The versioned kernel package the `linux-image-amd64` meta package depends on.
fn kernel_package(debs: &Path) -> Result<String, String> {
    let meta = download(debs, "linux-image-amd64", "linux-image-amd64_")?;
    let depends = run(Command::new("dpkg-deb").arg("-f").arg(&meta).arg("Depends"), "dpkg-deb -f")?;
    let depends = String::from_utf8_lossy(&depends);
    depends
        .split(',')
        .map(|d| d.trim().split([' ', '(']).next().unwrap_or(""))
        .find(|d| d.starts_with("linux-image-") && d.ends_with("-amd64"))
        .map(str::to_string)
        .ok_or(format!("{}: no linux-image-*-amd64 in Depends: {depends}", meta.display()))
}

fn extract(deb: &Path, into: &Path) -> Result<(), String> {
    let done = into.join(".extracted");
    if done.exists() {
        return Ok(());
    }
    fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(into), "dpkg-deb -x")?;
    fs::write(&done, b"").map_err(|e| format!("{}: {e}", done.display()))
}

/// Where the xz stream holding the kernel starts inside a bzImage.
pub fn xz_offset(bzimage: &[u8]) -> Option<usize> {
    bzimage.windows(6).position(|w| w == b"\xfd7zXZ\0")
}

fn decompress_vmlinux(vmlinuz: &Path, out: &Path) -> Result<(), String> {
    if fs::metadata(out).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let bytes = fs::read(vmlinuz).map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
    let offset = xz_offset(&bytes).ok_or(format!("{}: no xz stream inside", vmlinuz.display()))?;
    let tmp = out.with_extension("part");
    let file = fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut child = Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(|e| format!("cannot run xz: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("xz stdin")?;
    // xz stops reading after the stream's end; a broken pipe then is expected.
    let _ = std::io::Write::write_all(&mut stdin, &bytes[offset..]);
    drop(stdin);
    let status = child.wait().map_err(|e| format!("xz: {e}"))?;
    let head = fs::read(&tmp).map(|b| b.get(..4).map(<[u8]>::to_vec)).ok().flatten();
    if !status.success() || head.as_deref() != Some(b"\x7fELF") {
        return Err(format!(
            "xz -d of {} (from byte {offset}) gave no ELF ({status})",
            vmlinuz.display()
        ));
    }
    fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))
}

/// The `depends=` list in a module's `.modinfo` (comma-separated module names).
pub fn module_depends(ko: &[u8]) -> Vec<String> {
    // Preceded by NUL, so that e.g. `softdepends=` does not match.
    let Some(at) = ko.windows(9).position(|w| w == b"\0depends=") else { return Vec::new() };
    let rest = &ko[at + 9..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('-', "_"))
        .collect()
}

/// Every `.ko` under `dir`, by module name (`-` written as `_`).
fn index_modules(dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            index_modules(&path, out);
        } else if let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".ko"))
        {
            out.insert(name.replace('-', "_"), path);
        }
    }
}

/// `wanted` and their dependencies, each after everything it depends on.
fn load_order(
    wanted: &[&str],
    depends_of: &dyn Fn(&str) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    fn visit(
        name: &str,
        depends_of: &dyn Fn(&str) -> Result<Vec<String>, String>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<(), String> {
        if order.iter().any(|n| n == name) {
            return Ok(());
        }
        if path.iter().any(|n| n == name) {
            return Err(format!("module dependency cycle through {name}"));
        }
        path.push(name.to_string());
        for dep in depends_of(name)? {
            visit(&dep, depends_of, order, path)?;
        }
        path.pop();
        order.push(name.to_string());
        Ok(())
    }
    let mut order = Vec::new();
    for name in wanted {
        visit(name, depends_of, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Links `tools/bench-peer/smp_bench.c` statically (when missing or older than its source).
fn build_smp_bench(out: &Path) -> Result<(), String> {
    let source = crate::build::workspace_root().join(SMP_BENCH_SOURCE);
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(out).is_some() && modified(out) >= modified(&source) {
        return Ok(());
    }
    run(
        Command::new("gcc")
            .args(["-O2", "-static", "-pthread", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(out)
            .arg(&source),
        "gcc (static glibc comes from libc6-dev)",
    )
    .map(drop)
}

/// Writes the initramfs to `out`, with `(path, bytes)` files added (mode 0755).
fn build_initramfs(
    kroot: &Path,
    release: &str,
    busybox: &Path,
    extra_modules: &[&str],
    extra: &[(&str, &[u8])],
    out: &Path,
) -> Result<(), String> {
    let mut modules = BTreeMap::new();
    index_modules(&kroot.join("lib/modules").join(release).join("kernel"), &mut modules);
    let depends_of = |name: &str| -> Result<Vec<String>, String> {
        let path =
            modules.get(name).ok_or(format!("module {name} not in linux-image-{release}"))?;
        Ok(module_depends(&read(path)?))
    };
    let wanted: Vec<&str> = MODULES.iter().chain(extra_modules).copied().collect();
    let order = load_order(&wanted, &depends_of)?;
    let mut cpio = Cpio::new();
    for dir in ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "www"] {
        cpio.dir(dir, 0o755);
    }
    cpio.char_device("dev/console", 0o600, 5, 1);
    cpio.char_device("dev/null", 0o666, 1, 3);
    cpio.char_device("dev/port", 0o600, 1, 4);
    cpio.char_device("dev/ttyS0", 0o600, 4, 64);
    cpio.file("bin/busybox", 0o755, &read(busybox)?);
    for applet in APPLETS {
        cpio.symlink(&format!("bin/{applet}"), "busybox");
    }
    for name in &order {
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, &read(&modules[name])?);
    }
    cpio.file("init", 0o755, INIT.replace("@MODULES@", &order.join(" ")).as_bytes());
    if !extra.iter().any(|(path, _)| *path == "www/index.html") {
        cpio.file(
            "www/index.html",
            0o644,
            b"<html><body>ingot-peer: busybox httpd</body></html>\n",
        );
    }
    for (path, bytes) in extra {
        cpio.file(path, 0o755, bytes);
    }
    fs::write(out, cpio.finish()).map_err(|e| format!("{}: {e}", out.display()))
}

/// An initramfs like [`Peer::initramfs`] with `files` added under `/www` (after
/// [`prepare`] ran), for `bench net`: the peer's busybox httpd then serves the same
/// files as Ingot's httpd, and `/bin/udp-echo` (`tools/bench-peer/udp_echo.c`, started
/// by `/init` in net mode) answers on UDP port 7 as Ingot's httpd does.
pub fn www_initramfs(files: &[(&str, &[u8])], out: &Path) -> Result<(), String> {
    let dir = crate::build::output_dir().join("linux-peer");
    let kroot = dir.join("kernel-root");
    let release = fs::read_dir(kroot.join("lib/modules"))
        .map_err(|e| format!("{}: {e} (run prepare first)", kroot.display()))?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .next()
        .ok_or("no kernel release in the extracted peer kernel")?;
    let busybox = dir.join("busybox-root/bin/busybox");
    let named: Vec<(String, &[u8])> =
        files.iter().map(|(name, bytes)| (format!("www/{name}"), *bytes)).collect();
    let mut extra: Vec<(&str, &[u8])> =
        named.iter().map(|(name, bytes)| (name.as_str(), *bytes)).collect();
    let udp_echo = read(&super::peer_programs::build_udp_echo()?)?;
    extra.push(("bin/udp-echo", &udp_echo));
    build_initramfs(&kroot, &release, &busybox, &[], &extra, out)
}

/// Downloads (once), extracts (once) and assembles the peer; see the module docs.
pub fn prepare() -> Result<Peer, String> {
    let dir = crate::build::output_dir().join("linux-peer");
    let debs = dir.join("debs");
    fs::create_dir_all(&debs).map_err(|e| format!("{}: {e}", debs.display()))?;
    let package = kernel_package(&debs)?;
    let release = package.trim_start_matches("linux-image-").to_string();
    let kernel_deb = download(&debs, &package, &format!("{package}_"))?;
    let busybox_deb = download(&debs, "busybox-static", "busybox-static_")?;
    let kroot = dir.join("kernel-root");
    let bbroot = dir.join("busybox-root");
    extract(&kernel_deb, &kroot)?;
    extract(&busybox_deb, &bbroot)?;
    let shipped = kroot.join("boot").join(format!("vmlinuz-{release}"));
    let vmlinuz = dir.join("vmlinuz");
    if !vmlinuz.exists() {
        fs::copy(&shipped, &vmlinuz).map_err(|e| format!("{}: {e}", shipped.display()))?;
    }
    let vmlinux = dir.join("vmlinux");
    decompress_vmlinux(&vmlinuz, &vmlinux)?;
    let initramfs = dir.join("initramfs.cpio");
    let busybox = bbroot.join("bin/busybox");
    build_initramfs(&kroot, &release, &busybox, &[], &[], &initramfs)?;
    let smp_bench = dir.join("smp-bench");
    build_smp_bench(&smp_bench)?;
    let smp_initramfs = dir.join("initramfs-smp.cpio");
    let smp_bytes = read(&smp_bench)?;
    let smp_extra: &[(&str, &[u8])] = &[("bin/smp-bench", &smp_bytes)];
    build_initramfs(&kroot, &release, &busybox, &[], smp_extra, &smp_initramfs)?;
    let disk_initramfs = dir.join("initramfs-disk.cpio");
    let disk_bytes = read(&super::peer_programs::build_disk_bench()?)?;
    let disk_extra: &[(&str, &[u8])] = &[("bin/disk-bench", &disk_bytes)];
    build_initramfs(&kroot, &release, &busybox, DISK_MODULES, disk_extra, &disk_initramfs)?;
    Ok(Peer { release, vmlinuz, vmlinux, initramfs, smp_initramfs, disk_initramfs })
}

#[cfg(test)]
mod tests {
    use super::{load_order, module_depends, xz_offset};

    #[test]
    fn modinfo_depends_and_load_order() {
        let ko = b"\0license=GPL\0depends=virtio,virtio_ring,net-failover\0intree=Y\0";
        assert_eq!(module_depends(ko), ["virtio", "virtio_ring", "net_failover"]);
        assert!(module_depends(b"\0depends=\0").is_empty());
        let deps = |name: &str| -> Result<Vec<String>, String> {
            Ok(match name {
                "virtio_net" => vec!["net_failover".into(), "virtio".into()],
                "net_failover" => vec!["failover".into()],
                "virtio_pci" => vec!["virtio".into()],
                _ => vec![],
            })
        };
        let order = load_order(&["virtio_pci", "virtio_net"], &deps).unwrap();
        assert_eq!(order, ["virtio", "virtio_pci", "failover", "net_failover", "virtio_net"]);
        let cyclic = |name: &str| -> Result<Vec<String>, String> {
            Ok(vec![if name == "a" { "b" } else { "a" }.to_string()])
        };
        assert!(load_order(&["a"], &cyclic).is_err());
        assert_eq!(xz_offset(b"MZ..\xfd7zXZ\0rest"), Some(4));
        assert_eq!(xz_offset(b"no stream"), None);
    }
}
