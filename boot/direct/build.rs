//! Links the kernel images at 1 MiB with our own linker script, as a non-PIE executable,
//! and has the linker write the kernel's map to `$OUT_DIR/ingot-kernel.map` (one
//! OUT_DIR per feature set, so each driver-family build keeps its own map; `xtask`
//! learns it from cargo's `build-script-executed` message), from which `cargo xtask
//! bench size` counts the bytes of every crate.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rustc-link-arg-bins=-znoexecstack");
    let out = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rustc-link-arg-bin=ingot-kernel=-Map={out}/ingot-kernel.map");
}
