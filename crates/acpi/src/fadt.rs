//! The FADT (signature `FACP`): fixed hardware registers — the PM1 control blocks
//! that S5 power-off writes, the reset register, legacy-device hints for PC boot
//! architecture, the CMOS century register, and where the DSDT is.
//!
//! The FADT grew with every ACPI revision: fields beyond the table's length are
//! treated as absent. Where both a 32-bit field and its 64-bit `X_` Generic Address
//! form exist, a usable `X_` form takes precedence, as the specification asks.

use ingot_bootinfo::PhysicalMemory;

use crate::gas::GenericAddress;
use crate::sdt::Table;

/// Shortest FADT accepted: the ACPI 1.0 layout (116 bytes, up to and including Flags).
const MIN_LENGTH: u32 = 116;

/// A register that resets the machine when `value` is written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResetRegister {
    /// The register (system memory, I/O or PCI configuration space).
    pub register: GenericAddress,
    /// The value to write.
    pub value: u8,
}

/// The parsed FADT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fadt {
    /// The FADT's revision (1 for ACPI 1.0, 3 for 2.0, 5/6 for later).
    pub revision: u8,
    /// Physical address of the DSDT (`X_DSDT` when non-zero, else `DSDT`).
    pub dsdt_address: u64,
    /// The SCI interrupt (an ISA IRQ number on PC systems).
    pub sci_interrupt: u16,
    /// The SMI command port used to hand ACPI control to the OS (0: not needed).
    pub smi_command: u32,
    /// Value written to `smi_command` to enable ACPI mode.
    pub acpi_enable: u8,
    /// Value written to `smi_command` to disable ACPI mode.
    pub acpi_disable: u8,
    /// I/O port of the PM1a control block, if it is in I/O space.
    pub pm1a_control: Option<u16>,
    /// I/O port of the PM1b control block, if present and in I/O space.
    pub pm1b_control: Option<u16>,
    /// I/O port of the PM1a event block, if it is in I/O space.
    pub pm1a_event: Option<u16>,
    /// I/O port of the ACPI power-management timer, if it is in I/O space.
    pub pm_timer: Option<u16>,
    /// CMOS RAM index of the century register (`None` if not supported).
    pub century: Option<u8>,
    /// IA-PC boot architecture flags; `None` for FADT revision 1, where the field is
    /// reserved and legacy devices and an 8042 must be assumed.
    pub iapc_boot_arch: Option<u16>,
    /// The fixed feature flags.
    pub flags: u32,
    /// The reset register, if the firmware supports it (flag `RESET_REG_SUP`) and the
    /// FADT is long enough to hold it.
    pub reset: Option<ResetRegister>,
}

impl Fadt {
    /// Flag: the PM timer is 32 bits wide (else 24).
    pub const FLAG_TMR_VAL_EXT: u32 = 1 << 8;
    /// Flag: the reset register is supported.
    pub const FLAG_RESET_REG_SUP: u32 = 1 << 10;
    /// Flag: hardware-reduced ACPI (no fixed hardware such as PM1 blocks).
    pub const FLAG_HW_REDUCED_ACPI: u32 = 1 << 20;
    /// Boot architecture flag: the machine has ISA/LPC legacy devices.
    pub const BOOT_ARCH_LEGACY_DEVICES: u16 = 1 << 0;
    /// Boot architecture flag: the machine has an 8042 keyboard controller.
    pub const BOOT_ARCH_8042: u16 = 1 << 1;

    /// Whether an 8042 keyboard controller is present (assumed for revision 1).
    pub fn has_8042(&self) -> bool {
        self.iapc_boot_arch.is_none_or(|flags| flags & Self::BOOT_ARCH_8042 != 0)
    }

    /// Whether ISA/LPC legacy devices are present (assumed for revision 1).
    pub fn has_legacy_devices(&self) -> bool {
        self.iapc_boot_arch.is_none_or(|flags| flags & Self::BOOT_ARCH_LEGACY_DEVICES != 0)
    }

    /// Whether the PM timer counts 32 bits (else 24).
    pub fn pm_timer_is_32_bit(&self) -> bool {
        self.flags & Self::FLAG_TMR_VAL_EXT != 0
    }

    /// Whether the machine is hardware-reduced ACPI.
    pub fn hardware_reduced(&self) -> bool {
        self.flags & Self::FLAG_HW_REDUCED_ACPI != 0
    }

    /// Parses a validated FADT; `None` if it is shorter than the ACPI 1.0 layout.
    pub(crate) fn parse<M: PhysicalMemory + ?Sized>(table: &Table<'_, M>) -> Option<Self> {
        if table.length() < MIN_LENGTH {
            return None;
        }
        let revision = table.info.revision;
        let flags = table.u32(112)?;
        let legacy_dsdt = u64::from(table.u32(40)?);
        let dsdt_address = table.u64(140).filter(|&address| address != 0).unwrap_or(legacy_dsdt);
        let reset = match (flags & Self::FLAG_RESET_REG_SUP != 0, GenericAddress::read(table, 116))
        {
            (true, Some(register)) => table.u8(128).map(|value| ResetRegister { register, value }),
            _ => None,
        };
        Some(Self {
            revision,
            dsdt_address,
            sci_interrupt: table.u16(46)?,
            smi_command: table.u32(48)?,
            acpi_enable: table.u8(52)?,
            acpi_disable: table.u8(53)?,
            pm1a_control: io_port(table, 64, 172),
            pm1b_control: io_port(table, 68, 184),
            pm1a_event: io_port(table, 56, 148),
            pm_timer: io_port(table, 76, 208),
            century: table.u8(108).filter(|&index| index != 0),
            iapc_boot_arch: if revision >= 2 { table.u16(109) } else { None },
            flags,
            reset,
        })
    }
}

/// The I/O port of a fixed register block: the `X_` GAS at `extended` if it names a
/// port, else the 32-bit field at `legacy` if it is a non-zero port number.
fn io_port<M: PhysicalMemory + ?Sized>(
    table: &Table<'_, M>,
    legacy: u32,
    extended: u32,
) -> Option<u16> {
    GenericAddress::read(table, extended).and_then(|gas| gas.io_port()).or_else(|| {
        table.u32(legacy).filter(|&port| port != 0).and_then(|port| u16::try_from(port).ok())
    })
}
