#!/usr/bin/env python3
"""Where QEMU's host time goes in a boot of Ingot and of the floor kernel under TCG.

For each guest (the floor and Ingot, booted alike, each ending QEMU itself: Ingot with
`exit=qemu`), interleaved so host load hits both alike:

1. host CPU per boot without any profiler: `perf stat -e task-clock`, median of --runs;
2. guest code translated: QEMU run with the `insnprofile` plugin
   (`tools/qemu-plugins/insnprofile.c`, one record per translated block), giving the
   translations, the guest instructions translated and how many lie in the kernel image;
3. host CPU by activity: `perf record --call-graph dwarf` on QEMU, every sample sorted
   by the QEMU functions on its stack (see `classify`): QEMU start-up (the main thread
   before the vCPU runs), translation (TCG turning guest code into host code),
   translated-block lookup and invalidation, executing translated code (JIT code and
   its helpers), host page faults on first touch of guest RAM, device emulation by
   device, fw_cfg (the loader), and the rest. Milliseconds per boot = samples × period
   ÷ runs; the profiler slows QEMU, so read these as shares and compare the guests.

Needs perf (Debian's linux-perf), gcc, qemu-system-x86_64, and `cargo xtask build`.
Usage: tools/boot-profile/boot_profile.py [--machine pc|q35] [--cores N] [--runs N]
       [--kernel PATH] [--floor PATH]
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile

TRANSLATE = ("tb_gen_code", "tcg_gen_code", "gen_intermediate_code", "translator_loop",
             "tcg_optimize", "tcg_func_start")
TB_MANAGE = ("tb_htable_lookup", "tb_lookup", "tb_invalidate_phys", "tb_flush", "page_collection",
             "tb_link_page", "tb_phys_invalidate", "tb_add_jump", "tb_jmp_cache", "tcg_flush_jmp_cache",
             "qht_")
FW_CFG = ("fw_cfg",)
DEVICE_ENTRY = ("memory_region_dispatch_read", "memory_region_dispatch_write", "io_readx", "io_writex",
                "address_space_ldl", "address_space_stl", "cpu_inb", "cpu_outb", "cpu_inw", "cpu_outw",
                "cpu_inl", "cpu_outl")
SOFTMMU = ("tlb_fill", "x86_cpu_tlb_fill", "tlb_set_page", "get_physical_address", "mmu_translate",
           "tlb_flush", "helper_invlpg", "tlb_")
ACPI_BUILD = ("aml_", "build_", "acpi_build", "free_aml")
# First match names the device an access went to.
DEVICES = (("acpi_pm_tmr", "ACPI PM timer"), ("pm_tmr", "ACPI PM timer"), ("aml_", "fw_cfg: ACPI tables built on request"),
           ("build_", "fw_cfg: ACPI tables built on request"), ("acpi_build", "fw_cfg: ACPI tables built on request"),
           ("fw_cfg", "fw_cfg"), ("serial", "serial port"), ("pci_", "PCI configuration"), ("pcie", "PCI configuration"),
           ("ioapic", "I/O APIC"), ("apic", "local APIC"), ("hpet", "HPET"), ("pit", "PIT"), ("rtc", "RTC"),
           ("flatview", "memory map rebuilt (PCI BAR or PAM change)"), ("memory_region_transaction", "memory map rebuilt (PCI BAR or PAM change)"),
           ("address_space_dispatch", "memory map rebuilt (PCI BAR or PAM change)"))


def device_of(syms):
    for prefix, name in DEVICES:
        if any(prefix in s for s in syms):
            return name
    return "other"


CPU_EXEC = ("cpu_exec", "cpu_tb_exec", "helper_", "cpu_loop_exit", "do_interrupt", "x86_cpu_exec_interrupt")


def classify(comm, frames, started):
    """frames: leaf first, as (symbol, dso)."""
    syms = [s for s, _ in frames]
    if not comm.startswith("CPU"):
        if not started:
            return "qemu start-up (main thread before the vCPU runs)"
        if any(s.startswith(FW_CFG) for s in syms):
            return "fw_cfg (loader)"
        return "main thread after start (I/O thread, timers)"
    leaf_sym, leaf_dso = frames[0] if frames else ("", "")
    if any(s in ("clear_page_erms", "folio_zero_user", "do_anonymous_page", "do_huge_pmd_anonymous_page") for s in syms):
        return "host page faults: first touch of guest RAM (zeroing host pages)"
    if any(s.startswith(FW_CFG) for s in syms):
        return "fw_cfg (loader)"
    if any(s.startswith(TRANSLATE) for s in syms):
        return "translation"
    if any(s.startswith(DEVICE_ENTRY) for s in syms) or any(s.startswith(ACPI_BUILD) for s in syms):
        return f"device emulation: {device_of(syms)}"
    if any(s.startswith(TB_MANAGE) for s in syms):
        return "translated-block lookup and invalidation"
    if any(s.startswith(SOFTMMU) for s in syms):
        return "soft TLB (guest page walks)"
    jit = any(d.startswith("/tmp/perf-") or d.startswith("[JIT]") for _, d in frames)
    if jit or any(s.startswith(CPU_EXEC) for s in syms):
        return "executing translated code (JIT code and helpers)"
    if "kallsyms" in leaf_dso:
        return "vCPU thread: host kernel (other)"
    return f"vCPU thread: other ({leaf_sym})"


def parse(script_text):
    """Yields (comm, time, frames) per sample of `perf script -F comm,time,ip,sym,dso`."""
    comm, time, frames = None, None, []
    for line in script_text.splitlines():
        if not line.strip():
            if comm is not None:
                yield comm, time, frames
            comm, time, frames = None, None, []
            continue
        if not line.startswith(("\t", " ")):
            head, _, rest = line.rpartition(" ")
            # "<comm> <tid> <time>:" ; comm may contain spaces
            parts = line.rstrip(": ").split()
            time = float(parts[-1].rstrip(":"))
            comm = " ".join(parts[:-2])
            continue
        fields = line.strip().split(" ", 1)
        if len(fields) < 2:
            continue
        rest = fields[1]
        sym, _, dso = rest.rpartition(" (")
        frames.append((sym.split("+")[0], dso.rstrip(")")))
    if comm is not None:
        yield comm, time, frames


def perf_profile(qemu, runs, freq):
    """Host CPU per boot by activity (ms), from `runs` recorded boots."""
    totals = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        for _ in range(runs):
            # QEMU's exit status is the guest's (isa-debug-exit), so it is not checked.
            subprocess.run(["perf", "record", "-q", "-F", str(freq), "--call-graph", "dwarf,32768",
                            "-o", data, "--"] + qemu, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            text = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,time,ip,sym,dso"],
                                  check=True, capture_output=True, text=True).stdout
            started = False
            for comm, _, frames in sorted(parse(text), key=lambda sample: sample[1]):
                started = started or comm.startswith("CPU")
                totals[classify(comm, frames, started)] += 1
    return {what: n * 1000.0 / freq / runs for what, n in totals.items()}


def task_clock_ms(qemu):
    """Host CPU of one boot in ms (`perf stat -e task-clock`), no profiler attached."""
    out = subprocess.run(["perf", "stat", "-x", ",", "-e", "task-clock", "--"] + qemu,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    for line in out.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] == "task-clock":
            return float(fields[0])
    raise RuntimeError(f"no task-clock in perf stat output: {out}")


def translated(qemu, plugin, image_start, image_end):
    """(translations, guest instructions translated, of them in the kernel image)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "blocks.txt")
        subprocess.run(qemu + ["-plugin", f"{plugin},out={out}"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        blocks = [line.split() for line in open(out)]
    count = in_image = 0
    for vaddr, executed, executions in blocks:
        length = int(executed) // int(executions)
        count += length
        if image_start <= int(vaddr, 16) < image_end:
            in_image += length
    return len(blocks), count, in_image


def build_plugin(root):
    source = os.path.join(root, "tools", "qemu-plugins", "insnprofile.c")
    out = os.path.join(root, "target", "ingot", "bench", "libinsnprofile-boot.so")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, source], check=True)
    return out


