//! Splitting a virtual range into the physically contiguous pieces behind it, for
//! handing memory to a device (DMA) without copying: pages that are physically
//! adjacent are merged, so a range inside one large page, or over pages mapped in
//! order, is one piece.

use crate::page_table::PageSize;

/// One physically contiguous piece of a virtual range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhysicalPiece {
    /// Physical address of the first byte.
    pub physical: u64,
    /// Bytes.
    pub len: u64,
}

/// Why a range could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiecesError {
    /// The range is empty or wraps around.
    Empty,
    /// Some page of the range is not mapped.
    Unmapped,
    /// The range needs more pieces than the output holds.
    TooManyPieces,
}

/// Writes the pieces of `[address, address + len)` to `out` in order and returns how
/// many; `translate(virtual)` gives the physical address of a byte and the size of the
/// page mapping it (as [`crate::PageTableBuilder::translate`] does).
pub fn physical_pieces(
    translate: impl Fn(u64) -> Option<(u64, PageSize)>,
    address: u64,
    len: u64,
    out: &mut [PhysicalPiece],
) -> Result<usize, PiecesError> {
    let end = address.checked_add(len).filter(|_| len > 0).ok_or(PiecesError::Empty)?;
    let mut at = address;
    let mut count = 0usize;
    while at < end {
        let (physical, size) = translate(at).ok_or(PiecesError::Unmapped)?;
        let page_end = (at | (size.bytes() - 1)).saturating_add(1).min(end);
        let piece_len = page_end - at;
        match count.checked_sub(1).and_then(|last| out.get_mut(last)) {
            Some(last) if last.physical + last.len == physical => last.len += piece_len,
            _ => {
                let slot = out.get_mut(count).ok_or(PiecesError::TooManyPieces)?;
                *slot = PhysicalPiece { physical, len: piece_len };
                count += 1;
            }
        }
        at = page_end;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4 KiB pages from virtual 0x10000: pages 0-1 at 0x80000 in order, page 2 far
    /// away at 0x200000, page 3 right after it, page 4 unmapped.
    fn scattered(virt: u64) -> Option<(u64, PageSize)> {
        let page = virt.checked_sub(0x10000)? / 4096;
        let offset = virt % 4096;
        let frame = match page {
            0 => 0x80000,
            1 => 0x81000,
            2 => 0x200000,
            3 => 0x201000,
            _ => return None,
        };
        Some((frame + offset, PageSize::Size4K))
    }

    #[test]
    fn adjacent_pages_merge_and_gaps_split() {
        let mut out = [PhysicalPiece::default(); 4];
        // 100 bytes inside page 0: one piece.
        assert_eq!(physical_pieces(scattered, 0x10010, 100, &mut out), Ok(1));
        assert_eq!(out[0], PhysicalPiece { physical: 0x80010, len: 100 });
        // A 1514-byte frame across pages 1 and 2: two pieces, bytes add up.
        let start = 0x10000 + 2 * 4096 - 1000;
        assert_eq!(physical_pieces(scattered, start, 1514, &mut out), Ok(2));
        assert_eq!(out[0], PhysicalPiece { physical: 0x82000 - 1000, len: 1000 });
        assert_eq!(out[1], PhysicalPiece { physical: 0x200000, len: 514 });
        // Pages 0-3 whole: 0-1 merge, 2-3 merge.
        assert_eq!(physical_pieces(scattered, 0x10000, 4 * 4096, &mut out), Ok(2));
        assert_eq!(out[0], PhysicalPiece { physical: 0x80000, len: 8192 });
        assert_eq!(out[1], PhysicalPiece { physical: 0x200000, len: 8192 });
    }

    #[test]
    fn large_pages_give_one_piece() {
        let large = |virt: u64| Some((0x4000_0000 + virt % (2 << 20), PageSize::Size2M));
        let mut out = [PhysicalPiece::default(); 1];
        assert_eq!(physical_pieces(large, 0x20_0000 + 4000, 9000, &mut out), Ok(1));
        assert_eq!(out[0], PhysicalPiece { physical: 0x4000_0000 + 4000, len: 9000 });
    }

    #[test]
    fn bad_ranges_are_refused() {
        let mut out = [PhysicalPiece::default(); 1];
        assert_eq!(physical_pieces(scattered, 0x10000, 0, &mut out), Err(PiecesError::Empty));
        assert_eq!(physical_pieces(scattered, u64::MAX, 2, &mut out), Err(PiecesError::Empty));
        let tail = 0x10000 + 4 * 4096 - 10;
        assert_eq!(physical_pieces(scattered, tail, 20, &mut out), Err(PiecesError::Unmapped));
        let across = 0x10000 + 2 * 4096 - 10;
        assert_eq!(
            physical_pieces(scattered, across, 20, &mut out),
            Err(PiecesError::TooManyPieces)
        );
    }
}
