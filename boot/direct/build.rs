//! Links the kernel images at 1 MiB with our own linker script, as a non-PIE executable,
//! and has the linker write the kernel's map (`ingot-kernel.map` beside the binary:
//! OUT_DIR is `<profile dir>/build/<package>-<hash>/out`), from which `cargo xtask
//! bench size` counts the bytes of every crate.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rustc-link-arg-bins=-znoexecstack");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    if let Some(profile_dir) = out.ancestors().nth(3) {
        let map = profile_dir.join("ingot-kernel.map");
        println!("cargo:rustc-link-arg-bin=ingot-kernel=-Map={}", map.display());
    }
}
