//! Sets of I/O ports a handle may use: the check behind per-device port access.
//!
//! The platform's port handle (`ingot_platform::io_ports::IoPorts`) carries a
//! [`PortSet`] and checks every access against it, so a driver given the ports of its
//! own device cannot reach the interrupt controller, the timer or another device.
//! A set holds at most [`PortSet::MAX_RANGES`] ranges, so the check is a few compares.

/// The ports `[first, last]` (inclusive, so the whole 64 Ki space is expressible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    /// Every port.
    pub const ALL: Self = Self { first: 0, last: u16::MAX };

    /// `count` ports from `first`; `None` if `count` is 0 or the range passes port
    /// 0xFFFF.
    pub const fn new(first: u16, count: u16) -> Option<Self> {
        if count == 0 {
            return None;
        }
        match first.checked_add(count - 1) {
            Some(last) => Some(Self { first, last }),
            None => None,
        }
    }

    /// First port.
    pub const fn first(&self) -> u16 {
        self.first
    }

    /// Last port (inclusive).
    pub const fn last(&self) -> u16 {
        self.last
    }

    /// Whether an access of `width` bytes (1, 2 or 4) at `port` stays inside.
    pub const fn contains(&self, port: u16, width: u16) -> bool {
        let Some(end) = port.checked_add(width - 1) else { return false };
        port >= self.first && end <= self.last
    }

    /// Whether `other` lies entirely inside this range.
    pub const fn covers(&self, other: &PortRange) -> bool {
        other.first >= self.first && other.last <= self.last
    }
}

/// Up to [`Self::MAX_RANGES`] port ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSet {
    ranges: [PortRange; PortSet::MAX_RANGES],
    len: usize,
}

impl PortSet {
    /// Most ranges one set holds (an IDE controller needs five: two command blocks,
    /// two control ports and the bus-master block).
    pub const MAX_RANGES: usize = 6;

    /// A set of `ranges`; `None` if there are more than [`Self::MAX_RANGES`].
    pub fn new(ranges: &[PortRange]) -> Option<Self> {
        if ranges.len() > Self::MAX_RANGES {
            return None;
        }
        let mut set = Self { ranges: [PortRange::ALL; Self::MAX_RANGES], len: ranges.len() };
        set.ranges[..ranges.len()].copy_from_slice(ranges);
        Some(set)
    }

    /// The ranges of the set.
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges[..self.len]
    }

    /// Whether an access of `width` bytes at `port` lies inside one range of the set.
    pub fn contains(&self, port: u16, width: u16) -> bool {
        self.ranges().iter().any(|range| range.contains(port, width))
    }

    /// Whether every range of `other` lies inside one range of this set (so a handle
    /// for `other` may be made from a handle for this set).
    pub fn covers(&self, other: &PortSet) -> bool {
        other.ranges().iter().all(|wanted| self.ranges().iter().any(|have| have.covers(wanted)))
    }
}

#[cfg(test)]
mod tests {
    use super::{PortRange, PortSet};

    fn range(first: u16, count: u16) -> PortRange {
        PortRange::new(first, count).unwrap()
    }

    #[test]
    fn ranges_check_every_byte_of_an_access() {
        let uart = range(0x3F8, 8);
        assert_eq!((uart.first(), uart.last()), (0x3F8, 0x3FF));
        assert!(uart.contains(0x3F8, 1) && uart.contains(0x3FF, 1));
        assert!(uart.contains(0x3FC, 4));
        assert!(!uart.contains(0x3FD, 4)); // last byte at 0x400
        assert!(!uart.contains(0x3F7, 1));
        assert!(!uart.contains(0x400, 1));
        assert!(PortRange::ALL.contains(0xFFFF, 1));
        assert!(!PortRange::ALL.contains(0xFFFF, 2)); // would wrap past 0xFFFF
    }

    #[test]
    fn ranges_refuse_empty_and_wrapping() {
        assert_eq!(PortRange::new(0x10, 0), None);
        assert_eq!(PortRange::new(0xFFF0, 0x11), None);
        assert_eq!(PortRange::new(0xFFF0, 0x10).map(|r| r.last()), Some(0xFFFF));
    }

    #[test]
    fn sets_check_against_each_range_and_grant_only_subsets() {
        let ide = PortSet::new(&[range(0x1F0, 8), range(0x3F6, 1), range(0xC000, 16)]).unwrap();
        assert!(ide.contains(0x1F0, 2) && ide.contains(0x3F6, 1) && ide.contains(0xC00C, 4));
        assert!(!ide.contains(0x3F8, 1)); // COM1 sits right after the control port
        assert!(!ide.contains(0x21, 1)); // the interrupt controller
        let channel = PortSet::new(&[range(0x1F0, 8)]).unwrap();
        assert!(ide.covers(&channel));
        let wider = PortSet::new(&[range(0x1F0, 9)]).unwrap();
        assert!(!ide.covers(&wider));
        let all = PortSet::new(&[PortRange::ALL]).unwrap();
        assert!(all.covers(&ide) && !ide.covers(&all));
        assert!(PortSet::new(&[range(0, 1); 7]).is_none());
        assert!(PortSet::new(&[]).is_some_and(|empty| !empty.contains(0, 1)));
    }
}
