//! Guest instructions per HTTP request for `bench net`, Ingot beside Linux: each guest
//! boots on one core under `-icount` with the counting plugin
//! (`tools/qemu-plugins/insncount.c`), serves `ab -n N -c 1` (the 612-byte page, a new
//! connection per request), is told to quit and ends QEMU, which prints the total. The
//! slope between two request counts, (total(N₂) − total(N₁)) ÷ (N₂ − N₁), leaves boot
//! and shutdown out.
//!
//! The slope counts every instruction between the requests too, so it measures the
//! request only if the guest halts while it waits. The runs use `sleep=on` (unlike
//! `bench boot`'s `sleep=off`): a halted guest's virtual clock then follows the wall
//! clock instead of jumping to its next timer, so idling costs a halting guest only its
//! timer interrupts. A third boot serves N₁ requests and then stays idle for [`PAUSE`]:
//! its extra instructions per second of idling tell a guest that polls (it runs all the
//! time, tens of millions of instructions a second or more under TCG) from one that
//! halts, and times the seconds the extra requests took they estimate the part of the
//! slope that is waiting ("waiting share"). A polling guest's figure is reported as
//! "polling, not comparable".

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::measure::{self, parse_total};
use super::net::{Route, boot_guest};
use crate::harness::Event;
use crate::qemu::QemuConfig;

/// The two request counts of the slope.
const LOW: u32 = 100;
const HIGH: u32 = 300;
/// How long the idle run waits after its requests.
const PAUSE: Duration = Duration::from_secs(3);
/// Idle instructions per wall second above which a guest is taken to be polling: a
/// halting guest runs only its timer interrupts (Linux at 250 Hz, a few thousand
/// instructions each), a polling one runs as fast as TCG goes.
const POLLING_RATE: f64 = 20e6;
/// The deterministic flags with `sleep=on` (see the module comment).
const ICOUNT_SLEEPING: [&str; 4] =
    ["-icount", "shift=0,align=off,sleep=on", "-rtc", "clock=vm,base=2024-01-01T00:00:00"];

/// How a guest is told to stop (it then ends QEMU itself).
pub enum Quit {
    /// A UDP datagram `quit` to this `address:port`, sent from where the guest is reached.
    Datagram(String),
    /// A line typed on the serial console.
    Serial(&'static str),
}

/// One guest's measurement.
pub struct PerRequest {
    pub guest: &'static str,
    /// Totals after LOW requests, after HIGH requests, and after LOW requests plus PAUSE.
    pub totals: [u64; 3],
    /// Wall seconds the LOW and HIGH `ab` runs took, and the idle pause really slept.
    pub seconds: [f64; 3],
    /// The slope: instructions per request.
    pub per_request: f64,
    /// Idle instructions per second.
    pub idle_per_second: f64,
    /// Estimated part of the slope spent waiting.
    pub waiting_share: f64,
}

impl PerRequest {
    /// Whether the slope measures requests rather than waiting: the guest halts when
    /// idle and the slope is positive.
    pub fn comparable(&self) -> bool {
        self.idle_per_second <= POLLING_RATE && self.waiting_share.is_finite()
    }
}

/// The arithmetic, apart from the runs: slope, idle rate, waiting share.
pub fn evaluate(guest: &'static str, totals: [u64; 3], seconds: [f64; 3]) -> PerRequest {
    let extra = totals[1] as f64 - totals[0] as f64;
    let per_request = extra / f64::from(HIGH - LOW);
    let idle_per_second = ((totals[2] as f64 - totals[0] as f64) / seconds[2]).max(0.0);
    let waiting = idle_per_second * (seconds[1] - seconds[0]).max(0.0);
    let waiting_share = if extra > 0.0 { waiting / extra } else { f64::INFINITY };
    PerRequest { guest, totals, seconds, per_request, idle_per_second, waiting_share }
}

/// Boots `config` under the counting flags, serves `requests`, idles `pause`, quits;
/// returns the plugin's total and the seconds `ab` took.
fn counted_run(
    config: &QemuConfig,
    marker: &str,
    route: &Route,
    quit: &Quit,
    requests: u32,
    pause: Duration,
) -> Result<(u64, f64), String> {
    let mut qemu = boot_guest(config, marker, route, true)?;
    let started = Instant::now();
    let output = route
        .command("ab")
        .args(["-q", "-s", "60", "-n", &requests.to_string(), "-c", "1"])
        .arg(route.url("/index.html"))
        .output()
        .map_err(|e| format!("cannot run ab: {e}"))?;
    let ab_seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout);
    let complete = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Complete requests:"))
        .and_then(|v| v.trim().parse::<u32>().ok());
    if complete != Some(requests) {
        return Err(format!("ab under icount completed {complete:?} of {requests}: {text}"));
    }
    std::thread::sleep(pause);
    match quit {
        Quit::Datagram(address) => {
            route.udp_send(address, "quit")?;
        }
        Quit::Serial(line) => qemu.type_text(line)?,
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match qemu.next_line(deadline) {
            Event::Line(_, _) => {}
            Event::Eof => break,
            Event::Timeout => {
                let (lines, _) = qemu.finish();
                return Err(format!("the guest did not end QEMU after quit: {:?}", lines.last()));
            }
        }
    }
    let (_, stderr) = qemu.finish();
    let total =
        parse_total(&stderr).ok_or_else(|| format!("no plugin total: {}", stderr.trim()))?;
    Ok((total, ab_seconds))
}

