//! The monitor (`apps/monitor`) driven over serial: commands typed on QEMU's stdin
//! ([`Scenario::serial_input`]) and their answers read back, on a direct boot with the
//! disk image attached and on the disk image itself under SeaBIOS and OVMF. The disk
//! images get extra files written with the `bmfs` host tool, so `dir` and `run` show
//! files the tool wrote. And what the machine runs at boot: `init.app` from BMFS with
//! no `init=`, the program `init=NAME ARGS` names (with its arguments), the prompt at
//! once with `init=monitor`, on direct boots and on disk images.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BANNER, exit_status_for, scenario};
use crate::build::{Artifacts, cargo, output_dir};
use crate::harness::Scenario;
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};
use crate::scenarios::boot_images::{OVMF, disk_boot};
use crate::screenshot;

/// `notes.txt`, written to the images with the `bmfs` tool.
const NOTES: &[u8] = b"written on the host by tools/bmfs\nok\n";

/// The monitor's first line: the prompt follows it.
const MONITOR_BANNER: &str = r"^Ingot monitor \d+\.\d+\.\d+; 'help' lists the commands$";

/// What `ver` answers.
fn ver_answer() -> String {
    let (major, minor) = (ingot_abi::API_VERSION_MAJOR, ingot_abi::API_VERSION_MINOR);
    format!("Ingot monitor {} (API {major}.{minor})", env!("CARGO_PKG_VERSION"))
}

/// `ver`'s answer as a pattern.
fn ver_line() -> String {
    format!("^{}$", regex::escape(&ver_answer()))
}

