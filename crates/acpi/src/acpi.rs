//! The walk from the RSDP through the root table (XSDT preferred, RSDT as fallback) to
//! every table the kernel uses, collecting what went wrong on the way.

use ingot_bootinfo::PhysicalMemory;

use crate::error::{AcpiError, ProblemKind, TableProblem};
use crate::fadt::Fadt;
use crate::hpet::Hpet;
use crate::list::BoundedList;
use crate::madt::Madt;
use crate::mcfg::Mcfg;
use crate::rsdp::Rsdp;
use crate::s5::{SleepType, find_s5};
use crate::sdt::{HEADER_LENGTH, Table, TableInfo};
use crate::virtio_mmio::{MAX_VIRTIO_MMIO, VirtioMmioDevice, find_virtio_mmio};

/// Most tables listed in [`Acpi::tables`].
pub const MAX_TABLES: usize = 64;
/// Most problems kept in [`Acpi::problems`].
pub const MAX_PROBLEMS: usize = 16;

/// Everything parsed from the ACPI tables. A table that is absent or was skipped is
/// `None`; [`problems`](Self::problems) says why a present one was skipped.
#[derive(Debug, Clone)]
pub struct Acpi {
    /// The RSDP.
    pub rsdp: Rsdp,
    /// The root table walked (XSDT or RSDT).
    pub root: TableInfo,
    /// Every valid table found through the root table, plus the DSDT.
    pub tables: BoundedList<TableInfo, MAX_TABLES>,
    /// The MADT (`APIC`).
    pub madt: Option<Madt>,
    /// The HPET table.
    pub hpet: Option<Hpet>,
    /// The MCFG.
    pub mcfg: Option<Mcfg>,
    /// The FADT (`FACP`).
    pub fadt: Option<Fadt>,
    /// The DSDT the FADT points to.
    pub dsdt: Option<TableInfo>,
    /// The S5 sleep types found in the DSDT by a heuristic search (see [`SleepType`]).
    pub s5: Option<SleepType>,
    /// virtio-mmio devices the DSDT describes (QEMU's microvm), by a heuristic search
    /// (see [`VirtioMmioDevice`]).
    pub virtio_mmio: BoundedList<VirtioMmioDevice, MAX_VIRTIO_MMIO>,
    /// Tables skipped or only partly parsed.
    pub problems: BoundedList<TableProblem, MAX_PROBLEMS>,
}

impl Acpi {
    /// Parses the tables below the RSDP at `rsdp_address`. Fails only if the RSDP or
    /// every root table it names is unusable; damaged tables below the root are
    /// skipped and recorded in [`problems`](Self::problems).
    pub fn parse<M: PhysicalMemory + ?Sized>(
        memory: &M,
        rsdp_address: u64,
    ) -> Result<Self, AcpiError> {
        let rsdp = Rsdp::read(memory, rsdp_address)?;
        let mut problems = BoundedList::new();
        let root = load_root(memory, &rsdp, &mut problems)?;
        let mut acpi = Self {
            rsdp,
            root: root.info,
            tables: BoundedList::new(),
            madt: None,
            hpet: None,
            mcfg: None,
            fadt: None,
            dsdt: None,
            virtio_mmio: BoundedList::new(),
            s5: None,
            problems,
        };
        let entry_size = if root.info.signature == *b"XSDT" { 8 } else { 4 };
        let body = root.length() - HEADER_LENGTH;
        if !body.is_multiple_of(entry_size) {
            acpi.problem(Some(root.info.signature), root.info.address, ProblemKind::Malformed);
        }
        for index in 0..body / entry_size {
            let offset = HEADER_LENGTH + index * entry_size;
            let address =
                if entry_size == 8 { root.u64(offset) } else { root.u32(offset).map(u64::from) };
            match address {
                Some(0) | None => acpi.problem(
                    Some(root.info.signature),
                    root.info.address,
                    ProblemKind::Malformed,
                ),
                Some(address) => acpi.add_table(memory, address),
            }
        }
        acpi.add_dsdt(memory);
        Ok(acpi)
    }

