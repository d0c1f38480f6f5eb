//! One PCI function's configuration space with an MSI and an MSI-X capability, and
//! its MSI-X table, modelled from PCI Local Bus 3.0 §6.8 and PCIe Base §7.7: what the
//! function sends when it signals a vector.
//!
//! Layout: BAR0 a 16 KiB 32-bit memory BAR at 0xFEB0_0000 holding the MSI-X table at
//! 0x2000 and the pending bits at 0x3000; MSI at 0x50 (64-bit address and per-vector
//! masking, or 32-bit without, as built), MSI-X at 0x70 with `table_size` entries.
//! [`MsiFunctionModel::signal`] sends a message (recorded in `sent`), sets a pending
//! bit when the vector is masked (sent once unmasked), or asserts INTx when neither
//! kind is enabled and INTx is not disabled.

use std::cell::RefCell;
use std::vec::Vec;

use ingot_hal::{Mmio, PciAddress, PciConfig};

/// Where the model answers.
pub const ADDRESS: PciAddress = PciAddress::new(0, 4, 0);
/// BAR0's base.
pub const BAR0_BASE: u32 = 0xFEB0_0000;
const BAR0_MASK: u32 = 0xFFFF_C000;
/// The MSI-X table's offset in BAR0.
pub const TABLE_OFFSET: u32 = 0x2000;
const MSI_CAP: usize = 0x50;
const MSIX_CAP: usize = 0x70;

/// What the function did when it signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A memory write of `data` to `address`.
    Message {
        /// Address written.
        address: u64,
        /// Data written.
        data: u32,
    },
    /// The vector was masked: its pending bit is set.
    Pending,
    /// The INTx line was asserted.
    Intx,
    /// Nothing (INTx disabled and no message kind enabled).
    Nothing,
}

struct State {
    config: [u32; 64],
    table: Vec<[u32; 4]>,
    pending: Vec<bool>,
    msi_pending: bool,
    sent: Vec<Signal>,
}

/// The function.
pub struct MsiFunctionModel {
    state: RefCell<State>,
    msi_64: bool,
}

impl MsiFunctionModel {
    /// A function with both capabilities; `msi_64` gives MSI a 64-bit address and
    /// per-vector masking. Table entries start with `garbage` in their address and
    /// data, and unmasked: the worst state firmware can leave them in.
    pub fn new(msi_64: bool, table_size: u16, garbage: u32) -> Self {
        let mut config = [0u32; 64];
        config[0] = 0x1234_8086;
        config[1] = 0x0010_0006; // capability list; memory space and bus master on
        config[2] = 0x0200_0000;
        config[4] = BAR0_BASE;
        config[0x0D] = MSI_CAP as u32;
        config[0x0F] = 0x0000_010B; // INTA#, IRQ 11
        let msi_control: u32 = if msi_64 { (1 << 7) | (1 << 8) } else { 0 } | (2 << 1);
        config[MSI_CAP / 4] = 0x05 | ((MSIX_CAP as u32) << 8) | (msi_control << 16);
        config[MSIX_CAP / 4] = 0x11 | (u32::from(table_size - 1) << 16);
        config[MSIX_CAP / 4 + 1] = TABLE_OFFSET;
        config[MSIX_CAP / 4 + 2] = 0x3000;
        let table = (0..table_size).map(|_| [garbage, 0, garbage, 0]).collect();
        let pending = vec![false; usize::from(table_size)];
        Self {
            state: RefCell::new(State {
                config,
                table,
                pending,
                msi_pending: false,
                sent: Vec::new(),
            }),
            msi_64,
        }
    }