/// The monitor scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    let notes_line = format!(r"^\d+ +notes\.txt +{}$", NOTES.len());
    let tool_image = output_dir().join("monitor-files.img");
    // The one image with room for fill.app too (no boot program, no init.app).
    let prepared = image_with_tool_files(
        artifacts,
        &tool_image,
        ImageOptions::for_tests(),
        &[("fill.app", "fill-memory")],
    );
    let ver = ver_line();
    let direct_with = |image: &Path, append: &str| {
        QemuConfig::new(Machine::Q35)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("monitor"))
            .append(append)
            .arg("-drive")
            .arg(format!("file={},format=raw,if=virtio,snapshot=on", image.display()))
    };
    let direct = |image: &Path| direct_with(image, "exit=qemu");

    // Commands, their answers, and programs run from BMFS (one of them faulting).
    let mut s = scenario(
        "monitor-serial-commands",
        direct(&tool_image),
        &[
            MONITOR_BANNER,
            r"^> help$",
            r"^run NAME \[ARGS\] +load NAME \(or NAME\.app\) from BMFS",
            r"^> ver$",
            &ver,
            r"^> info$",
            r"^cpu: \S.*, \d+ MHz \(TSC\)$",
            r"^cores: 1  #0 tasks=\d+",
            r"^state: core 0 runs the monitor; there are no others$",
            r"^memory: ram=\d+MiB window=\d+KiB at 0xffff800000000000$",
            r"^  disk 0: 32 MiB \(65536 sectors of 512\) ",
            r"^pci: \d+$",
            r"^  0000:00:00\.0 8086:29c0 class=06\.00 driver=none$",
            r"^  0000:00:\w\w\.0 1af4:1001 class=01\.00 driver=virtio-blk$",
            r"^> dir$",
            r"^\d+ +hello\.app +\d+$",
            r"^\d+ +fault\.app +\d+$",
            &notes_line,
            r"^> run hello$",
            r"^hello: bad pointers refused=true$",
            r"^program exited status=42$",
            r"^> run fault$",
            r"^ingot: program faulted \(vector 0\); back to the caller$",
            r"^program faulted: exception 0$",
            r"^> run hello$",
            r"^program exited status=42$",
            r#"^> run echo one "two words"$"#,
            r"^echo: argc=3$",
            r"^echo: argv\[0\]=echo$",
            r"^echo: argv\[1\]=one$",
            r"^echo: argv\[2\]=two words$",
            r"^program exited status=3$",
            r"^> peek 10 3$",
            r"^error: width must be 1, 2, 4 or 8$",
            r"^> frobnicate$",
            r"^error: unknown command 'frobnicate' \(help lists them\)$",
            r"^> run a-name-far-too-long-for-any-bmfs-entry$",
            r"^error: no file 'a-name-far-too-long-for-any-bmfs-entry' \(dir lists them\)$",
            r"^> exit$",
        ],
        exit_status_for(0),
    );
    // The divide-by-zero program's exception report is expected here.
    s.forbid = vec!["ingot: panic".into(), "ingot: fatal".into()];
    s.serial_input = typed(&[
        (MONITOR_BANNER, "help"),
        (r"^reboot / shutdown", "ver"),
        (r"^Ingot monitor .*\(API", "info"),
        (r"driver=virtio-blk$", "dir"),
        (r"notes\.txt", "run hello"),
        (r"^program exited", "run fault"),
        (r"^program faulted", "run hello"),
        (r"^program exited status=42", r#"run echo one "two words""#),
        (r"^program exited status=3", "peek 10 3"),
        (r"^error: width", "frobnicate"),
        (r"^error: unknown command", "run a-name-far-too-long-for-any-bmfs-entry"),
        (r"^error: no file", "exit"),
    ]);
    s.timeout = std::time::Duration::from_secs(120);
    scenarios.push(fail_if_unprepared(s, &prepared));

    scenarios.push(fail_if_unprepared(memory_commands(artifacts, direct(&tool_image)), &prepared));
    let with_nic = direct(&tool_image).cores(2).extra_args([
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
    ]);
    scenarios.push(fail_if_unprepared(load_exec_and_history(with_nic), &prepared));
    for (command, line) in
        [("reboot", r"^ingot: rebooting$"), ("shutdown", r"^ingot: shutting down$")]
    {
        // Under -no-reboot a reset stops QEMU with status 0, as a power-off does.
        let expect = [MONITOR_BANNER, &format!("^> {command}$"), line];
        let mut s = scenario(&format!("monitor-{command}"), direct(&tool_image), &expect, 0);
        s.serial_input = typed(&[(MONITOR_BANNER, command)]);
        s.forbid.push("^ingot: program exited".into());
        scenarios.push(fail_if_unprepared(s, &prepared));
    }

    // init.app from BMFS runs before the prompt.
    let init_image = output_dir().join("monitor-init.img");
    let init_options = ImageOptions { init: Some("hello".into()), ..ImageOptions::for_tests() };
    let prepared_init = image_with_tool_files(artifacts, &init_image, init_options, &[]);
    let mut s = scenario(
        "monitor-runs-init-app",
        direct(&init_image),
        &[
            MONITOR_BANNER,
            r"^monitor: running init\.app$",
            r"^hello from an Ingot program$",
            r"^program exited status=42$",
            r"^> exit$",
        ],
        exit_status_for(0),
    );
    s.serial_input = typed(&[(r"^program exited status=42$", "exit")]);
    scenarios.push(fail_if_unprepared(s, &prepared_init));

    // What the kernel's `init=` picks on a direct boot of the monitor.
    let direct_images = [(&tool_image, &prepared), (&init_image, &prepared_init)];
    scenarios.extend(direct_init_choices(&direct_with, direct_images));

    // The disk image booting to the monitor (the loaders pass it as boot.app).
    let boot_image = output_dir().join("monitor-boot.img");
    let prepared_boot =
        image_with_tool_files(artifacts, &boot_image, ImageOptions::monitor(None), &[]);
    for (name, firmware) in [("monitor-bios-commands", None), ("monitor-uefi-commands", Some(OVMF))]
    {
        let mut qemu = disk_boot(Machine::Q35, &boot_image);
        if let Some(firmware) = firmware {
            qemu = qemu.extra_args(["-bios", firmware]);
        }
        let mut s = scenario(
            name,
            qemu,
            &[
                BANNER,
                MONITOR_BANNER,
                r"^> help$",
                r"^dir +files on the BMFS disk$",
                r"^> info$",
                r"^cores: 1  #0 tasks=\d+",
                r"^state: core 0 runs the monitor; there are no others$",
                r"^  disk 0: 32 MiB \(65536 sectors of 512\) ",
                r"^> ver$",
                &ver,
                r"^> dir$",
                r"^\d+ +boot\.app +\d+$",
                &notes_line,
                r"^> exit$",
            ],
            exit_status_for(0),
        );
        s.serial_input = typed(&[
            (MONITOR_BANNER, "help"),
            (r"^reboot / shutdown", "info"),
            (r"^pci: ", "ver"),
            (r"\(API \d+\.\d+\)$", "dir"),
            (r"notes\.txt", "exit"),
        ]);
        s.timeout = std::time::Duration::from_secs(120);
        scenarios.push(fail_if_unprepared(s, &prepared_boot));
    }

    scenarios.extend(image_init_choices(artifacts));

    scenarios.push(keys_on_screen(&boot_image, &prepared_boot, None));
    for controller in ["qemu-xhci", "nec-usb-xhci"] {
        scenarios.push(keys_on_screen(&boot_image, &prepared_boot, Some(controller)));
    }
    scenarios.push(keys_from_two_keyboards(&boot_image, &prepared_boot));

    // `cargo xtask run` with no options: the monitor, answering over serial.
    let run_image = output_dir().join("run-default.img");
    let config = crate::cli::parse_run(&[])
        .and_then(|options| crate::run::qemu_config(&options, artifacts, &run_image));
    let prepared_run = config.as_ref().map(|_| ()).map_err(Clone::clone);
    let qemu = config.unwrap_or_else(|_| QemuConfig::new(Machine::Q35));
    let mut s = scenario(
        "run-default-monitor",
        qemu,
        &[BANNER, MONITOR_BANNER, r"^> ver$", &ver],
        crate::harness::STAYS_RUNNING,
    );
    s.serial_input = typed(&[(MONITOR_BANNER, "ver")]);
    scenarios.push(fail_if_unprepared(s, &prepared_run));
    scenarios
}

