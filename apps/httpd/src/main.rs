//! httpd for Ingot: serves the files of a BMFS disk (or a built-in page) over HTTP on
//! its interfaces (the first, or those `nic=` lists in `httpd.cfg`), answers UDP echo,
//! and prints one access-log line per request.
//! See `lib.rs` for the parts that are host-tested; this file is the program around
//! them: heap, disks, interface, console, and the loop on the bootstrap core (the
//! other cores stay free for the work queue).
#![cfg_attr(target_os = "none", no_std, no_main)]
#![forbid(unsafe_code)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod disks;
#[cfg(target_os = "none")]
mod program;

/// On the host the program is not built; only the library is tested.
#[cfg(not(target_os = "none"))]
fn main() {}
