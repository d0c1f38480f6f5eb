//! The examples of `docs/api.md` run: `apps/api-examples` (Rust) and
//! `apps/c/api-examples-c` (C) hold every example of the native calls shown there,
//! `apps/baremetal-examples` (Rust) and `tools/compat-suite/examples.c` (C) every
//! example of the BareMetal-compatible table (`doc_examples.rs` checks that), and make
//! every call with them, on two cores with a disk and a NIC. What they print is
//! computed from the machine (the disk's size, the NIC's MAC, work done by the other
//! core, a program they run); their disk writes are checked on the host.

use std::fs;
use std::path::{Path, PathBuf};

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
        r"^it counted its arguments: Returned\(3\)$",
        "^queued tasks ran before the program: 210$",
        r#"^pci 00:00\.0 8086:29c0 class 0600 driver ""$"#,
        r#"^pci 00:0[0-9a-f]\.0 1af4:10(01|42) class 0100 driver "virtio-blk"$"#,
        r#"^pci 00:0[0-9a-f]\.0 1af4:10(00|41) class 0200 driver "virtio-net"$"#,
        "^woke for (frames on nic 0|the deadline); nic 0 interrupts: true$",
        r"^core 0 halted \d+ ms so far$",
        "^no core 99$",
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
        "^4 of 4 reads done, sector 8 holds Ingot: 1$",
        "^nic 0: virtio-net mac 52:54:0:12:34:56 link 1$",
        "^the program returned 7$",
        "^it counted 3 arguments$",
        r#"^pci 0:0\.0 8086:29c0 class 6\.0 driver ""$"#,
        r#"^pci 0:[0-9a-f]\.0 1af4:10(01|42) class 1\.0 driver "virtio-blk"$"#,
        r#"^pci 0:[0-9a-f]\.0 1af4:10(00|41) class 2\.0 driver "virtio-net"$"#,
        "^woke for (frames on nic 0|the deadline); nic 0 interrupts: 1$",
        r"^core 0 halted \d+ ms so far$",
        "^no core 99$",
        "^api-examples-c: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    let dump = r"^0123456789ABCDEF0xFFFF8000[0-9A-F]{8}: 49 6E 67 6F 74$";
    let baremetal_rust = [
        "^hello through b_output$",
        dump,
        r"^b_output calls 0x[0-9a-f]+$",
        "^no key waiting$",
        "^2 ms delay took >= 2 ms: true, tsc advanced: true, free memory > 0 MiB: true$",
        "^core 0 of 2: 1 others ran the code; slot active=true$",
        "^reset: 0 assignments withdrawn or ended$",
        "^no framebuffer$",
        r"^interface 0 mac \[52, 54, 00, 12, 34, 56\]$",
        r"^received \d+ bytes$",
        "^2 sectors read, 2 written$",
        "^00:00.0 vendor 8086 device 29c0$",
        "^the timer callback fired$",
        "^baremetal-examples: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    let baremetal_c = [
        "^hello through b_output$",
        dump,
        "^no key waiting$",
        "^2 ms delay took >= 2 ms$",
        r"^free memory MiB: \d+$",
        "^core 0 of 2: 1 others ran the code; slot active=1$",
        "^reset: 0 assignments withdrawn or ended$",
        "^no framebuffer$",
        r"^received \d+ bytes$",
        "^2 sectors read, 2 written$",
        "^00:00.0 vendor and device: 0000000029C08086$",
        "^the timer callback fired$",
        "^baremetal-examples-c: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    let native: Written = (8 * 512, b"Ingot");
    let baremetal: Written = (2 * 4096, b"BareMeta");
    [
        ("api-examples", &rust[..], native),
        ("api-examples-c", &c[..], native),
        ("baremetal-examples", &baremetal_rust[..], baremetal),
        ("baremetal-examples-c", &baremetal_c[..], baremetal),
    ]
    .into_iter()
    .map(|(name, expect, written)| {
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
        s.host_check = Some(Box::new(move |_log| check_written(&image, written)));
        s
    })
    .chain([sdk_examples(artifacts), bad_arguments(artifacts)])
    .collect()
}

/// `apps/sdk-examples`: the SDK documentation's own examples (`sdk_examples.rs` checks
/// they are its regions), with a disk and a NIC; its `ud2` program faults on purpose.
fn sdk_examples(artifacts: &Artifacts) -> Scenario {
    let name = "sdk-examples";
    let image = fresh_image(name);
    let qemu = QemuConfig::new(Machine::Q35)
        .cores(2)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program(name))
        .append("exit=qemu init=sdk-examples one two")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-pci,drive=d0".into(),
            "-netdev".into(),
            "user,id=n0,restrict=on".into(),
            "-device".into(),
            "virtio-net-pci,netdev=n0".into(),
        ]);
    let expect = [
        "^3 arguments$",
        "^argument 2: two$",
        "^2 \\+ 3 = 5$",
        "^no newline, then one$",
        r"^API 1\.\d+$",
        "^kernel memory refused: true$",
        "^the task's own task ran: true$",
        r"^two rdtsc \d+ cycles apart$",
        r"^raw disk calls refused: Err\(BadAddress\) Err\(InvalidArgument\)$",
        "^empty: true$",
        "^2 buffers$",
        r"^raw net calls refused: Err\(BadAddress\) Err\(NotFound\)$",
        "^the heap took the rest: true$",
        "^sum 55$",
        r"^4 reads in flight, the first has ticket \d+$",
        "^4 sectors written, 4 read back the same$",
        r"^raw queue calls refused: Err\(BadAddress\) Err\(NotFound\)$",
        "^faulted, vector 6$",
        r"^this program keeps \d+ bytes$",
        "^sdk-examples: done, 0 failed$",
        "^ingot: program exited status=0$",
    ];
    let mut s = scenario(name, qemu, &expect, exit_status_for(0));
    s.forbid = vec!["ingot: panic".into(), "ingot: fatal".into()];
    s
}

/// `apps/c/bad-args-c`: every native call but the network ones (`net-bad-arguments`)
/// given bad pointers, lengths, core, group and disk numbers, each error compared
/// with the documented one, then good calls that still work; on two cores with a disk.
fn bad_arguments(artifacts: &Artifacts) -> Scenario {
    let name = "calls-bad-arguments";
    let image = fresh_image(name);
    let qemu = QemuConfig::new(Machine::Q35)
        .cores(2)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("bad-args-c"))
        .append("exit=qemu")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-pci,drive=d0".into(),
        ]);
    let mut s = scenario(
        name,
        qemu,
        &["^bad-args-c: still running$", "^bad-args-c: 45 checks, 0 failed$"],
        exit_status_for(0),
    );
    s.forbid.push("FAIL".into());
    s
}

/// Where an example program writes on its disk, and what.
type Written = (usize, &'static [u8]);

/// A fresh, empty 8 MiB disk image for scenario `name`.
pub(super) fn fresh_image(name: &str) -> PathBuf {
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

/// The example wrote `bytes` at `offset` (in the first of two sectors it rewrote) and
/// left the rest of those sectors zero, as on the fresh image.
fn check_written(image: &Path, (offset, bytes): Written) -> Result<(), String> {
    let image_bytes = fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let region = image_bytes.get(offset..offset + 1024).ok_or("image too short")?;
    if &region[..bytes.len()] != bytes || region[bytes.len()..].iter().any(|&b| b != 0) {
        return Err(format!(
            "bytes at {offset} are {:02x?}, not {bytes:02x?} then zeros",
            &region[..16]
        ));
    }
    Ok(())
}
