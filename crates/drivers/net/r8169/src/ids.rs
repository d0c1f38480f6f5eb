//! Which PCI functions this driver takes, and where their registers are.

/// A member of the RTL8169 family, as told by its PCI IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Chip name for boot lines.
    pub name: &'static str,
    /// The BAR holding the memory-mapped registers: BAR1 on the conventional-PCI
    /// RTL8169/8110 (BAR0 is the same registers in I/O space), BAR2 (64-bit, with
    /// BAR3) on the PCI Express RTL8168/8111/810x.
    pub register_bar: u8,
}

const PCI: u8 = 1;
const PCIE: u8 = 2;

/// Vendor, device and variant of every function this driver takes.
pub const PCI_IDS: &[(u16, u16, Variant)] = &[
    (0x10EC, 0x8169, Variant { name: "RTL8169/8110", register_bar: PCI }),
    (0x10EC, 0x8167, Variant { name: "RTL8169SC/8110SC", register_bar: PCI }),
    (0x10EC, 0x8168, Variant { name: "RTL8168/8111", register_bar: PCIE }),
    (0x10EC, 0x8161, Variant { name: "RTL8168/8111", register_bar: PCIE }),
    (0x10EC, 0x8136, Variant { name: "RTL8101E/8102E", register_bar: PCIE }),
    (0x1186, 0x4300, Variant { name: "RTL8169 (D-Link DGE-528T)", register_bar: PCI }),
    (0x1186, 0x4302, Variant { name: "RTL8169 (D-Link DGE-530T)", register_bar: PCI }),
    (0x1737, 0x1032, Variant { name: "RTL8169 (Linksys EG1032)", register_bar: PCI }),
    (0x16EC, 0x0116, Variant { name: "RTL8169 (USR 997902)", register_bar: PCI }),
];

/// The variant for a PCI function with these IDs, if this driver takes it.
pub fn matches(vendor: u16, device: u16) -> Option<Variant> {
    PCI_IDS.iter().find(|(v, d, _)| *v == vendor && *d == device).map(|(_, _, variant)| *variant)
}
