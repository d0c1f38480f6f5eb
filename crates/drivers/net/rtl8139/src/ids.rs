//! Which PCI functions this driver takes, and where their registers are.

/// An RTL8139 (or a board built on it), as told by its PCI IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Board or chip name for boot lines.
    pub name: &'static str,
    /// The BAR holding the memory-mapped registers: BAR1 (BAR0 is the same registers
    /// in I/O space; this driver uses the memory window).
    pub register_bar: u8,
}

/// Vendor, device and variant of every function this driver takes.
pub const PCI_IDS: &[(u16, u16, Variant)] = &[
    (0x10EC, 0x8139, Variant { name: "RTL8139", register_bar: 1 }),
    (0x10EC, 0x8138, Variant { name: "RTL8139 (CardBus)", register_bar: 1 }),
    (0x1113, 0x1211, Variant { name: "RTL8139 (Accton SMC1211TX)", register_bar: 1 }),
    (0x1186, 0x1300, Variant { name: "RTL8139 (D-Link DFE-538TX)", register_bar: 1 }),
    (0x1186, 0x1340, Variant { name: "RTL8139 (D-Link DFE-690TXD)", register_bar: 1 }),
    (0x13D1, 0xAB06, Variant { name: "RTL8139 (Abocom FE2000VX)", register_bar: 1 }),
    (0x1259, 0xA117, Variant { name: "RTL8139 (Allied Telesyn)", register_bar: 1 }),
    (0x14EA, 0xAB06, Variant { name: "RTL8139 (Planex FNW-3603-TX)", register_bar: 1 }),
];

/// The variant for a PCI function with these IDs, if this driver takes it.
pub fn matches(vendor: u16, device: u16) -> Option<Variant> {
    PCI_IDS.iter().find(|(v, d, _)| *v == vendor && *d == device).map(|(_, _, variant)| *variant)
}
