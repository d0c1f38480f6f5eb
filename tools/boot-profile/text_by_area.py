#!/usr/bin/env python3
"""Bytes of a kernel's `.text` per part of the kernel, inlined code included.

`bench size` counts bytes per function from the linker map, so code that LTO inlined
into the kernel's start-up counts for `ingot_kernel`. This resolves every instruction
of a kernel built with line tables (`objdump -d`, then `addr2line -i`: innermost
frame first) and counts its bytes for the first area a frame of this repository
names; other code is core::fmt, memcpy/memset or other library code.

    CARGO_TARGET_DIR=target/lines CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \\
      CARGO_PROFILE_RELEASE_STRIP=none cargo build --release --target x86_64-unknown-none \\
      -p ingot-boot-direct --bin ingot-kernel [--no-default-features --features virtio]
    tools/boot-profile/text_by_area.py target/lines/x86_64-unknown-none/release/ingot-kernel

Line tables do not change the code (same `.text` size as the stripped build).
"""
import collections
import subprocess
import sys

AREAS = [
    ("kernel/src/compat", "BareMetal compatibility"), ("crates/baremetal", "BareMetal compatibility"),
    ("boot/direct/src/baremetal", "BareMetal compatibility"),
    ("crates/elf", "ELF loading"), ("kernel/src/program_load", "ELF loading"),
    ("kernel/src/linux", "Linux system calls"), ("arch-x86_64/src/syscall", "Linux system calls"),
    ("crates/acpi", "ACPI"), ("kernel/src/acpi", "ACPI"),
    ("crates/pci", "PCI"), ("kernel/src/pci", "PCI"), ("platform/src/pci", "PCI"),
    ("crates/bootinfo", "boot information, command line"), ("boot/direct", "boot entry"),
    ("crates/mem", "memory, page tables, program window"), ("kernel/src/memory", "memory, page tables, program window"),
    ("platform/src/program_memory", "memory, page tables, program window"),
    ("platform/src/address_space", "memory, page tables, program window"),
    ("platform/src/frames", "memory, page tables, program window"),
    ("platform/src/physical", "memory, page tables, program window"),
    ("crates/drivers/virtio", "virtio drivers"), ("drivers/block/virtio", "virtio drivers"),
    ("drivers/net/virtio", "virtio drivers"),
    ("crates/drivers/block", "other disk drivers"), ("crates/drivers/net", "other network drivers"),
    ("crates/drivers/usb", "xHCI and USB keyboards"),
    ("kernel/src/devices", "device start and families"),
    ("kernel/src/storage", "storage (requests, BMFS API)"), ("crates/block", "storage (requests, BMFS API)"),
    ("crates/bmfs", "storage (requests, BMFS API)"),
    ("kernel/src/net", "network API"), ("kernel/src/api_net", "network API"), ("crates/net", "network API"),
    ("kernel/src/smp", "SMP, work queue"), ("crates/smp", "SMP, work queue"), ("kernel/src/api_cores", "SMP, work queue"),
    ("platform/src/cores", "SMP, work queue"),
    ("kernel/src/irq", "interrupts and waiting"), ("crates/events", "interrupts and waiting"),
    ("platform/src/apic", "interrupts and waiting"), ("platform/src/ioapic", "interrupts and waiting"),
    ("kernel/src/time", "time, TSC"), ("crates/tsc", "time, TSC"),
    ("kernel/src/console", "console: serial, framebuffer, PS/2"), ("uart16550", "console: serial, framebuffer, PS/2"),
    ("console/framebuffer", "console: serial, framebuffer, PS/2"), ("input/ps2", "console: serial, framebuffer, PS/2"),
    ("kernel/src/input", "console: serial, framebuffer, PS/2"),
    ("kernel/src/faults", "faults and CPU tables"), ("crates/arch-x86_64", "faults and CPU tables"),
    ("platform/src/cpu_tables", "faults and CPU tables"),
    ("kernel/src/program", "running programs, native API"), ("kernel/src/api", "running programs, native API"),
    ("kernel/src/power", "running programs, native API"),
    ("crates/platform", "platform (ports, MMIO, DMA, heap)"), ("crates/hal", "platform (ports, MMIO, DMA, heap)"),
]


def library_area(path):
    if "/fmt/" in path:
        return "core::fmt"
    if "compiler_builtins" in path or "/mem/x86_64" in path:
        return "memcpy, memset"
    if "/rustc/" in path or ".cargo" in path:
        return "other library code (core, alloc, crates)"
    return "other (no line information)"


def main():
    elf = sys.argv[1]
    disassembly = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], check=True,
                                 capture_output=True, text=True).stdout
    addresses = [int(line.split(":")[0], 16) for line in disassembly.splitlines()
                 if line.startswith(" ") and ":" in line and line.split(":")[0].strip()
                 and all(c in "0123456789abcdef" for c in line.split(":")[0].strip())]
    sizes = {a: min(b - a, 15) for a, b in zip(addresses, addresses[1:])}
    sizes[addresses[-1]] = 1
    lines = subprocess.run(["addr2line", "-e", elf, "-i", "-a"], input="\n".join(hex(a) for a in addresses),
                           check=True, capture_output=True, text=True).stdout.splitlines()
    frames, current = {}, None
    for line in lines:
        if line.startswith("0x"):
            current = int(line, 16)
            frames[current] = []
        else:
            frames[current].append(line.split(":")[0])
    counts = collections.Counter()
    for address in addresses:
        files = frames.get(address, [])
        area = next((name for f in files for pattern, name in AREAS if pattern in f and ".cargo" not in f
                     and "/rustc/" not in f), None)
        counts[area or library_area(files[0] if files else "")] += sizes[address]
    total = sum(counts.values())
    print(f"{total} bytes of code")
    for area, n in counts.most_common():
        print(f"{n:7} {100.0 * n / total:5.1f} %  {area}")


if __name__ == "__main__":
    main()