    /// The MSI-X table as BAR0 shows it from [`TABLE_OFFSET`].
    pub fn table(&self) -> MsixTableWindow<'_> {
        MsixTableWindow(self)
    }

    /// Every signal sent so far, in order.
    pub fn sent(&self) -> Vec<Signal> {
        self.state.borrow().sent.clone()
    }

    fn msix_control(state: &State) -> u32 {
        state.config[MSIX_CAP / 4] >> 16
    }

    fn msi_control(state: &State) -> u32 {
        state.config[MSI_CAP / 4] >> 16
    }

    /// The function signals vector `index` (an MSI-X entry, or with MSI the message
    /// data's low bits).
    pub fn signal(&self, index: u16) -> Signal {
        let mut state = self.state.borrow_mut();
        let signal = if Self::msix_control(&state) & (1 << 15) != 0 {
            let i = usize::from(index);
            match state.table.get(i).copied() {
                None => Signal::Nothing,
                Some(entry) if entry[3] & 1 != 0 || Self::msix_control(&state) & (1 << 14) != 0 => {
                    state.pending[i] = true;
                    Signal::Pending
                }
                Some(entry) => Signal::Message {
                    address: u64::from(entry[0]) | (u64::from(entry[1]) << 32),
                    data: entry[2],
                },
            }
        } else if Self::msi_control(&state) & 1 != 0 {
            let (address_high, data, mask) = if self.msi_64 {
                (
                    state.config[MSI_CAP / 4 + 2],
                    state.config[MSI_CAP / 4 + 3],
                    state.config[MSI_CAP / 4 + 4],
                )
            } else {
                (0, state.config[MSI_CAP / 4 + 2], 0)
            };
            if mask & 1 != 0 {
                state.msi_pending = true;
                Signal::Pending
            } else {
                Signal::Message {
                    address: u64::from(state.config[MSI_CAP / 4 + 1])
                        | (u64::from(address_high) << 32),
                    data: (data & 0xFFFF) | u32::from(index),
                }
            }
        } else if state.config[1] & (1 << 10) == 0 {
            Signal::Intx
        } else {
            Signal::Nothing
        };
        state.sent.push(signal);
        signal
    }

    /// Sends what became unmasked while pending.
    fn deliver_unmasked(&self) {
        let mut state = self.state.borrow_mut();
        if Self::msix_control(&state) & (3 << 14) != 1 << 15 {
            return;
        }
        for i in 0..state.table.len() {
            let entry = state.table[i];
            if state.pending[i] && entry[3] & 1 == 0 {
                state.pending[i] = false;
                let address = u64::from(entry[0]) | (u64::from(entry[1]) << 32);
                state.sent.push(Signal::Message { address, data: entry[2] });
            }
        }
    }
}

impl PciConfig for MsiFunctionModel {
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32 {
        if address != ADDRESS {
            return 0xFFFF_FFFF;
        }
        self.state.borrow().config.get(usize::from(offset / 4)).copied().unwrap_or(0)
    }

    fn write_u32(&self, address: PciAddress, offset: u16, value: u32) {
        if address != ADDRESS {
            return;
        }
        let index = usize::from(offset / 4);
        {
            let mut state = self.state.borrow_mut();
            let Some(old) = state.config.get(index).copied() else { return };
            state.config[index] = match index {
                1 => (old & 0xFFFF_0000) | (value & 0x0407),
                4 => value & BAR0_MASK,
                5..=9 => 0,
                i if i == MSI_CAP / 4 => (old & !0x0071_0000) | (value & 0x0071_0000),
                i if i == MSIX_CAP / 4 => (old & 0x3FFF_FFFF) | (value & 0xC000_0000),
                i if i == MSIX_CAP / 4 + 1 || i == MSIX_CAP / 4 + 2 => old,
                i if i < 0x10 => old,
                _ => value,
            };
        }
        self.deliver_unmasked();
    }
}

/// The MSI-X table window (an [`Mmio`] of `table_size` × 16 bytes).
pub struct MsixTableWindow<'a>(&'a MsiFunctionModel);

impl Mmio for MsixTableWindow<'_> {
    fn len(&self) -> usize {
        self.0.state.borrow().table.len() * 16
    }
    fn read_u8(&self, offset: usize) -> u8 {
        (self.read_u32(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        (self.read_u32(offset & !3) >> (8 * (offset & 2))) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        let state = self.0.state.borrow();
        state.table.get(offset / 16).map_or(0xFFFF_FFFF, |entry| entry[(offset % 16) / 4])
    }
    fn write_u8(&self, _offset: usize, _value: u8) {
        panic!("MSI-X table entries take only dword and qword writes");
    }
    fn write_u16(&self, _offset: usize, _value: u16) {
        panic!("MSI-X table entries take only dword and qword writes");
    }
    fn write_u32(&self, offset: usize, value: u32) {
        {
            let mut state = self.0.state.borrow_mut();
            let Some(entry) = state.table.get_mut(offset / 16) else { return };
            entry[(offset % 16) / 4] = if offset % 16 == 12 { value & 1 } else { value };
        }
        self.0.deliver_unmasked();
    }
}
