#!/usr/bin/env python3
"""Which parts of the kernel the TCG translated in one boot, in guest instructions.

Reads a per-block profile written by the `insnprofile` plugin (`vaddr executed
executions` per translated block) and a kernel ELF with line tables, resolves each
block's address with `addr2line -i` (inlined frames included, innermost first) and
counts the block's instructions for the first area its innermost frames name.

    CARGO_TARGET_DIR=target/lines CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
      CARGO_PROFILE_RELEASE_STRIP=none cargo build --release \
      --target x86_64-unknown-none -p ingot-boot-direct --bin ingot-kernel
    qemu-system-x86_64 -M q35 -m 128M -smp 1 -nodefaults -display none -serial null \
      -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
      -kernel target/lines/x86_64-unknown-none/release/ingot-kernel -append exit=qemu \
      -plugin target/ingot/bench/libinsnprofile-boot.so,out=/tmp/blocks.txt
    tools/boot-profile/translated_by_area.py target/lines/x86_64-unknown-none/release/ingot-kernel /tmp/blocks.txt

Line tables do not change the code (same `.text` size), so the profile matches the
stripped `kernel.elf`. Usage: translated_by_area.py KERNEL_ELF BLOCKS_TXT
"""
import collections
import subprocess
import sys

AREAS=[("crates/acpi","ACPI tables (RSDP scan, checksums, MADT, FADT, HPET, MCFG, DSDT S5)"),("kernel/src/acpi","ACPI tables (RSDP scan, checksums, MADT, FADT, HPET, MCFG, DSDT S5)"),
("kernel/src/pci","PCI enumeration"),("crates/pci","PCI enumeration"),("platform/src/pci_config","PCI enumeration"),
("kernel/src/devices","device start (q35: AHCI; drivers)"),("crates/drivers/block","device start (q35: AHCI; drivers)"),("crates/block","device start (q35: AHCI; drivers)"),
("crates/mem","memory map, frames, page tables, program window"),("kernel/src/memory","memory map, frames, page tables, program window"),("platform/src/address_space","memory map, frames, page tables, program window"),("platform/src/frames","memory map, frames, page tables, program window"),("platform/src/program_memory","memory map, frames, page tables, program window"),("platform/src/heap","memory map, frames, page tables, program window"),("talc","memory map, frames, page tables, program window"),
("kernel/src/time","TSC and APIC timer calibration"),("crates/tsc","TSC and APIC timer calibration"),
("kernel/src/smp","SMP and interrupt controllers"),("kernel/src/irq","SMP and interrupt controllers"),("platform/src/apic","SMP and interrupt controllers"),("platform/src/ioapic","SMP and interrupt controllers"),("crates/arch","CPU tables, CPUID, exceptions"),("raw-cpuid","CPU tables, CPUID, exceptions"),("kernel/src/faults","CPU tables, CPUID, exceptions"),("platform/src/cpu_tables","CPU tables, CPUID, exceptions"),
("crates/bootinfo","boot information, command line"),("boot/direct","boot information, command line"),
("ps2","keyboard (PS/2)"),("kernel/src/input","keyboard (PS/2)"),
("uart16550","console and formatting"),("kernel/src/console","console and formatting"),("/fmt/","console and formatting"),
]


def main():
    elf, profile = sys.argv[1], sys.argv[2]
    blocks = []
    for line in open(profile):
        vaddr, executed, executions = line.split()
        vaddr = int(vaddr, 16)
        if 0x100000 <= vaddr < 0x200000:  # the kernel image, linked at 1 MiB
            blocks.append((vaddr, int(executed) // int(executions)))
    out = subprocess.run(["addr2line", "-e", elf, "-i", "-f", "-C", "-a"] + [hex(b[0]) for b in blocks],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    frames, current, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            current = int(out[i], 16)
            frames[current] = []
            i += 1
            continue
        frames[current].append(out[i + 1].split(":")[0])
        i += 2
    counts = collections.Counter()
    for vaddr, length in blocks:
        files = frames.get(vaddr, [])
        area = next((name for f in files for pattern, name in AREAS if pattern in f), None)
        if area is None:
            area = "other: " + (files[0].rsplit("/src/", 1)[-1] if files else "?")
        counts[area] += length
    total = sum(counts.values())
    print(f"{total} guest instructions translated in the kernel image")
    for area, n in counts.most_common():
        print(f"{n:6} {100.0 * n / total:5.1f} %  {area}")


if __name__ == "__main__":
    main()
