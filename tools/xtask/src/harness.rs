//! The QEMU scenario harness: boot a configuration, watch its serial output, judge it.
//!
//! A [`Scenario`] is pure data (QEMU config, expected and forbidden serial lines, exit
//! status, timeout, optional host-side check), so adding a test never means writing
//! process-handling code. [`run_all`] runs scenarios a few at a time on std threads and
//! reports each as it finishes, with reasons specific enough to act on without a rerun.
//! [`Running`] is the reusable piece underneath (also used by the benchmarks).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::qemu::{QEMU, QemuConfig};

/// Host-side check run after QEMU exits; gets the whole serial log.
pub type HostCheck = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Run before QEMU starts (e.g. to create a network namespace); what it returns is
/// kept until the scenario has been judged and then dropped, so its `Drop` cleans up.
pub type Prepare = Box<dyn Fn() -> Result<Box<dyn Send>, String> + Send + Sync>;

/// One boot-and-judge test case.
pub struct Scenario {
    /// Name shown in reports and matched by `cargo xtask test <filter>`.
    pub name: String,
    /// How to start QEMU.
    pub qemu: QemuConfig,
    /// Regexes; each must match (Regex::is_match) a distinct serial line, in this order (later lines may sit between them).
    pub expect: Vec<String>,
    /// Regexes that must match no serial line (e.g. "ingot: panic", "ingot: exception").
    pub forbid: Vec<String>,
    /// Expected QEMU exit status (isa-debug-exit writes v -> status (v<<1)|1; a reset/triple fault under -no-reboot gives 0).
    pub exit_status: i32,
    /// Wall-clock limit for the whole run; QEMU is killed when it expires.
    pub timeout: Duration,
    /// Optional extra check run on the host after QEMU exits (gets the full serial log); later issues check disk images here.
    pub host_check: Option<HostCheck>,
    /// Optional check run once every expected line has been seen, while QEMU still runs
    /// (e.g. a QMP `screendump`); gets the serial log so far. Its error fails the scenario.
    pub live_check: Option<HostCheck>,
    /// Typed on the serial console (QEMU's stdin): each (trigger regex, text) pair
    /// once, in order, when a serial line matching its trigger arrives after the
    /// previous pair was sent.
    pub serial_input: Vec<(String, String)>,
    /// Optional set-up before QEMU starts; its error fails the scenario.
    pub prepare: Option<Prepare>,
}

/// `exit_status` for a machine expected to stop without exiting QEMU (a loader that
/// halts after its error message, a kernel idling without `exit=qemu`): the scenario
/// passes as soon as every expected line has been seen, then QEMU is killed.
pub const STAYS_RUNNING: i32 = -1;

/// The result of one scenario.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The scenario's name.
    pub name: String,
    /// Whether every check held.
    pub passed: bool,
    /// Wall time from spawning QEMU until it was judged.
    pub seconds: f64,
    /// The failure reason, or a one-line summary on success.
    pub detail: String,
}

/// A QEMU process whose serial output (stdout) is read line by line on a background
/// thread; each line carries the instant it was read. Killed and reaped on drop.
pub struct Running {
    child: Child,
    /// Taken just before the process was spawned.
    pub started: Instant,
    lines: Receiver<(Instant, String)>,
    stdout_thread: Option<JoinHandle<()>>,
    stderr_thread: Option<JoinHandle<Vec<u8>>>,
    status: Option<ExitStatus>,
    /// QEMU's stdin and the serial input still to type (`QemuConfig::serial_input`).
    stdin: Option<std::process::ChildStdin>,
    input: std::collections::VecDeque<(String, Vec<u8>)>,
}

/// What [`Running::next_line`] saw.
pub enum Event {
    /// A serial line (without `\r`/`\n`) and when it was read.
    Line(Instant, String),
    /// Serial output ended (QEMU exited or closed stdout).
    Eof,
    /// Nothing arrived before the deadline.
    Timeout,
}

impl Running {
    /// Starts QEMU for `config` with stdout/stderr piped and stdin null (piped when the
    /// config types serial input).
    pub fn spawn(config: &QemuConfig) -> Result<Self, String> {
        Self::spawn_with_stdin(config, false)
    }

