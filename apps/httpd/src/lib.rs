//! httpd's parts that do not touch the kernel: the HTTP rules ([`http`]), the site
//! ([`site`]), the settings ([`config`]) and the server loop ([`server`]), all generic
//! over the frame interface so the host tests drive them through an in-memory wire.
//! `main.rs` adds what only runs on Ingot: the disks, the heap, the console.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod config;
pub mod http;
pub mod server;
pub mod site;

#[cfg(test)]
mod tests;