/// Measures one guest: LOW, HIGH, then LOW with the idle pause.
pub fn measure_guest(
    guest: &'static str,
    config: &QemuConfig,
    marker: &str,
    route: &Route,
    quit: &Quit,
) -> Result<PerRequest, String> {
    let config = config.clone().cores(1).extra_args(ICOUNT_SLEEPING);
    let mut totals = [0; 3];
    let mut seconds = [0.0; 3];
    for (index, (requests, pause)) in
        [(LOW, Duration::ZERO), (HIGH, Duration::ZERO), (LOW, PAUSE)].into_iter().enumerate()
    {
        let label = format!("net-{}-{requests}{}", guest.to_lowercase(), ["", "-idle"][index / 2]);
        let config = config.clone().extra_args(measure::counting_args(&label)?);
        let (total, ab_seconds) = counted_run(&config, marker, route, quit, requests, pause)
            .map_err(|e| format!("{guest} icount, {requests} requests: {e}"))?;
        eprintln!("bench net: {guest} icount {requests} requests (+{pause:?} idle): {total}");
        totals[index] = total;
        seconds[index] = if pause.is_zero() { ab_seconds } else { pause.as_secs_f64() };
    }
    Ok(evaluate(guest, totals, seconds))
}

/// The report's section on instructions per request.
pub fn markdown(measured: &[PerRequest]) -> String {
    let mut md = format!(
        "\n### Guest instructions per request (`-icount shift=0,sleep=on`, counting plugin; slope between {LOW} and {HIGH} requests of the page, `ab -c 1`)\n\n\
         | Guest | total after {LOW} | after {HIGH} | per request | idle instructions/s | waiting share | verdict |\n|---|---|---|---|---|---|---|\n"
    );
    for m in measured {
        let verdict = if m.comparable() {
            "halts while waiting: the slope is the request's cost".to_string()
        } else {
            "polling, not comparable: waiting is counted as work".to_string()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.0} | {:.0} | {} | {verdict} |",
            m.guest,
            m.totals[0],
            m.totals[1],
            m.per_request,
            m.idle_per_second,
            if m.waiting_share.is_finite() {
                format!("{:.1} %", m.waiting_share * 100.0)
            } else {
                "–".to_string()
            }
        );
    }
    md
}

/// The measurements as JSON.
pub fn json(measured: &[PerRequest]) -> String {
    let items: Vec<String> = measured
        .iter()
        .map(|m| {
            format!(
                "{{\"guest\":\"{}\",\"requests\":[{LOW},{HIGH}],\"totals\":{:?},\"seconds\":{:?},\"per_request\":{:.1},\"idle_per_second\":{:.1},\"waiting_share\":{},\"comparable\":{}}}",
                m.guest,
                m.totals,
                m.seconds,
                m.per_request,
                m.idle_per_second,
                if m.waiting_share.is_finite() { format!("{:.4}", m.waiting_share) } else { "null".into() },
                m.comparable()
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn a_halting_guest_is_comparable_and_a_polling_one_is_not() {
        // 0.6 M per request; idling adds 1 M per second; the extra requests took 1 s.
        let halting =
            evaluate("Linux", [7_000_000_000, 7_120_000_000, 7_003_000_000], [0.5, 1.5, 3.0]);
        assert!((halting.per_request - 600_000.0).abs() < 1e-6);
        assert!((halting.idle_per_second - 1_000_000.0).abs() < 1e-6);
        assert!((halting.waiting_share - 1_000_000.0 / 120_000_000.0).abs() < 1e-9);
        assert!(halting.comparable());
        // Polling with a quick client: little waiting in the slope, still polling.
        let quick =
            evaluate("Ingot", [1_000_000_000, 1_030_000_000, 1_090_000_000], [0.01, 0.02, 3.0]);
        assert!(quick.waiting_share < 0.1 && !quick.comparable());
        // Polling: 300 M per idle second, so the 1 s of extra requests is mostly waiting.
        let polling =
            evaluate("Ingot", [1_000_000_000, 1_320_000_000, 1_900_000_000], [0.5, 1.5, 3.0]);
        assert!((polling.idle_per_second - 300_000_000.0).abs() < 1e-3);
        assert!(polling.waiting_share > 0.9);
        assert!(!polling.comparable());
        // No extra instructions at all cannot be a measurement.
        assert!(!evaluate("x", [5, 5, 5], [1.0, 2.0, 3.0]).comparable());
    }
}