    /// As [`Running::spawn`], with stdin piped when `typed` (see [`Running::type_text`]).
    pub fn spawn_with_stdin(config: &QemuConfig, typed: bool) -> Result<Self, String> {
        let mut command = config.command();
        let stdin =
            if typed || !config.serial_input.is_empty() { Stdio::piped() } else { Stdio::null() };
        command.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "QEMU failed to start: `{QEMU}` not found on PATH (install it, e.g. `apt-get install qemu-system-x86`)"
            ),
            _ => format!("QEMU failed to start: {QEMU}: {e}"),
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("QEMU stdout was not piped")?;
        let mut stderr = child.stderr.take().ok_or("QEMU stderr was not piped")?;
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout_thread = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let at = Instant::now();
                        let line = String::from_utf8_lossy(&buf).replace(['\r', '\n'], "");
                        if tx.send((at, line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr_thread = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        Ok(Running {
            child,
            started,
            lines,
            stdout_thread: Some(stdout_thread),
            stderr_thread: Some(stderr_thread),
            status: None,
            stdin,
            input: config.serial_input.iter().cloned().collect(),
        })
    }

    /// Types the next serial input if `line` contains its text.
    pub fn respond(&mut self, line: &str) {
        use std::io::Write;
        if self.input.front().is_some_and(|(text, _)| line.contains(text.as_str()))
            && let (Some((_, bytes)), Some(stdin)) = (self.input.pop_front(), self.stdin.as_mut())
        {
            let _ = stdin.write_all(&bytes).and_then(|()| stdin.flush());
        }
    }

    /// Waits until `deadline` for the next serial line.
    pub fn next_line(&self, deadline: Instant) -> Event {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(wait) {
            Ok((at, line)) => Event::Line(at, line),
            Err(RecvTimeoutError::Timeout) => Event::Timeout,
            Err(RecvTimeoutError::Disconnected) => Event::Eof,
        }
    }

    /// QEMU's process ID (for reading its CPU time from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if QEMU has exited (never blocks).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, String> {
        if self.status.is_none() {
            self.status = self.child.try_wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
        }
        Ok(self.status)
    }

    /// Types `text` on the serial console (QEMU's stdin, if spawned with it piped).
    pub fn type_text(&mut self, text: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("QEMU's stdin is not piped")?;
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).map_err(|e| e.to_string())
    }

    /// Kills QEMU (if still running) and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// After exit (or [`Running::kill`]): the serial lines not yet consumed and QEMU's stderr.
    pub fn finish(mut self) -> (Vec<String>, String) {
        self.kill();
        if let Some(t) = self.stdout_thread.take() {
            let _ = t.join();
        }
        let rest = self.lines.try_iter().map(|(_, line)| line).collect();
        let stderr = self.stderr_thread.take().and_then(|t| t.join().ok()).unwrap_or_default();
        (rest, String::from_utf8_lossy(&stderr).into_owned())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Ordered matching of expected lines plus forbidden-line detection.
struct LineMatcher {
    expect: Vec<Regex>,
    forbid: Vec<Regex>,
    next: usize,
    forbidden: Option<(String, String)>,
}

impl LineMatcher {
    fn new(expect: &[String], forbid: &[String]) -> Result<Self, String> {
        let compile = |kind: &str, patterns: &[String]| -> Result<Vec<Regex>, String> {
            patterns
                .iter()
                .map(|p| Regex::new(p).map_err(|e| format!("invalid {kind} regex `{p}`: {e}")))
                .collect()
        };
        Ok(LineMatcher {
            expect: compile("expect", expect)?,
            forbid: compile("forbid", forbid)?,
            next: 0,
            forbidden: None,
        })
    }

    /// Feeds one serial line: it may satisfy the next expected regex (at most one).
    fn feed(&mut self, line: &str) {
        if self.forbidden.is_none()
            && let Some(r) = self.forbid.iter().find(|r| r.is_match(line))
        {
            self.forbidden = Some((line.to_string(), r.as_str().to_string()));
        }
        if self.expect.get(self.next).is_some_and(|r| r.is_match(line)) {
            self.next += 1;
        }
    }

    /// The first expected regex not yet seen, with its 1-based position.
    fn missing(&self) -> Option<(usize, &str)> {
        self.expect.get(self.next).map(|r| (self.next + 1, r.as_str()))
    }
}

/// How a run ended.
enum End {
    /// QEMU exited with this status code, or `Err(description)` if killed by a signal.
    Exited(Result<i32, String>),
    /// The timeout expired and QEMU was killed.
    TimedOut(Duration),
    /// A forbidden line appeared and QEMU was killed at once.
    Forbidden,
    /// Every expected line was seen by a [`STAYS_RUNNING`] scenario (and its live check ran).
    AllSeen(Result<(), String>),
}

fn describe_status(status: &Result<i32, String>) -> String {
    match status {
        Ok(0) => "status 0 = reset or triple fault under -no-reboot".to_string(),
        Ok(code) => format!("status {code}"),
        Err(e) => e.clone(),
    }
}

/// Judges a finished run from what the matcher saw and how QEMU ended.
fn verdict(m: &LineMatcher, end: &End, exit_status: i32) -> Result<String, String> {
    if let Some((line, pattern)) = &m.forbidden {
        return Err(format!("forbidden line seen: \"{line}\" (matches `{pattern}`)"));
    }
    match end {
        End::Forbidden => Err("forbidden line seen".to_string()),
        End::AllSeen(Ok(())) => Ok("every expected line seen; machine left running".to_string()),
        End::AllSeen(Err(e)) => Err(format!("live check failed: {e}")),
        End::TimedOut(t) => Err(match m.missing() {
            Some((i, p)) => {
                format!(
                    "timeout after {:.1} s, still waiting for expected line #{i} `{p}`",
                    t.as_secs_f64()
                )
            }
            None => format!(
                "timeout after {:.1} s: all expected lines seen but QEMU did not exit (expected status {exit_status})",
                t.as_secs_f64()
            ),
        }),
        End::Exited(status) => {
            if let Some((i, p)) = m.missing() {
                return Err(format!(
                    "missing expected line #{i} `{p}` (QEMU exited, {})",
                    describe_status(status)
                ));
            }
            match status {
                Ok(code) if *code == exit_status => Ok(format!("exit status {code}")),
                got => Err(format!(
                    "exit status mismatch: expected {exit_status}, got {}",
                    describe_status(got)
                )),
            }
        }
    }
}

fn status_of(status: Option<ExitStatus>) -> Result<i32, String> {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => s.code().ok_or_else(|| match s.signal() {
            Some(sig) => format!("killed by signal {sig}"),
            None => format!("{s}"),
        }),
        None => Err("exit status unknown".to_string()),
    }
}