/// `poke`, `peek` and `dump` at the start of the monitor's free memory (the end of its
/// `.bss` in `monitor.elf`, rounded up to a page, where `ingot_sdk::scratch` starts):
/// a 16-digit `poke` writes 8 bytes little-endian, `peek` reads them back at widths 8,
/// 2 and 1, `dump` shows them as bytes (with ASCII), as 32-bit words and as one quad;
/// a 2-digit `poke` changes one byte; an address below that memory is refused.
fn memory_commands(artifacts: &Artifacts, qemu: QemuConfig) -> Scenario {
    let base = bss_end(&artifacts.program_elf("monitor")).map(|end| end.next_multiple_of(4096));
    let address = *base.as_ref().unwrap_or(&0);
    let a = format!("{address:x}");
    let steps = [
        (MONITOR_BANNER.to_string(), format!("poke {a} 1122334455667788")),
        (format!("^> poke {a} "), format!("peek {a} 8")),
        ("^1122334455667788$".into(), format!("peek {a} 2")),
        ("^7788$".into(), format!("dump {a} 8 1")),
        (r"^[0-9a-f]{16}: 88 77".into(), format!("dump {a} 2 4")),
        (
            r"^[0-9a-f]{16}: 55667788".into(),
            format!("poke {address_plus:x} 41", address_plus = address.wrapping_add(1)),
        ),
        (format!("^> poke {:x} 41$", address.wrapping_add(1)), format!("dump {a} 1 8")),
        (
            r"^[0-9a-f]{16}: 1122334455664188$".into(),
            format!("peek {:x} 1", address.wrapping_sub(8)),
        ),
        ("^error: address outside".into(), "exit".into()),
    ];
    let lines = [
        format!("^> poke {a} 1122334455667788$"),
        format!("^> peek {a} 8$"),
        "^1122334455667788$".into(),
        format!("^> peek {a} 2$"),
        "^7788$".into(),
        format!("^> dump {a} 8 1$"),
        format!(r#"^{address:016x}: 88 77 66 55 44 33 22 11  \.wfUD3"\.$"#),
        format!("^> dump {a} 2 4$"),
        format!("^{address:016x}: 55667788 11223344$"),
        format!("^> dump {a} 1 8$"),
        format!("^{address:016x}: 1122334455664188$"),
        format!(r"^error: address outside the monitor's free memory {address:#x}\.\.0x[0-9a-f]+$"),
        "^> exit$".into(),
    ];
    let expect: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario("monitor-peek-poke-dump", qemu, &expect, exit_status_for(0));
    s.serial_input =
        steps.iter().map(|(trigger, text)| (trigger.clone(), format!("{text}\r"))).collect();
    if let Err(error) = base {
        s.expect.push(format!("monitor.elf not read: {error}"));
    }
    s
}

/// `load` and `exec` (and `exec` with nothing loaded), `disk` and `net`, a program that
/// fills all the memory it is given (`fill.app`) after which the monitor still has its
/// history (Up twice recalls `net`, typed before the program ran), `cls`, and `info`
/// on two cores (both listed, the other one idle).
fn load_exec_and_history(qemu: QemuConfig) -> Scenario {
    let expect = [
        MONITOR_BANNER,
        r"^> load hello$",
        r"^loaded hello: \d+ bytes; 'exec' runs it$",
        r"^> exec$",
        r"^hello from an Ingot program$",
        r"^program exited status=42$",
        r"^> exec$",
        r"^error: nothing loaded \(load NAME\)$",
        r"^> disk$",
        r"^disks: 1$",
        r"^  disk 0: 32 MiB \(65536 sectors of 512\) ",
        r"^> net$",
        r"^nics: 1$",
        r"^  nic 0: virtio-net mac=52:54:00:12:34:56 link=up$",
        r"^> run fill$",
        r"^fill-memory: \d+ bytes at 0x[0-9a-f]+\.\.0x[0-9a-f]+ written and read back intact=true$",
        r"^program exited status=7$",
        r"^nics: 1$",
        r"^  nic 0: virtio-net ",
        r"^> cls$",
        r"> info$",
        r"^cores: 2  #0 tasks=\d+ busy=\d+us halted=\d+ms  #1 tasks=\d+ busy=\d+us halted=\d+ms$",
        r"^state: core 0 runs the monitor; the others are idle$",
        r"^  nic 0: virtio-net ",
        r"^> exit$",
    ];
    let mut s = scenario("monitor-load-exec-history", qemu, &expect, exit_status_for(0));
    s.serial_input = typed(&[
        (MONITOR_BANNER, "load hello"),
        (r"^loaded hello", "exec"),
        (r"^program exited status=42$", "exec"),
        (r"^error: nothing loaded", "disk"),
        (r"^  disk 0: ", "net"),
        (r"^  nic 0: ", "run fill"),
        (r"^program exited status=7$", "\x1b[A\x1b[A"),
        (r"^  nic 0: ", "cls"),
        (r"^> cls$", "info"),
        (r"^state: ", "exit"),
    ]);
    s.timeout = std::time::Duration::from_secs(120);
    s
}

/// Where a program's `.bss` ends in the (stripped) ELF file `path`: the SDK's link
/// script puts `__bss_end` there, aligned to 16.
fn bss_end(path: &Path) -> Result<u64, String> {
    use object::{Object, ObjectSection};
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let bss = file.section_by_name(".bss").ok_or(format!("{}: no .bss", path.display()))?;
    Ok((bss.address() + bss.size()).next_multiple_of(16))
}

/// The arguments `init=echo one "two words"` gives, as echo prints them, and its status.
const ECHO_LINES: [&str; 5] = [
    r"^echo: argc=3$",
    r"^echo: argv\[0\]=echo$",
    r"^echo: argv\[1\]=one$",
    r"^echo: argv\[2\]=two words$",
    r"^program exited status=3$",
];
const ECHO_INIT: &str = r#"exit=qemu init=echo one "two words""#;

/// A direct boot of the monitor with the files image and with the one that also has
/// `init.app` (hello): `init=echo ARGS` runs echo from BMFS with its arguments and ends
/// QEMU with its status; `init=monitor` prompts without running `init.app`; a program
/// BMFS does not have is named and the prompt follows.
fn direct_init_choices(
    direct_with: &dyn Fn(&Path, &str) -> QemuConfig,
    [(files, prepared_files), (with_init, prepared_init)]: [(&PathBuf, &Result<(), String>); 2],
) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    let mut expect = vec![MONITOR_BANNER, r"^monitor: init=echo: running it$"];
    expect.extend(ECHO_LINES);
    expect.push(r"^ingot: program exited status=3$");
    let s = scenario(
        "monitor-init-echo-args",
        direct_with(files, ECHO_INIT),
        &expect,
        exit_status_for(3),
    );
    scenarios.push(fail_if_unprepared(s, prepared_files));

    let qemu = direct_with(with_init, "exit=qemu init=monitor");
    let ver = ver_line();
    let expect = [MONITOR_BANNER, r"^> ver$", &ver, r"^> exit$"];
    let mut s = scenario("monitor-init-monitor-prompts", qemu, &expect, exit_status_for(0));
    s.forbid.extend(["running init".into(), "^hello from".into()]);
    s.serial_input = typed(&[(MONITOR_BANNER, "ver"), (r"\(API \d+\.\d+\)$", "exit")]);
    scenarios.push(fail_if_unprepared(s, prepared_init));

    let qemu = direct_with(files, "exit=qemu init=nosuch x");
    let expect = [
        r"^monitor: init=nosuch: running it$",
        r"^error: no file 'nosuch\.app' \(dir lists them\)$",
        r"^> exit$",
    ];
    let mut s = scenario("monitor-init-missing-program", qemu, &expect, exit_status_for(0));
    s.serial_input = typed(&[(r"^error: no file", "exit")]);
    scenarios.push(fail_if_unprepared(s, prepared_files));
    scenarios
}

