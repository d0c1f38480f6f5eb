//! Where frames come from and go to: the [`FrameIo`] trait, and [`KernelNic`], its
//! implementation over the kernel's raw-frame calls (`net_receive_batch`,
//! `net_send_batch`, `time_ns`). Host tests implement the trait with scripted frames.

/// The largest frame an interface moves: 1500 bytes of payload plus the 14-byte header.
pub const MAX_FRAME: usize = 1514;

/// Frames up to this many per batch call (the kernel's `NET_BATCH_MAX`).
pub const BATCH: usize = 32;

/// One network interface as the stack sees it.
pub trait FrameIo {
    /// The interface's MAC address.
    fn mac(&self) -> [u8; 6];
    /// Receives up to `buffers.len()` frames, frame `i` into `buffers[i]` with its length
    /// in `lengths[i]`; returns how many (0 when none is waiting or on an error).
    fn receive(&mut self, buffers: &mut [&mut [u8]], lengths: &mut [usize]) -> usize;
    /// Sends the frames; returns how many were sent, from the first.
    fn send(&mut self, frames: &mut [&mut [u8]]) -> usize;
    /// Monotonic time in nanoseconds.
    fn now_ns(&self) -> u64;
    /// Halts until a frame may have arrived or [`FrameIo::now_ns`] reaches
    /// `deadline_ns` (`u64::MAX`: none); `false` when the interface cannot wait (the
    /// caller then polls, as it would without waiting).
    fn wait_frames(&mut self, _deadline_ns: u64) -> bool {
        false
    }
}

#[cfg(target_os = "none")]
pub use kernel::KernelNic;

#[cfg(target_os = "none")]
mod kernel {
    use super::FrameIo;
    use ingot_sdk::abi::Error;
    use ingot_sdk::net::{self, Frames};

    /// Interface `nic` of the kernel.
    pub struct KernelNic {
        nic: u64,
        mac: [u8; 6],
    }

    impl KernelNic {
        /// Interface `nic`, or the kernel's error (`NotFound`) when there is none.
        pub fn open(nic: u64) -> Result<Self, Error> {
            let info = net::info(nic)?;
            Ok(Self { nic, mac: info.mac })
        }

        /// The kernel's interface number.
        pub fn index(&self) -> u64 {
            self.nic
        }
    }

    impl FrameIo for KernelNic {
        fn mac(&self) -> [u8; 6] {
            self.mac
        }

        fn receive(&mut self, buffers: &mut [&mut [u8]], lengths: &mut [usize]) -> usize {
            let mut frames = Frames::new();
            for buffer in buffers.iter_mut() {
                if !frames.push(buffer) {
                    break;
                }
            }
            let received = net::receive_batch(self.nic, &mut frames).unwrap_or(0);
            for (index, length) in lengths.iter_mut().enumerate().take(received) {
                *length = frames.frame(index).len();
            }
            received
        }

        fn send(&mut self, frames: &mut [&mut [u8]]) -> usize {
            let mut sent = 0;
            // A full ring sends fewer than asked: offer the rest again, a few times.
            for _ in 0..64 {
                if sent == frames.len() {
                    break;
                }
                let mut batch = Frames::new();
                for frame in frames[sent..].iter_mut() {
                    if !batch.push(frame) {
                        break;
                    }
                }
                match net::send_batch(self.nic, &mut batch) {
                    Ok(count) => sent += count,
                    Err(Error::Busy) => {}
                    Err(_) => break,
                }
            }
            sent
        }

        fn now_ns(&self) -> u64 {
            ingot_sdk::cores::time_ns()
        }

        /// `wait_events` for this NIC's event: the core halts until the NIC interrupts
        /// or the deadline (a NIC without an interrupt ends the wait every millisecond;
        /// a kernel without the call, or a core other than 0, gets `false`).
        fn wait_frames(&mut self, deadline_ns: u64) -> bool {
            ingot_sdk::events::wait(ingot_sdk::events::net(self.nic), deadline_ns).is_ok()
        }
    }
}
