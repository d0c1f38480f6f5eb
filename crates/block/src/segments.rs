//! Scatter lists: a request's buffer as physically contiguous runs of memory
//! ([`Segment`]s), so a controller moves the data by DMA straight to and from the
//! caller's memory instead of through a driver's bounce buffer.
//!
//! [`SegmentCursor`] cuts a scatter list into device commands under a controller's
//! limits ([`CommandLimits`]: bytes per command, entries per scatter list, bytes per
//! entry, boundaries an entry must not cross) and keeps every command a whole number
//! of sectors, so each driver only writes its own entry format.

/// A physically contiguous run of memory a device reads or writes by DMA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Physical address of the first byte.
    pub physical: u64,
    /// Bytes.
    pub len: u64,
}

/// Total bytes of `segments`.
pub fn total_bytes(segments: &[Segment]) -> u64 {
    segments.iter().map(|segment| segment.len).sum()
}

/// What one device command can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLimits {
    /// Bytes per command (the controller's maximum transfer).
    pub max_bytes: u64,
    /// Scatter-list entries per command.
    pub max_entries: usize,
    /// Bytes per entry.
    pub max_entry_bytes: u64,
    /// An entry never crosses a multiple of this (a power of two; `u64::MAX` for none).
    pub boundary: u64,
    /// Every command is a multiple of this many bytes (the sector size).
    pub unit: u64,
}

/// Walks a scatter list one device command at a time.
#[derive(Debug, Clone)]
pub struct SegmentCursor<'a> {
    segments: &'a [Segment],
    index: usize,
    offset: u64,
}

impl<'a> SegmentCursor<'a> {
    /// A cursor at the start of `segments`.
    pub fn new(segments: &'a [Segment]) -> Self {
        let mut cursor = Self { segments, index: 0, offset: 0 };
        cursor.skip_empty();
        cursor
    }

    /// Whether every byte was handed out.
    pub fn is_done(&self) -> bool {
        self.index >= self.segments.len()
    }

    fn skip_empty(&mut self) {
        while self.segments.get(self.index).is_some_and(|s| self.offset >= s.len) {
            self.index += 1;
            self.offset = 0;
        }
    }

    /// The next entry of at most `budget` bytes under `limits`, without consuming it.
    fn peek(&self, limits: &CommandLimits, budget: u64) -> Option<Segment> {
        let segment = self.segments.get(self.index)?;
        let physical = segment.physical + self.offset;
        let to_boundary = if limits.boundary == u64::MAX {
            u64::MAX
        } else {
            limits.boundary - (physical & (limits.boundary - 1))
        };
        let len =
            (segment.len - self.offset).min(limits.max_entry_bytes).min(to_boundary).min(budget);
        (len > 0).then_some(Segment { physical, len })
    }

    fn advance(&mut self, bytes: u64) {
        self.offset += bytes;
        self.skip_empty();
    }

    /// Hands the entries of the next command to `emit`, in order, and returns the
    /// command's bytes: as many as `limits` allow, cut down to a multiple of
    /// `limits.unit`. Zero when no whole unit fits (the limits cannot express this
    /// scatter list, or it is used up); nothing is emitted then.
    pub fn next_command(&mut self, limits: &CommandLimits, mut emit: impl FnMut(Segment)) -> u64 {
        // First pass: how far the limits reach; second pass: emit exactly that much.
        let mut probe = self.clone();
        let (mut reach, mut entries) = (0u64, 0usize);
        while entries < limits.max_entries {
            let Some(entry) = probe.peek(limits, limits.max_bytes - reach) else { break };
            reach += entry.len;
            entries += 1;
            probe.advance(entry.len);
        }
        let mut left = reach - reach % limits.unit.max(1);
        let bytes = left;
        while left > 0 {
            let Some(entry) = self.peek(limits, left) else { break };
            emit(entry);
            left -= entry.len;
            self.advance(entry.len);
        }
        bytes - left
    }

    /// Whether `limits` can cut the rest of the list into whole-unit commands (a
    /// dry run, so a driver can refuse a list before it touches the device).
    pub fn fits(&self, limits: &CommandLimits) -> bool {
        let mut probe = self.clone();
        while !probe.is_done() {
            if probe.next_command(limits, |_| {}) == 0 {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    const SECTOR: CommandLimits = CommandLimits {
        max_bytes: 8192,
        max_entries: 3,
        max_entry_bytes: 4096,
        boundary: 4096,
        unit: 512,
    };

    fn commands(segments: &[Segment], limits: &CommandLimits) -> Vec<Vec<Segment>> {
        let mut cursor = SegmentCursor::new(segments);
        let mut out = Vec::new();
        while !cursor.is_done() {
            let mut entries = Vec::new();
            let bytes = cursor.next_command(limits, |entry| entries.push(entry));
            assert_eq!(bytes, total_bytes(&entries));
            if bytes == 0 {
                break;
            }
            out.push(entries);
        }
        out
    }

    #[test]
    fn a_contiguous_buffer_is_cut_at_the_byte_and_entry_limits() {
        let segments = [Segment { physical: 0x10_0000, len: 20 * 1024 }];
        let cut = commands(&segments, &SECTOR);
        assert_eq!(cut.len(), 3);
        assert_eq!(
            cut[0],
            [
                Segment { physical: 0x10_0000, len: 4096 },
                Segment { physical: 0x10_1000, len: 4096 }
            ]
        );
        assert_eq!(cut[2], [Segment { physical: 0x10_4000, len: 4096 }]);
    }

    #[test]
    fn discontiguous_pieces_keep_their_order_and_commands_stay_whole_sectors() {
        // 100 bytes into a page, then two more pages elsewhere: 3 entries of
        // 3996 + 4096 + 100 bytes would exceed 8 KiB, so the first command stops at
        // 8192 - 8192 % 512 = 8192 bytes and the rest follows.
        let segments = [
            Segment { physical: 0x20_0064, len: 3996 },
            Segment { physical: 0x50_0000, len: 4096 },
            Segment { physical: 0x30_0000, len: 100 + 4096 },
        ];
        let cut = commands(&segments, &SECTOR);
        let sizes: Vec<u64> = cut.iter().map(|c| total_bytes(c)).collect();
        assert_eq!(sizes, [8192, 4096]);
        assert_eq!(cut[0][2], Segment { physical: 0x30_0000, len: 100 });
        assert_eq!(
            cut[1],
            [Segment { physical: 0x30_0064, len: 3996 }, Segment { physical: 0x30_1000, len: 100 }]
        );
    }

    #[test]
    fn too_few_entries_for_a_whole_sector_yield_nothing() {
        let limits = CommandLimits { max_entries: 1, ..SECTOR };
        let segments =
            [Segment { physical: 0x1000, len: 100 }, Segment { physical: 0x9000, len: 412 }];
        let mut cursor = SegmentCursor::new(&segments);
        assert!(!cursor.fits(&limits));
        assert!(cursor.fits(&SECTOR));
        let mut emitted = 0;
        assert_eq!(cursor.next_command(&limits, |_| emitted += 1), 0);
        assert_eq!(emitted, 0);
        assert!(!cursor.is_done());
    }
}
