//! What every virtio driver shares (virtio 1.x §2, §4.1, §4.2; legacy interface of
//! virtio 0.9.5): finding the register windows in PCI configuration space
//! ([`pci`]), the register interfaces behind one [`transport::Transport`] (PCI:
//! modern MMIO capability windows, legacy I/O ports; [`mmio`]: the virtio-mmio
//! register block of microVMs, versions 1 and 2), the device-status handshake
//! and feature negotiation ([`negotiate`]), and the split virtqueue ([`queue`]).
//! `ingot-virtio-blk` and `ingot-virtio-net` build on it; each only adds its
//! device's requests.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod mmio;
pub mod pci;
pub mod queue;
pub mod transport;

use transport::{Transport, status};

/// `VIRTIO_F_VERSION_1`: the device follows virtio 1.x (modern interface only).
pub const FEATURE_VERSION_1: u64 = 1 << 32;

/// Why feature negotiation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeaturesRefused;

/// Resets the device and negotiates features (virtio §3.1.1 steps 1-6): accepts
/// `wanted & offered` (plus `VERSION_1` on the modern interface, which it must
/// offer) and returns the accepted set and the status bits to keep writing. The
/// device is marked failed when it refuses.
pub fn negotiate(
    transport: &mut impl Transport,
    wanted: u64,
) -> Result<(u64, u8), FeaturesRefused> {
    transport.set_status(0);
    transport.set_status(status::ACKNOWLEDGE);
    transport.set_status(status::ACKNOWLEDGE | status::DRIVER);
    let offered = transport.device_features();
    let mut wanted = wanted & !FEATURE_VERSION_1;
    if transport.is_modern() {
        wanted |= FEATURE_VERSION_1;
    }
    let accepted = offered & wanted;
    transport.set_driver_features(accepted);
    let mut running = status::ACKNOWLEDGE | status::DRIVER;
    if transport.is_modern() {
        if offered & FEATURE_VERSION_1 == 0 {
            transport.set_status(status::FAILED);
            return Err(FeaturesRefused);
        }
        running |= status::FEATURES_OK;
        transport.set_status(running);
        if transport.status() & status::FEATURES_OK == 0 {
            transport.set_status(status::FAILED);
            return Err(FeaturesRefused);
        }
    }
    Ok((accepted, running))
}

/// The size to use for queue `queue`: the device's maximum, capped at `limit` on the
/// modern interface (legacy devices use exactly their size); `None` when the queue
/// does not exist, is smaller than `at_least`, or (modern) is not a power of two.
pub fn queue_size(
    transport: &mut impl Transport,
    queue: u16,
    limit: u16,
    at_least: u16,
) -> Option<u16> {
    let max = transport.queue_max_size(queue);
    let size = if transport.is_modern() { max.min(limit) } else { max };
    if size < at_least || size == 0 || (transport.is_modern() && !size.is_power_of_two()) {
        return None;
    }
    Some(size)
}

#[cfg(test)]
mod tests;