/// Runs one scenario; returns the outcome, the whole serial log and QEMU's stderr.
fn run_one(s: &Scenario) -> (Outcome, Vec<String>, String) {
    let started = Instant::now();
    let outcome = |passed, detail: String| Outcome {
        name: s.name.clone(),
        passed,
        seconds: started.elapsed().as_secs_f64(),
        detail,
    };
    let mut matcher = match LineMatcher::new(&s.expect, &s.forbid) {
        Ok(m) => m,
        Err(e) => return (outcome(false, e), Vec::new(), String::new()),
    };
    let _prepared = match s.prepare.as_ref().map(|prepare| prepare()).transpose() {
        Ok(prepared) => prepared,
        Err(e) => {
            return (outcome(false, format!("set-up failed: {e}")), Vec::new(), String::new());
        }
    };
    let mut typing = Vec::new();
    for (trigger, text) in &s.serial_input {
        match Regex::new(trigger) {
            Ok(trigger) => typing.push((trigger, text.as_str())),
            Err(e) => {
                return (
                    outcome(false, format!("bad trigger {trigger}: {e}")),
                    vec![],
                    String::new(),
                );
            }
        }
    }
    let mut typing = typing.into_iter().peekable();
    let mut qemu = match Running::spawn_with_stdin(&s.qemu, typing.peek().is_some()) {
        Ok(q) => q,
        Err(e) => return (outcome(false, e), Vec::new(), String::new()),
    };
    let deadline = qemu.started + s.timeout;
    let mut log = Vec::new();
    let mut live_done = false;
    let end = loop {
        let poll = (Instant::now() + Duration::from_millis(25)).min(deadline);
        match qemu.next_line(poll) {
            Event::Line(_, line) => {
                matcher.feed(&line);
                qemu.respond(&line);
                if typing.peek().is_some_and(|(trigger, _)| trigger.is_match(&line))
                    && let Some((_, text)) = typing.next()
                    && let Err(e) = qemu.type_text(text)
                {
                    eprintln!("xtask: {}: typing {text:?} failed: {e}", s.name);
                }
                log.push(line);
                if matcher.forbidden.is_some() {
                    qemu.kill();
                    break End::Forbidden;
                }
                if matcher.missing().is_none()
                    && !live_done
                    && (s.exit_status == STAYS_RUNNING || s.live_check.is_some())
                {
                    live_done = true;
                    let live = s.live_check.as_ref().map_or(Ok(()), |check| check(&log.join("\n")));
                    if s.exit_status == STAYS_RUNNING || live.is_err() {
                        qemu.kill();
                        break End::AllSeen(live);
                    }
                }
                continue;
            }
            // Serial closed: QEMU is on its way out; don't spin while it exits.
            Event::Eof => std::thread::sleep(Duration::from_millis(2)),
            Event::Timeout => {}
        }
        match qemu.try_wait() {
            Ok(Some(status)) => break End::Exited(status_of(Some(status))),
            Ok(None) => {}
            Err(e) => break End::Exited(Err(e)),
        }
        if Instant::now() >= deadline {
            qemu.kill();
            break End::TimedOut(s.timeout);
        }
    };
    let (rest, stderr) = qemu.finish();
    for line in rest {
        matcher.feed(&line);
        log.push(line);
    }
    let mut result = verdict(&matcher, &end, s.exit_status);
    if let (Ok(_), Some(check)) = (&result, &s.host_check) {
        result = check(&log.join("\n")).map_err(|e| format!("host check failed: {e}")).and(result);
    }
    let out = match result {
        Ok(d) => outcome(true, d),
        Err(d) => outcome(false, d),
    };
    (out, log, stderr)
}

