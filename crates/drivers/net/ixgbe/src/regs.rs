//! Register offsets and bits of the 82599 (82599 10 GbE Controller Datasheet,
//! section 8). Queue registers are those of queue 0, the only one used.

/// Device Control.
pub const CTRL: usize = 0x0_0000;
/// Device Status.
pub const STATUS: usize = 0x0_0008;
/// Extended Device Control.
pub const CTRL_EXT: usize = 0x0_0018;
/// Extended Interrupt Cause Read.
pub const EICR: usize = 0x0_0800;
/// Extended Interrupt Mask Clear.
pub const EIMC: usize = 0x0_0888;
/// Receive descriptor base, low half (queue 0).
pub const RDBAL: usize = 0x0_1000;
/// Receive descriptor base, high half.
pub const RDBAH: usize = 0x0_1004;
/// Receive descriptor ring length in bytes.
pub const RDLEN: usize = 0x0_1008;
/// Receive descriptor head.
pub const RDH: usize = 0x0_1010;
/// Split and Replication Receive Control (buffer size, descriptor type).
pub const SRRCTL: usize = 0x0_1014;
/// Receive descriptor tail.
pub const RDT: usize = 0x0_1018;
/// Receive Descriptor Control.
pub const RXDCTL: usize = 0x0_1028;
/// Queue Packets Received Drop Count, queue 0 (clears on read).
pub const QPRDC: usize = 0x0_1430;
/// Receive DMA Control.
pub const RDRXCTL: usize = 0x0_2F00;
/// Receive Control.
pub const RXCTRL: usize = 0x0_3000;
/// MAC Core Control 0.
pub const HLREG0: usize = 0x0_4240;
/// MAC Flow Control.
pub const MFLCN: usize = 0x0_4294;
/// Auto-Negotiation Control.
pub const AUTOC: usize = 0x0_42A0;
/// Link Status.
pub const LINKS: usize = 0x0_42A4;
/// DMA Transmit Control.
pub const DMATXCTL: usize = 0x0_4A80;
/// Filter Control.
pub const FCTRL: usize = 0x0_5080;
/// Multicast Table Array: 128 dwords.
pub const MTA: usize = 0x0_5200;
/// Transmit descriptor base, low half (queue 0).
pub const TDBAL: usize = 0x0_6000;
/// Transmit descriptor base, high half.
pub const TDBAH: usize = 0x0_6004;
/// Transmit descriptor ring length in bytes.
pub const TDLEN: usize = 0x0_6008;
/// Transmit descriptor head.
pub const TDH: usize = 0x0_6010;
/// Transmit descriptor tail.
pub const TDT: usize = 0x0_6018;
/// Transmit Descriptor Control.
pub const TXDCTL: usize = 0x0_6028;
/// Receive Address Low, entry 0.
pub const RAL0: usize = 0x0_A200;
/// Receive Address High, entry 0.
pub const RAH0: usize = 0x0_A204;
/// EEPROM/Flash Control.
pub const EEC: usize = 0x1_0010;

/// CTRL: PCIe Master Disable.
pub const CTRL_MASTER_DISABLE: u32 = 1 << 2;
/// CTRL: Link Reset.
pub const CTRL_LRST: u32 = 1 << 3;
/// CTRL: Device Reset (self-clearing).
pub const CTRL_RST: u32 = 1 << 26;
/// STATUS: PCIe Master Enable Status (clear once bus-master requests stopped).
pub const STATUS_MASTER_ENABLE: u32 = 1 << 19;
/// CTRL_EXT: Driver Loaded.
pub const CTRL_EXT_DRV_LOAD: u32 = 1 << 28;
/// EEC: the EEPROM auto-read after reset is done.
pub const EEC_AUTO_READ_DONE: u32 = 1 << 9;
/// RDRXCTL: strip the CRC (must match HLREG0.RXCRCSTRP).
pub const RDRXCTL_CRC_STRIP: u32 = 1 << 1;
/// RDRXCTL: DMA initialisation after reset is done.
pub const RDRXCTL_DMA_INIT_DONE: u32 = 1 << 3;
/// RXCTRL: Receive Enable.
pub const RXCTRL_RXEN: u32 = 1 << 0;
/// SRRCTL: packet buffer size in KiB (bits 4:0): 2 KiB.
pub const SRRCTL_BSIZE_2K: u32 = 2;
/// SRRCTL: descriptor type "advanced, one buffer" (bits 27:25 = 001).
pub const SRRCTL_ADVANCED_ONE_BUFFER: u32 = 1 << 25;
/// SRRCTL: drop frames when no descriptor is free instead of stalling the queue.
pub const SRRCTL_DROP_EN: u32 = 1 << 28;
/// RXDCTL/TXDCTL: queue enable.
pub const QUEUE_ENABLE: u32 = 1 << 25;
/// HLREG0: append the CRC on transmit.
pub const HLREG0_TXCRCEN: u32 = 1 << 0;
/// HLREG0: strip the CRC on receive.
pub const HLREG0_RXCRCSTRP: u32 = 1 << 1;
/// HLREG0: pad short frames on transmit.
pub const HLREG0_TXPADEN: u32 = 1 << 10;
/// MFLCN: honour received PAUSE frames.
pub const MFLCN_RFCE: u32 = 1 << 3;
/// AUTOC: restart auto-negotiation.
pub const AUTOC_RESTART_AN: u32 = 1 << 12;
/// LINKS: link up.
pub const LINKS_UP: u32 = 1 << 30;
/// DMATXCTL: Transmit Enable.
pub const DMATXCTL_TE: u32 = 1 << 0;
/// FCTRL: Broadcast Accept Mode.
pub const FCTRL_BAM: u32 = 1 << 10;
/// RAH: Address Valid.
pub const RAH_AV: u32 = 1 << 31;
/// Every interrupt cause.
pub const ALL_INTERRUPTS: u32 = 0x7FFF_FFFF;