/// Disk images whose boot program is the monitor and whose BMFS has `init.app` (hello):
/// under SeaBIOS without `init=` the monitor runs `init.app` and then prompts; under
/// OVMF `init=echo ARGS` runs echo with its arguments and QEMU ends with its status;
/// under SeaBIOS `init=monitor` prompts at once.
fn image_init_choices(artifacts: &Artifacts) -> Vec<Scenario> {
    let image = |name: &str, cmdline: &str| {
        let path = output_dir().join(format!("{name}.img"));
        // Two more files than the 32 MiB image holds beside the tool's files.
        let options = ImageOptions {
            size_mib: 40,
            cmdline: cmdline.into(),
            ..ImageOptions::monitor(Some("hello"))
        };
        let prepared = image_with_tool_files(artifacts, &path, options, &[]);
        (path, prepared)
    };
    let mut scenarios = Vec::new();

    let (path, prepared) = image("monitor-bios-init-app", "exit=qemu");
    let expect = [
        BANNER,
        MONITOR_BANNER,
        r"^monitor: running init\.app$",
        r"^hello from an Ingot program$",
        r"^program exited status=42$",
        r"^> exit$",
    ];
    let qemu = disk_boot(Machine::Q35, &path);
    let mut s = scenario("monitor-bios-runs-init-app", qemu, &expect, exit_status_for(0));
    s.serial_input = typed(&[(r"^program exited status=42$", "exit")]);
    s.timeout = std::time::Duration::from_secs(120);
    scenarios.push(fail_if_unprepared(s, &prepared));

    let (path, prepared) = image("monitor-uefi-init-echo", ECHO_INIT);
    let mut expect = vec![BANNER, MONITOR_BANNER, r"^monitor: init=echo: running it$"];
    expect.extend(ECHO_LINES);
    expect.push(r"^ingot: program exited status=3$");
    let qemu = disk_boot(Machine::Q35, &path).extra_args(["-bios", OVMF]);
    let mut s = scenario("monitor-uefi-init-echo-args", qemu, &expect, exit_status_for(3));
    s.forbid.push("running init".into());
    s.timeout = std::time::Duration::from_secs(120);
    scenarios.push(fail_if_unprepared(s, &prepared));

    let (path, prepared) = image("monitor-bios-init-monitor", "exit=qemu init=monitor");
    let ver = ver_line();
    let expect = [BANNER, MONITOR_BANNER, r"^> ver$", &ver, r"^> exit$"];
    let qemu = disk_boot(Machine::Q35, &path);
    let mut s = scenario("monitor-bios-init-monitor-prompts", qemu, &expect, exit_status_for(0));
    s.forbid.extend(["running init".into(), "^hello from".into()]);
    s.serial_input = typed(&[(MONITOR_BANNER, "ver"), (r"\(API \d+\.\d+\)$", "exit")]);
    s.timeout = std::time::Duration::from_secs(120);
    scenarios.push(fail_if_unprepared(s, &prepared));
    scenarios
}

