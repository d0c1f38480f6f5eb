//! The linear framebuffer a loader set up, as a [`ingot_fbconsole::Surface`].
//!
//! The memory is only touched through volatile writes and `ptr::copy` within the
//! range the loader described, and only if that whole range lies in the identity map.

use core::sync::atomic::{AtomicBool, Ordering};

use ingot_bootinfo::Framebuffer;

use crate::physical::is_identity_mapped;

static TAKEN: AtomicBool = AtomicBool::new(false);

/// Why the framebuffer cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramebufferUnusable {
    /// Some of it lies outside the identity map (e.g. above 4 GiB before the kernel maps it).
    NotMapped,
    /// The address is not 4-byte aligned or a dimension does not fit this machine.
    BadGeometry,
    /// It was handed out already.
    Taken,
}

/// Exclusive access to the framebuffer's pixels.
pub struct FramebufferMemory {
    base: usize,
    width: usize,
    height: usize,
    pitch: usize,
}

impl FramebufferMemory {
    /// Takes the framebuffer `fb` (once per boot).
    pub fn take(fb: &Framebuffer) -> Result<Self, FramebufferUnusable> {
        if !is_identity_mapped(fb.address, fb.bytes()) {
            return Err(FramebufferUnusable::NotMapped);
        }
        let base = usize::try_from(fb.address).map_err(|_| FramebufferUnusable::BadGeometry)?;
        if !base.is_multiple_of(4) || !(fb.pitch as usize).is_multiple_of(4) {
            return Err(FramebufferUnusable::BadGeometry);
        }
        if TAKEN.swap(true, Ordering::AcqRel) {
            return Err(FramebufferUnusable::Taken);
        }
        Ok(Self {
            base,
            width: fb.width as usize,
            height: fb.height as usize,
            pitch: fb.pitch as usize,
        })
    }

    fn row(&self, y: usize) -> *mut u32 {
        (self.base + y * self.pitch) as *mut u32
    }
}

impl ingot_fbconsole::Surface for FramebufferMemory {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn put(&mut self, x: usize, y: usize, pixel: u32) {
        if x < self.width && y < self.height {
            // SAFETY: (x, y) is inside the framebuffer, which `take` checked is
            // identity-mapped, 4-byte aligned and owned by this value alone.
            unsafe { self.row(y).add(x).write_volatile(pixel) }
        }
    }

    fn copy_rows(&mut self, from: usize, to: usize, rows: usize) {
        if from.max(to) + rows <= self.height {
            // SAFETY: both row ranges lie inside the framebuffer (checked above);
            // `ptr::copy` allows them to overlap.
            unsafe {
                core::ptr::copy(
                    self.row(from).cast::<u8>(),
                    self.row(to).cast::<u8>(),
                    rows * self.pitch,
                )
            }
        }
    }

    fn fill_rows(&mut self, y: usize, rows: usize, pixel: u32) {
        for line in y..(y + rows).min(self.height) {
            // SAFETY: the row lies inside the framebuffer, which `take` checked is
            // identity-mapped, 4-byte aligned and owned by this value alone; nothing
            // else holds a reference to it. (A plain fill: clearing 3 MiB pixel by
            // pixel with volatile writes costs tens of milliseconds under TCG.)
            let row = unsafe { core::slice::from_raw_parts_mut(self.row(line), self.width) };
            row.fill(pixel);
        }
    }
}
