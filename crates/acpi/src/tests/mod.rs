//! Host tests against synthetic tables built byte by byte.

mod builder;
mod fuzz_tests;
mod machine;
mod madt_tests;
mod rsdp_tests;
mod table_tests;
mod virtio_mmio_tests;
mod walk_tests;