/// The disk image booted to the monitor under SeaBIOS with a screen: `ver` typed
/// through QMP `send-key` on the PS/2 keyboard, or (`usb_controller`) on a `usb-kbd`
/// behind that xHCI controller with the 8042 removed (`i8042=off`), so the keys can
/// only come through USB; the screen must then show, pixel for pixel, the boot lines,
/// the typed command and its answer; then `exit` is typed and the serial log must show
/// both commands and the answer.
fn keys_on_screen(
    image: &Path,
    prepared: &Result<(), String>,
    usb_controller: Option<&str>,
) -> Scenario {
    let name = match usb_controller {
        None => "monitor-ps2-keys-screen".to_string(),
        Some(controller) => format!("monitor-usb-keys-{controller}-screen"),
    };
    let socket = output_dir().join(format!("{name}.qmp"));
    let shot = output_dir().join(format!("{name}.ppm"));
    let _ = std::fs::remove_file(&socket);
    let mut qemu = disk_boot(Machine::Q35, image)
        .extra_args(["-vga", "std", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()));
    let keyboard_line = match usb_controller {
        None => r"^ingot: ps2 keyboard ready$",
        Some(controller) => {
            qemu = qemu.extra_args(["-machine", "i8042=off", "-device", controller]);
            qemu = qemu.extra_args(["-device", "usb-kbd"]);
            r"^ingot: usb keyboard 0 ready$"
        }
    };
    let mut s = scenario(&name, qemu, &[BANNER, keyboard_line, MONITOR_BANNER], exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(120);
    s.live_check = Some(Box::new(move |log: &str| {
        screenshot::qmp(&socket, &send_keys("ver\n"))?;
        let mut lines: Vec<String> =
            log.lines().skip_while(|line| !line.starts_with("Ingot ")).map(String::from).collect();
        let prompt_line = lines.len();
        lines.push("> ver".into());
        lines.push(ver_answer());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        // The machine answers in its own time (TCG under load): look until the
        // answer and the next prompt are on screen or the deadline passes.
        let shown = |image: &screenshot::Image| screenshot::compare_typing(image, &lines, "> ");
        wait_for_screen(&socket, &shot, shown)
            .map_err(|e| format!("screen after typing ver (line {prompt_line} on): {e}"))?;
        screenshot::qmp(&socket, &send_keys("exit\n")).map(|_| ())
    }));
    s.host_check = Some(Box::new(|log: &str| {
        let wanted = ["> ver", "Ingot monitor ", "> exit"];
        let mut lines = log.lines();
        for want in wanted {
            lines
                .find(|line| line.starts_with(want))
                .ok_or(format!("no line {want:?} on serial"))?;
        }
        Ok(())
    }));
    fail_if_unprepared(s, prepared)
}

/// A keyboard QMP can type on.
#[derive(Clone, Copy)]
enum Keyboard {
    /// The PS/2 keyboard: `send-key` goes to the one keyboard bound to no display.
    Ps2,
    /// The `usb-kbd` bound to the display `vga0`: `input-send-event` to that display.
    Usb,
}

/// The QMP command pressing and releasing `keys` (QEMU qcodes, held together: a
/// modifier first) on `keyboard`.
fn press(keyboard: Keyboard, keys: &[&str]) -> Vec<String> {
    let qcode = |key: &&str| format!(r#"{{"type":"qcode","data":"{key}"}}"#);
    match keyboard {
        Keyboard::Ps2 => {
            let keys: Vec<String> = keys.iter().map(qcode).collect();
            vec![format!(r#"{{"execute":"send-key","arguments":{{"keys":[{}]}}}}"#, keys.join(","))]
        }
        Keyboard::Usb => {
            let event = |key: &&str, down: bool| {
                format!(r#"{{"type":"key","data":{{"down":{down},"key":{}}}}}"#, qcode(key))
            };
            let downs = keys.iter().map(|key| event(key, true));
            let ups = keys.iter().rev().map(|key| event(key, false));
            let events: Vec<String> = downs.chain(ups).collect();
            vec![format!(
                r#"{{"execute":"input-send-event","arguments":{{"device":"vga0","events":[{}]}}}}"#,
                events.join(",")
            )]
        }
    }
}

/// The disk image booted to the monitor with both a PS/2 keyboard and a `usb-kbd`
/// (behind `qemu-xhci`, bound to the display so QMP can address it apart from PS/2):
/// Shift+V on USB and Backspace on PS/2 (a capital, then line editing erasing it), then
/// `ver` and `exit` typed a key at a time, alternating keyboards (USB `v`, PS/2 `e`,
/// USB `r`, PS/2 Enter, ...). After each key the screen must show the prompt row with
/// exactly the text typed so far, in typing order, and the cursor after it (the next
/// key is typed only then, so the order checked is the order typed); after Enter, the
/// answer. Serial must show the same command lines.
fn keys_from_two_keyboards(image: &Path, prepared: &Result<(), String>) -> Scenario {
    let name = "monitor-keys-ps2-and-usb-in-order";
    let socket = output_dir().join(format!("{name}.qmp"));
    let shot = output_dir().join(format!("{name}.ppm"));
    let _ = std::fs::remove_file(&socket);
    let qemu = disk_boot(Machine::Q35, image)
        .extra_args(["-vga", "none", "-device", "VGA,id=vga0", "-device", "qemu-xhci"])
        .extra_args(["-device", "usb-kbd,display=vga0", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()));
    let expect =
        [BANNER, r"^ingot: usb keyboard 0 ready$", r"^ingot: ps2 keyboard ready$", MONITOR_BANNER];
    let mut s = scenario(name, qemu, &expect, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(180);
    s.live_check = Some(Box::new(move |log: &str| {
        let mut lines: Vec<String> =
            log.lines().skip_while(|line| !line.starts_with("Ingot ")).map(String::from).collect();
        let keyboards = [Keyboard::Usb, Keyboard::Ps2];
        let prompt_shows = |row: &str, lines: &[String]| {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            wait_for_screen(&socket, &shot, |image| screenshot::compare_typing(image, &lines, row))
                .map_err(|e| format!("screen after typing {row:?}: {e}"))
        };
        screenshot::qmp(&socket, &press(Keyboard::Usb, &["shift", "v"]))?;
        prompt_shows("> V", &lines)?;
        screenshot::qmp(&socket, &press(Keyboard::Ps2, &["backspace"]))?;
        prompt_shows("> ", &lines)?;
        let mut typed = 0;
        for (command, answer) in [("ver", Some(ver_answer())), ("exit", None)] {
            let mut row = String::from("> ");
            for key in command.chars() {
                screenshot::qmp(&socket, &press(keyboards[typed % 2], &[&key.to_string()]))?;
                typed += 1;
                row.push(key);
                prompt_shows(&row, &lines)?;
            }
            screenshot::qmp(&socket, &press(keyboards[typed % 2], &["ret"]))?;
            typed += 1;
            lines.push(row.clone());
            let Some(answer) = answer else { break };
            lines.push(answer);
            // The answer, then the next prompt with the cursor after it.
            prompt_shows("> ", &lines).map_err(|e| format!("after {command} and Enter: {e}"))?;
        }
        Ok(())
    }));
    s.host_check = Some(Box::new(|log: &str| {
        let wanted = ["> ver".to_string(), ver_answer(), "> exit".to_string()];
        let mut lines = log.lines().map(as_displayed);
        for want in &wanted {
            lines.find(|line| line == want).ok_or(format!("no line {want:?} on serial"))?;
        }
        Ok(())
    }));
    fail_if_unprepared(s, prepared)
}

/// A serial line as a terminal shows it: each backspace takes back one character.
fn as_displayed(line: &str) -> String {
    let mut shown = String::new();
    for c in line.chars() {
        if c == '\u{8}' {
            shown.pop();
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Takes screendumps until `shown` accepts one or 60 s pass (TCG under load answers in
/// its own time); the last refusal is the error.
fn wait_for_screen(
    socket: &Path,
    shot: &Path,
    shown: impl Fn(&screenshot::Image) -> Result<String, String>,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        screenshot::screendump(socket, shot)?;
        let compared = shown(&screenshot::read_ppm(shot)?);
        if compared.is_ok() || std::time::Instant::now() > deadline {
            return compared.map(|_| ());
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// QMP `send-key` commands typing `text` (lower-case letters, digits, space, newline).
fn send_keys(text: &str) -> Vec<String> {
    text.chars()
        .map(|c| match c {
            '\n' => "ret".to_string(),
            ' ' => "spc".to_string(),
            other => other.to_string(),
        })
        .map(|key| {
            format!(r#"{{"execute":"send-key","arguments":{{"keys":[{{"type":"qcode","data":"{key}"}}]}}}}"#)
        })
        .collect()
}

/// (trigger, command) pairs as the harness types them: each command ends with Enter.
fn typed(steps: &[(&str, &str)]) -> Vec<(String, String)> {
    steps.iter().map(|(trigger, text)| (trigger.to_string(), format!("{text}\r"))).collect()
}

/// A scenario whose image could not be prepared fails with the reason.
fn fail_if_unprepared(mut s: Scenario, prepared: &Result<(), String>) -> Scenario {
    if let Err(error) = prepared {
        eprintln!("xtask: {}: {error}", s.name);
        s.expect.push(format!("image not prepared: {error}"));
    }
    s
}

/// Writes the image `options` describe to `image`, then adds `fault.app` (the
/// divide-by-zero probe), `notes.txt` and the `extra` built programs (file name,
/// program) with the `bmfs` host tool.
fn image_with_tool_files(
    artifacts: &Artifacts,
    image: &Path,
    options: ImageOptions,
    extra: &[(&str, &str)],
) -> Result<(), String> {
    write_image(artifacts, &options, image)?;
    let tool = bmfs_tool()?;
    let notes = output_dir().join("monitor-notes.txt");
    std::fs::write(&notes, NOTES).map_err(|e| format!("cannot write {}: {e}", notes.display()))?;
    let mut files = vec![("fault.app", artifacts.program("divide-by-zero")), ("notes.txt", notes)];
    files.extend(extra.iter().map(|(name, program)| (*name, artifacts.program(program))));
    for (name, file) in &files {
        let status = Command::new(&tool)
            .arg(image)
            .args(["write", name])
            .arg(file)
            .status()
            .map_err(|e| format!("cannot start {}: {e}", tool.display()))?;
        if !status.success() {
            return Err(format!("bmfs {} write {name} failed: {status}", image.display()));
        }
    }
    Ok(())
}

/// The `bmfs` host tool, built on first use.
fn bmfs_tool() -> Result<PathBuf, String> {
    cargo(&["build", "--quiet", "-p", "ingot-bmfs-tool"])?;
    let tool = crate::build::target_dir().join("debug/bmfs");
    if tool.is_file() { Ok(tool) } else { Err(format!("{} was not built", tool.display())) }
}
