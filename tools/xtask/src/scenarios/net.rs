//! Network scenarios: QEMU's user network (`-netdev user,restrict=on`) behind one or
//! two NICs of every model QEMU has here (virtio-net modern, legacy and transitional,
//! e1000, e1000e, rtl8139; two of different models at once). `net-test` lists each NIC,
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

/// A NIC model as QEMU offers it and as the kernel must report it.
#[derive(Clone, Copy)]
struct Nic {
    /// QEMU `-device` value (before the netdev and MAC).
    device: &'static str,
    /// `vendor:device` in the PCI line.
    pci_id: &'static str,
    /// The kernel's driver name.
    driver: &'static str,
    /// virtio only: the interface line's `interface=` value.
    virtio_interface: Option<&'static str>,
}

/// A scenario running `net-test` with one NIC per entry of `nics`.
fn net_scenario(
    artifacts: &Artifacts,
    name: &str,
    nics: &[Nic],
    middle: &[&str],
    cores: u32,
) -> Scenario {
    let mut qemu = QemuConfig::new(Machine::Q35)
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("net-test"))
        .append("exit=qemu");
    let mut lines: Vec<String> = vec![BANNER.into()];
    for (index, nic) in nics.iter().enumerate() {
        qemu = qemu.extra_args(nic_args(index, nic.device));
        if let Some(interface) = nic.virtio_interface {
            // Modern devices signal received frames by MSI-X; legacy ones are polled.
            let irq = if interface == "modern" { r" irq=msix vector=0x[0-9a-f]+" } else { "" };
            lines.push(format!(r"^ingot: virtio-net 0000:00:\d\d\.0 interface={interface}{irq}$"));
        }
        lines.push(format!(
            r"^ingot: pci 0000:00:\d\d\.0 {} class=02\.00 driver={}$",
            nic.pci_id, nic.driver
        ));
    }
    for (index, nic) in nics.iter().enumerate() {
        lines.push(format!("^ingot: net {index} {} mac={} link=up$", nic.driver, mac(index)));
    }
    lines.push(ready("multiboot"));
    lines.push(format!("^net-test: nics={}$", nics.len()));
    for (index, nic) in nics.iter().enumerate() {
        lines.push(format!(
            "^net-test: nic {index} driver={} mac={} mtu=1500 link=up$",
            nic.driver,
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
    let virtio = |device, id, interface| Nic {
        device,
        pci_id: id,
        driver: "virtio-net",
        virtio_interface: Some(interface),
    };
    let modern = virtio("virtio-net-pci,disable-legacy=on", "1af4:1041", "modern");
    let legacy = virtio("virtio-net-pci,disable-modern=on", "1af4:1000", "legacy");
    let transitional = virtio("virtio-net-pci", "1af4:1000", "modern");
    let e1000 =
        Nic { device: "e1000", pci_id: "8086:100e", driver: "e1000", virtio_interface: None };
    let e1000e =
        Nic { device: "e1000e", pci_id: "8086:10d3", driver: "e1000e", virtio_interface: None };
    let rtl8139 =
        Nic { device: "rtl8139", pci_id: "10ec:8139", driver: "rtl8139", virtio_interface: None };
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
        net_scenario(artifacts, "net-e1000", &[e1000], &[], 1),
        net_scenario(artifacts, "net-e1000e", &[e1000e], &[], 1),
        net_scenario(artifacts, "net-rtl8139", &[rtl8139], &[], 1),
        net_scenario(artifacts, "net-mixed-e1000e-rtl8139", &[e1000e, rtl8139], &[], 1),
        net_scenario(artifacts, "net-e1000-two-cores", &[e1000], &[SHARED], 2),
    ]
}
