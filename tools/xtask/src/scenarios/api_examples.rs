//! The examples of `docs/api.md` run: `apps/api-examples` (Rust) and
//! `apps/c/api-examples-c` (C) hold every example shown there (`doc_check.rs` checks
//! that) and make every native call with them, on two cores with a disk and a NIC.
//! What they print is computed from the machine (the disk's size, the NIC's MAC, a
//! sum made by tasks, a program they run); the disk write is checked on the host.

use std::fs;
use std::path::PathBuf;

use super::{exit_status_for, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// 8 MiB: 16384 sectors of 512 bytes.
const IMAGE_BYTES: u64 = 8 << 20;

/// Both example programs.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let rust = [
        "^hello from Rust$",
        "^16 bytes written, then formatted: 42$",
        r"^window 0xffff800000000000, \d+ KiB, stack 64 KiB$",
        "^1 ms delay took >= 1 ms: true$",
        "^core 0 of 2$",
        "^tasks summed 55$",
        "^disk 0: 16384 x 512 bytes, virtio-blk",
        "^no disk 99$",
        r"^nic 0: virtio-net mac \[52, 54, 00, 12, 34, 56\] link 1$",
        r"^the program ended: Returned\(7\)$",
        "^api-examples: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    let c = [
        "^hello from C$",
        "^13 bytes written, then formatted: 42$",
        r"^window 0xffff800000000000, \d+ KiB, stack 64 KiB$",
        "^1 ms delay took >= 1 ms: 1$",
        "^core 0 of 2$",
        "^tasks summed 55$",
        "^disk 0: 16384 x 512 bytes$",
        "^no disk 99$",
        "^nic 0: virtio-net mac 52:54:0:12:34:56 link 1$",
        "^the program returned 7$",
        "^api-examples-c: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    [("api-examples", &rust[..]), ("api-examples-c", &c[..])]
        .into_iter()
        .map(|(name, expect)| {
            let image = fresh_image(name);
            let qemu = QemuConfig::new(Machine::Q35)
                .cores(2)
                .kernel(&artifacts.kernel)
                .initrd(artifacts.program(name))
                .append(format!("exit=qemu init={name}"))
                .extra_args([
                    "-drive".to_string(),
                    format!("file={},format=raw,if=none,id=d0", image.display()),
                    "-device".into(),
                    "virtio-blk-pci,drive=d0".into(),
                    "-netdev".into(),
                    "user,id=n0,restrict=on".into(),
                    "-device".into(),
                    "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56".into(),
                ]);
            let mut s = scenario(name, qemu, expect, exit_status_for(0));
            s.host_check = Some(Box::new(move |_log| written(&image)));
            s
        })
        .collect()
}

fn fresh_image(name: &str) -> PathBuf {
    let dir = output_dir().join("disks");
    let path = dir.join(format!("{name}.img"));
    let made = fs::create_dir_all(&dir)
        .and_then(|()| fs::File::create(&path))
        .and_then(|file| file.set_len(IMAGE_BYTES));
    if let Err(error) = made {
        eprintln!("cannot create {}: {error}", path.display());
    }
    path
}

/// The `disk_read` example wrote "Ingot" at sector 8 and left the rest zero.
fn written(image: &PathBuf) -> Result<(), String> {
    let bytes = fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let sector = bytes.get(8 * 512..10 * 512).ok_or("image too short")?;
    if &sector[..5] != b"Ingot" || sector[5..].iter().any(|&b| b != 0) {
        return Err(format!("sector 8 holds {:02x?}, not \"Ingot\" then zeros", &sector[..16]));
    }
    Ok(())
}