/// Prints one scenario's result in a single `print!`, so parallel reports never interleave.
fn report(outcome: &Outcome, command: &str, log: &[String], stderr: &str) {
    use std::fmt::Write as _;
    let (name, secs) = (&outcome.name, outcome.seconds);
    if outcome.passed {
        return println!("PASS {name} ({secs:.2} s)");
    }
    let mut text =
        format!("FAIL {name} ({secs:.2} s): {}\n    command: {command}\n", outcome.detail);
    if log.is_empty() {
        text.push_str("    (no serial output)\n");
    }
    for line in &log[log.len().saturating_sub(25)..] {
        let _ = writeln!(text, "    {line}");
    }
    if !stderr.trim().is_empty() {
        text.push_str("    qemu stderr:\n");
        for line in stderr.trim_end().lines() {
            let _ = writeln!(text, "      {line}");
        }
    }
    print!("{text}");
}

/// Runs scenarios `parallel` at a time (2 on this 2-core machine), printing one line per scenario as each finishes, "PASS <name> (<s> s)" or "FAIL <name> (<s> s): <reason>" followed by the last 25 serial lines indented. Returns all outcomes in input order.
pub fn run_all(scenarios: Vec<Scenario>, parallel: usize) -> Vec<Outcome> {
    let count = scenarios.len();
    let queue = Mutex::new(scenarios.into_iter().enumerate().collect::<Vec<_>>().into_iter());
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; count]);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let Some((index, scenario)) =
                        queue.lock().unwrap_or_else(|e| e.into_inner()).next()
                    else {
                        break;
                    };
                    let (outcome, log, stderr) = run_one(&scenario);
                    report(&outcome, &scenario.qemu.command_line(), &log, &stderr);
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(outcome);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::{End, LineMatcher, verdict};
    use std::time::Duration;

    fn matcher(expect: &[&str], forbid: &[&str], lines: &[&str]) -> LineMatcher {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut m = LineMatcher::new(&owned(expect), &owned(forbid)).unwrap();
        for line in lines {
            m.feed(line);
        }
        m
    }

    #[test]
    fn expected_lines_in_order_with_gaps() {
        let m = matcher(&["^boot", "ready$"], &[], &["boot 1", "noise", "ingot: ready"]);
        assert!(m.missing().is_none());
        assert_eq!(verdict(&m, &End::Exited(Ok(33)), 33), Ok("exit status 33".into()));
    }

    #[test]
    fn out_of_order_is_missing() {
        let m = matcher(&["a", "b"], &[], &["b", "a"]);
        assert_eq!(m.missing(), Some((2, "b")));
    }

    #[test]
    fn one_line_satisfies_one_expectation() {
        // Both regexes match the same line, but they need two distinct lines.
        let m = matcher(&["ready", "ready"], &[], &["ingot: ready"]);
        assert_eq!(m.missing(), Some((2, "ready")));
        let m = matcher(&["ready", "ready"], &[], &["ingot: ready", "ready again"]);
        assert!(m.missing().is_none());
    }

    #[test]
    fn forbidden_line_fails_even_when_all_expected_seen() {
        let m = matcher(&["ok"], &["ingot: panic"], &["ok", "ingot: panic at x"]);
        let err = verdict(&m, &End::Exited(Ok(33)), 33).unwrap_err();
        assert!(err.contains("\"ingot: panic at x\""), "{err}");
    }

    #[test]
    fn exit_status_mismatch_mentions_triple_fault() {
        let m = matcher(&["ok"], &[], &["ok"]);
        let err = verdict(&m, &End::Exited(Ok(0)), 33).unwrap_err();
        assert!(err.contains("expected 33") && err.contains("triple fault"), "{err}");
    }

    #[test]
    fn timeout_names_missing_line() {
        let m = matcher(&["a", "b"], &[], &["a"]);
        let err = verdict(&m, &End::TimedOut(Duration::from_secs(5)), 33).unwrap_err();
        assert!(err.contains("#2 `b`") && err.contains("timeout"), "{err}");
    }

    #[test]
    fn invalid_regex_is_an_error() {
        assert!(LineMatcher::new(&["(".to_string()], &[]).is_err());
        assert!(LineMatcher::new(&[], &["[".to_string()]).is_err());
    }
}
