//! Network scenarios: QEMU's user network (`-netdev user,restrict=on`) behind one or
//! two virtio-net NICs (modern, legacy, transitional). `net-test` lists each NIC,
//! asks the gateway 10.0.2.2 for its MAC with a hand-made ARP request and for an
//! address with a hand-made DHCP discover; the lines checked are the values QEMU's
//! user network really answers (the gateway's MAC 52:55:0a:00:02:02, the offer
//! 10.0.2.15 from 10.0.2.2). One scenario also checks the error code of every net call
//! given bad interface numbers, pointers and lengths, that none of them sent a
//! frame, and that the good calls after them work; another runs two cores sending on the
//! same NIC at once.

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// The MAC given to NIC `index`.
pub(super) fn mac(index: usize) -> String {
    format!("52:54:00:12:34:{:02x}", 0x56 + index)
}

/// A user network `n<index>` and a NIC on it: `device` plus its netdev and MAC.
pub(super) fn nic_args(index: usize, device: &str) -> [String; 4] {
    [
        "-netdev".into(),
        format!("user,id=n{index},restrict=on"),
        "-device".into(),
        format!("{device},netdev=n{index},mac={}", mac(index)),
    ]
}

/// What every NIC `index` of a run must show: listed by the kernel and the program,
/// then answered by its gateway.
pub(super) fn answered(index: usize) -> Vec<String> {
    vec![
        format!(r"^net-test: nic {index} arp 10\.0\.2\.2 is-at 52:55:0a:00:02:02$"),
        format!(r"^net-test: nic {index} dhcp offer 10\.0\.2\.15 from 10\.0\.2\.2$"),
        format!(r"^net-test: nic {index} counters tx_frames\+=2 rx_frames\+=\d+$"),
    ]
}

/// A scenario running `net-test` with one NIC per entry of `nics`: (QEMU device,
/// PCI device ID, interface the kernel picks).
fn net_scenario(
    artifacts: &Artifacts,
    name: &str,
    nics: &[(&str, &str, &str)],
    middle: &[&str],
    cores: u32,
) -> Scenario {
    let mut qemu = QemuConfig::new(Machine::Q35)
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("net-test"))
        .append("exit=qemu");
    let mut lines: Vec<String> = vec![BANNER.into()];
    for (index, (device, id, interface)) in nics.iter().enumerate() {
        qemu = qemu.extra_args(nic_args(index, device));
        lines.push(format!(r"^ingot: virtio-net 0000:00:\d\d\.0 interface={interface}$"));
        lines.push(format!(
            r"^ingot: pci 0000:00:\d\d\.0 1af4:{id} class=02\.00 driver=virtio-net$"
        ));
    }
    for index in 0..nics.len() {
        lines.push(format!("^ingot: net {index} virtio-net mac={} link=up$", mac(index)));
    }
    lines.push(ready("multiboot"));
    lines.push(format!("^net-test: nics={}$", nics.len()));
    for index in 0..nics.len() {
        lines.push(format!(
            "^net-test: nic {index} driver=virtio-net mac={} mtu=1500 link=up$",
            mac(index)
        ));
    }
    lines.extend(middle.iter().map(|line| line.to_string()));
    for index in 0..nics.len() {
        lines.extend(answered(index));
    }
    lines.push("^net-test: done$".into());
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(90);
    s
}

/// Two cores sent 20 ARP requests each on interface 0 at the same time: all 40 went
/// out (counted once each) and all 40 were answered.
pub(super) const SHARED: &str =
    r"^net-test: nic 0 shared by 2 cores sent=40 failed=0 arp-replies=40 tx_frames\+=40$";

/// Each bad call and the error it must return.
const REFUSALS: [&str; 22] = [
    "net_info nic=99 NotFound",
    "net_info info=null BadAddress",
    "net_info info=window-end BadAddress",
    "net_send nic=99 NotFound",
    "net_send frame=null BadAddress",
    "net_send frame=window-end BadAddress",
    "net_send len=0 InvalidArgument",
    "net_send len=13 InvalidArgument",
    "net_send len=mtu\\+15 InvalidArgument",
    "net_send len=max InvalidArgument",
    "net_receive nic=99 NotFound",
    "net_receive buffer=null BadAddress",
    "net_receive buffer=window-end BadAddress",
    "net_receive capacity=13 InvalidArgument",
    "net_send_batch nic=99 NotFound",
    "net_send_batch frames=null BadAddress",
    "net_send_batch count=33 InvalidArgument",
    "net_send_batch frame-len=13 InvalidArgument",
    "net_send_batch frame=null BadAddress",
    "net_receive_batch nic=99 NotFound",
    "net_receive_batch frames=null BadAddress",
    "net_receive_batch count=33 InvalidArgument",
];

/// The network scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let modern = ("virtio-net-pci,disable-legacy=on", "1041", "modern");
    let legacy = ("virtio-net-pci,disable-modern=on", "1000", "legacy");
    let transitional = ("virtio-net-pci", "1000", "modern");
    let refusals: Vec<String> = REFUSALS
        .iter()
        .map(|line| format!("^net-test: refused {line}$"))
        .chain(["^net-test: bad arguments sent=0$".to_string()])
        .collect();
    let refusals: Vec<&str> = refusals.iter().map(String::as_str).collect();
    vec![
        net_scenario(artifacts, "net-virtio-modern-two-cores", &[modern], &[SHARED], 2),
        net_scenario(artifacts, "net-virtio-legacy", &[legacy], &[], 1),
        net_scenario(artifacts, "net-virtio-two-nics", &[transitional, legacy], &[], 1),
        net_scenario(artifacts, "net-bad-arguments", &[transitional], &refusals, 1),
    ]
}
