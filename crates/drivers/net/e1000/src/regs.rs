//! Register offsets and bits of the 8254x/8257x MAC (8254x Software Developer's
//! Manual, chapter 13; the 8257x keeps the same offsets for everything used here).

/// Device Control.
pub const CTRL: usize = 0x0000;
/// Device Status.
pub const STATUS: usize = 0x0008;
/// EEPROM/Flash Control.
pub const EECD: usize = 0x0010;
/// EEPROM Read (not on the 82542/82543/82544).
pub const EERD: usize = 0x0014;
/// Extended Device Control.
pub const CTRL_EXT: usize = 0x0018;
/// Interrupt Cause Read (clears on read).
pub const ICR: usize = 0x00C0;
/// Interrupt Mask Clear.
pub const IMC: usize = 0x00D8;
/// Interrupt mask set.
pub const IMS: usize = 0x00D0;
/// Interrupt cause: receive timer (frames were stored).
pub const ICR_RXT0: u32 = 1 << 7;
/// Interrupt cause: receive descriptors below the minimum threshold.
pub const ICR_RXDMT0: u32 = 1 << 4;
/// Interrupt cause: receiver overrun.
pub const ICR_RXO: u32 = 1 << 6;
/// Receive Control.
pub const RCTL: usize = 0x0100;
/// Transmit Control.
pub const TCTL: usize = 0x0400;
/// Transmit Inter-Packet Gap.
pub const TIPG: usize = 0x0410;
/// Receive descriptor ring: base low/high, length in bytes, head, tail.
pub const RDBAL: usize = 0x2800;
/// Receive descriptor base, high half.
pub const RDBAH: usize = 0x2804;
/// Receive descriptor ring length in bytes.
pub const RDLEN: usize = 0x2808;
/// Receive descriptor head.
pub const RDH: usize = 0x2810;
/// Receive descriptor tail.
pub const RDT: usize = 0x2818;
/// Transmit descriptor base, low half.
pub const TDBAL: usize = 0x3800;
/// Transmit descriptor base, high half.
pub const TDBAH: usize = 0x3804;
/// Transmit descriptor ring length in bytes.
pub const TDLEN: usize = 0x3808;
/// Transmit descriptor head.
pub const TDH: usize = 0x3810;
/// Transmit descriptor tail.
pub const TDT: usize = 0x3818;
/// Transmit Descriptor Control (8257x: bit 22 must be written as 1).
pub const TXDCTL: usize = 0x3828;
/// Missed Packets Count (frames lost for want of a receive descriptor; clears on read).
pub const MPC: usize = 0x4010;
/// Multicast Table Array: 128 dwords.
pub const MTA: usize = 0x5200;
/// Receive Address Low, entry 0.
pub const RAL0: usize = 0x5400;
/// Receive Address High, entry 0.
pub const RAH0: usize = 0x5404;

/// CTRL: Set Link Up.
pub const CTRL_SLU: u32 = 1 << 6;
/// CTRL: Auto-Speed Detection Enable.
pub const CTRL_ASDE: u32 = 1 << 5;
/// CTRL: Link Reset.
pub const CTRL_LRST: u32 = 1 << 3;
/// CTRL: GIO Master Disable (8257x: stop bus-master requests before a reset).
pub const CTRL_GIO_MASTER_DISABLE: u32 = 1 << 2;
/// CTRL: Invert Loss-of-Signal.
pub const CTRL_ILOS: u32 = 1 << 7;
/// CTRL: Receive Flow Control Enable (honour PAUSE frames).
pub const CTRL_RFCE: u32 = 1 << 27;
/// CTRL: Transmit Flow Control Enable.
pub const CTRL_TFCE: u32 = 1 << 28;
/// CTRL: Device Reset (self-clearing).
pub const CTRL_RST: u32 = 1 << 26;
/// CTRL: VLAN Mode Enable.
pub const CTRL_VME: u32 = 1 << 30;
/// CTRL: PHY Reset.
pub const CTRL_PHY_RST: u32 = 1 << 31;

/// STATUS: Link Up.
pub const STATUS_LU: u32 = 1 << 1;
/// STATUS: GIO Master Enable Status (8257x: clear once bus-master requests stopped).
pub const STATUS_GIO_MASTER_ENABLE: u32 = 1 << 19;

/// EECD: EEPROM auto-read done (the MAC has loaded its settings from the EEPROM).
pub const EECD_AUTO_RD: u32 = 1 << 9;

/// EERD: start a read.
pub const EERD_START: u32 = 1 << 0;

/// CTRL_EXT: Driver Loaded (8257x: tells manageability firmware a driver owns the MAC).
pub const CTRL_EXT_DRV_LOAD: u32 = 1 << 28;

/// RCTL: Receiver Enable.
pub const RCTL_EN: u32 = 1 << 1;
/// RCTL: Broadcast Accept Mode.
pub const RCTL_BAM: u32 = 1 << 15;
/// RCTL: Strip Ethernet CRC.
pub const RCTL_SECRC: u32 = 1 << 26;
/// RCTL: buffer size 2048 bytes is BSIZE = 00 with BSEX = 0, so no bits.
pub const RCTL_BSIZE_2048: u32 = 0;

/// TCTL: Transmit Enable.
pub const TCTL_EN: u32 = 1 << 1;
/// TCTL: Pad Short Packets (to 64 bytes).
pub const TCTL_PSP: u32 = 1 << 3;
/// TCTL: Collision Threshold 15 (bits 11:4), the manual's recommended value.
pub const TCTL_CT_15: u32 = 0x0F << 4;
/// TCTL: Collision Distance 64 byte times (bits 21:12), for full duplex.
pub const TCTL_COLD_FULL_DUPLEX: u32 = 0x40 << 12;

/// TIPG for copper: IPGT 10, IPGR1 8, IPGR2 6 (the manual's recommended values).
pub const TIPG_COPPER: u32 = 10 | (8 << 10) | (6 << 20);

/// TXDCTL bit the 8257x manuals require to be written as 1.
pub const TXDCTL_8257X_MUST_BE_ONE: u32 = 1 << 22;

/// RAH: Address Valid.
pub const RAH_AV: u32 = 1 << 31;