def image_range(elf):
    """Lowest and highest address of the ELF's loadable segments (readelf -lW)."""
    text = subprocess.run(["readelf", "-lW", elf], check=True, capture_output=True, text=True).stdout
    spans = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            start, size = int(fields[2], 16), int(fields[5], 16)
            spans.append((start, start + size))
    return min(s for s, _ in spans), max(e for _, e in spans)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description="Where QEMU's host time goes in a boot, Ingot beside the floor")
    ap.add_argument("--machine", default="q35", choices=["pc", "q35"])
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--runs", type=int, default=15, help="boots per guest for perf stat (perf record: a third)")
    ap.add_argument("--freq", type=int, default=4000, help="perf record sampling frequency")
    ap.add_argument("--kernel", default=os.path.join(root, "target", "ingot", "kernel.elf"))
    ap.add_argument("--floor", default=os.path.join(root, "target", "ingot", "floor.elf"))
    a = ap.parse_args()
    base = ["qemu-system-x86_64", "-name", "debug-threads=on", "-M", a.machine, "-m", "128M", "-smp",
            str(a.cores), "-nodefaults", "-display", "none", "-serial", "null", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    guests = [("floor", base + ["-kernel", a.floor]),
              ("Ingot", base + ["-kernel", a.kernel, "-append", "exit=qemu"])]
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    clocks = {name: [] for name, _ in guests}
    for _ in range(a.runs):
        for name, qemu in guests:
            clocks[name].append(task_clock_ms(qemu))
    plugin = build_plugin(root)
    code = {name: translated(qemu, plugin, *image_range(qemu[qemu.index("-kernel") + 1]))
            for name, qemu in guests}
    profiles = {name: perf_profile(qemu, max(1, a.runs // 3), a.freq) for name, qemu in guests}
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[0]
    print(f"machine {a.machine}, {a.cores} core(s), load average {load_before} before, {load_after} after")
    print(f"host CPU per boot, no profiler (perf stat task-clock, median of {a.runs} interleaved): "
          + ", ".join(f"{n} {median(v):.1f} ms" for n, v in clocks.items())
          + f"; difference {median(clocks['Ingot']) - median(clocks['floor']):.1f} ms")
    for name, (blocks, insns, in_image) in code.items():
        print(f"{name}: {blocks} blocks translated, {insns} guest instructions translated, "
              f"{in_image} of them in the kernel image")
    print(f"host CPU per boot by activity, under perf record ({max(1, a.runs // 3)} boots each, ms):")
    print(f"  {'floor':>8} {'Ingot':>8} {'Ingot-floor':>12}  activity")
    names = sorted(set(profiles["floor"]) | set(profiles["Ingot"]),
                   key=lambda w: -(profiles["Ingot"].get(w, 0) + profiles["floor"].get(w, 0)))
    for what in names:
        f, i = profiles["floor"].get(what, 0.0), profiles["Ingot"].get(what, 0.0)
        if f + i >= 0.5:
            print(f"  {f:8.1f} {i:8.1f} {i - f:12.1f}  {what}")
    f, i = sum(profiles["floor"].values()), sum(profiles["Ingot"].values())
    print(f"  {f:8.1f} {i:8.1f} {i - f:12.1f}  total")


if __name__ == "__main__":
    main()
