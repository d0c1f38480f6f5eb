//! The monitor (`apps/monitor`) driven over serial: commands typed on QEMU's stdin
//! ([`Scenario::serial_input`]) and their answers read back, on a direct boot with the
//! disk image attached and on the disk image itself under SeaBIOS and OVMF. The disk
//! images get extra files written with the `bmfs` host tool, so `dir` and `run` show
//! files the tool wrote.

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

/// The monitor scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    let notes_line = format!(r"^\d+ +notes\.txt +{}$", NOTES.len());
    let tool_image = output_dir().join("monitor-files.img");
    let prepared = image_with_tool_files(artifacts, &tool_image, None);
    let direct = |image: &Path| {
        QemuConfig::new(Machine::Q35)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("monitor"))
            .append("exit=qemu")
            .arg("-drive")
            .arg(format!("file={},format=raw,if=virtio,snapshot=on", image.display()))
    };

    // Commands, their answers, and programs run from BMFS (one of them faulting).
    let mut s = scenario(
        "monitor-serial-commands",
        direct(&tool_image),
        &[
            MONITOR_BANNER,
            r"^> help$",
            r"^run NAME +load NAME \(or NAME\.app\) from BMFS",
            r"^> ver$",
            r"^Ingot monitor \d+\.\d+\.\d+ \(API 1\.4\)$",
            r"^> info$",
            r"^cpu: \S",
            r"^cores: 1  #0 tasks=\d+",
            r"^memory: ram=\d+MiB window=\d+KiB at 0xffff800000000000$",
            r"^  disk 0: 32 MiB \(65536 sectors of 512\) ",
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
        (r"^pci: ", "dir"),
        (r"notes\.txt", "run hello"),
        (r"^program exited", "run fault"),
        (r"^program faulted", "run hello"),
        (r"^program exited", "peek 10 3"),
        (r"^error: width", "frobnicate"),
        (r"^error: unknown command", "run a-name-far-too-long-for-any-bmfs-entry"),
        (r"^error: no file", "exit"),
    ]);
    s.timeout = std::time::Duration::from_secs(120);
    scenarios.push(fail_if_unprepared(s, &prepared));

    // init.app from BMFS runs before the prompt.
    let init_image = output_dir().join("monitor-init.img");
    let prepared_init = image_with_tool_files(artifacts, &init_image, Some("hello"));
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

    // The disk image booting to the monitor (the loaders pass it as init.app).
    let boot_image = output_dir().join("monitor-boot.img");
    let prepared_boot = image_with_tool_files(artifacts, &boot_image, Some("monitor"));
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
                r"^  disk 0: 32 MiB \(65536 sectors of 512\) ",
                r"^> ver$",
                r"^Ingot monitor \d+\.\d+\.\d+ \(API 1\.4\)$",
                r"^> dir$",
                r"^\d+ +init\.app +\d+$",
                &notes_line,
                r"^> exit$",
            ],
            exit_status_for(0),
        );
        s.serial_input = typed(&[
            (MONITOR_BANNER, "help"),
            (r"^reboot / shutdown", "info"),
            (r"^pci: ", "ver"),
            (r"\(API 1\.4\)$", "dir"),
            (r"notes\.txt", "exit"),
        ]);
        s.timeout = std::time::Duration::from_secs(120);
        scenarios.push(fail_if_unprepared(s, &prepared_boot));
    }

    scenarios.push(keys_on_screen(&boot_image, &prepared_boot, None));
    for controller in ["qemu-xhci", "nec-usb-xhci"] {
        scenarios.push(keys_on_screen(&boot_image, &prepared_boot, Some(controller)));
    }

    // `cargo xtask run` with no options: the monitor, answering over serial.
    let run_image = output_dir().join("run-default.img");
    let config = crate::cli::parse_run(&[])
        .and_then(|options| crate::run::qemu_config(&options, artifacts, &run_image));
    let prepared_run = config.as_ref().map(|_| ()).map_err(Clone::clone);
    let qemu = config.unwrap_or_else(|_| QemuConfig::new(Machine::Q35));
    let mut s = scenario(
        "run-default-monitor",
        qemu,
        &[BANNER, MONITOR_BANNER, r"^> ver$", r"^Ingot monitor \d+\.\d+\.\d+ \(API 1\.4\)$"],
        crate::harness::STAYS_RUNNING,
    );
    s.serial_input = typed(&[(MONITOR_BANNER, "ver")]);
    scenarios.push(fail_if_unprepared(s, &prepared_run));
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
        lines.push(format!("Ingot monitor {} (API 1.4)", env!("CARGO_PKG_VERSION")));
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        // The machine answers in its own time (TCG under load): look until the
        // answer is on screen or the deadline passes; the last difference is the error.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let shown = loop {
            screenshot::screendump(&socket, &shot)?;
            let image = screenshot::read_ppm(&shot)?;
            let compared = screenshot::compare_rows(&image, &lines, lines.len());
            if compared.is_ok() || std::time::Instant::now() > deadline {
                break compared;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        };
        shown.map_err(|e| format!("screen after typing ver (row {prompt_line} on): {e}"))?;
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

/// Writes the test image to `image` (with `init` as `init.app`), then adds
/// `fault.app` (the divide-by-zero probe) and `notes.txt` with the `bmfs` host tool.
fn image_with_tool_files(
    artifacts: &Artifacts,
    image: &Path,
    init: Option<&str>,
) -> Result<(), String> {
    let options = ImageOptions { init: init.map(String::from), ..ImageOptions::for_tests() };
    write_image(artifacts, &options, image)?;
    let tool = bmfs_tool()?;
    let notes = output_dir().join("monitor-notes.txt");
    std::fs::write(&notes, NOTES).map_err(|e| format!("cannot write {}: {e}", notes.display()))?;
    let fault = artifacts.program("divide-by-zero");
    for (name, file) in [("fault.app", &fault), ("notes.txt", &notes)] {
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