    /// The first valid table with `signature`, if any.
    pub fn find_table(&self, signature: &[u8; 4]) -> Option<&TableInfo> {
        self.tables.iter().find(|table| table.signature == *signature)
    }

    fn problem(&mut self, signature: Option<[u8; 4]>, address: u64, kind: ProblemKind) {
        self.problems.push(TableProblem { signature, address, kind });
    }

    fn add_table<M: PhysicalMemory + ?Sized>(&mut self, memory: &M, address: u64) {
        let table = match Table::load(memory, address) {
            Ok(table) => table,
            Err(problem) => {
                self.problems.push(problem);
                return;
            }
        };
        self.tables.push(table.info);
        let signature = table.info.signature;
        let outcome = match &signature {
            b"APIC" => parse_once(&mut self.madt, &table, Madt::parse).map(|madt| {
                if madt.malformed_at.is_some() {
                    Some(ProblemKind::Malformed)
                } else if madt.any_dropped() {
                    Some(ProblemKind::CapacityExceeded)
                } else {
                    None
                }
            }),
            b"HPET" => parse_once(&mut self.hpet, &table, Hpet::parse).map(|_| None),
            b"MCFG" => parse_once(&mut self.mcfg, &table, Mcfg::parse).map(|mcfg| {
                if mcfg.malformed {
                    Some(ProblemKind::Malformed)
                } else if mcfg.regions.dropped() > 0 {
                    Some(ProblemKind::CapacityExceeded)
                } else {
                    None
                }
            }),
            b"FACP" => parse_once(&mut self.fadt, &table, Fadt::parse).map(|_| None),
            _ => Ok(None),
        };
        match outcome {
            Ok(None) => {}
            Ok(Some(kind)) | Err(kind) => self.problem(Some(signature), address, kind),
        }
    }

    fn add_dsdt<M: PhysicalMemory + ?Sized>(&mut self, memory: &M) {
        let Some(address) = self.fadt.map(|fadt| fadt.dsdt_address).filter(|&a| a != 0) else {
            return;
        };
        match Table::load(memory, address) {
            Err(problem) => {
                self.problems.push(problem);
            }
            Ok(table) if table.info.signature != *b"DSDT" => {
                self.problem(Some(table.info.signature), address, ProblemKind::WrongSignature)
            }
            Ok(table) => {
                self.tables.push(table.info);
                self.dsdt = Some(table.info);
                self.s5 = find_s5(&table);
                self.virtio_mmio = find_virtio_mmio(&table);
            }
        }
    }
}

/// Parses `table` into `slot` unless `slot` already holds the first copy.
fn parse_once<'s, T, M: PhysicalMemory + ?Sized>(
    slot: &'s mut Option<T>,
    table: &Table<'_, M>,
    parse: fn(&Table<'_, M>) -> Option<T>,
) -> Result<&'s T, ProblemKind> {
    if slot.is_some() {
        return Err(ProblemKind::Duplicate);
    }
    let parsed = parse(table).ok_or(ProblemKind::Malformed)?;
    Ok(slot.insert(parsed))
}

/// Loads the XSDT if the RSDP has one and it is valid, else the RSDT.
fn load_root<'m, M: PhysicalMemory + ?Sized>(
    memory: &'m M,
    rsdp: &Rsdp,
    problems: &mut BoundedList<TableProblem, MAX_PROBLEMS>,
) -> Result<Table<'m, M>, AcpiError> {
    let mut last = None;
    let candidates = [
        rsdp.xsdt_address.map(|address| (address, *b"XSDT")),
        Some((u64::from(rsdp.rsdt_address), *b"RSDT")).filter(|&(address, _)| address != 0),
    ];
    for (address, signature) in candidates.into_iter().flatten() {
        let problem = match Table::load(memory, address) {
            Ok(table) if table.info.signature == signature => return Ok(table),
            Ok(table) => TableProblem {
                signature: Some(table.info.signature),
                address,
                kind: ProblemKind::WrongSignature,
            },
            Err(problem) => problem,
        };
        problems.push(problem);
        last = Some(problem);
    }
    Err(last.map_or(AcpiError::NoRootTable, AcpiError::RootTable))
}
