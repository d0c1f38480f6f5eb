//! The loader is built for `x86_64-unknown-none` as a static PIE (this toolchain has
//! no prebuilt standard library for `x86_64-unknown-uefi`); `xtask` turns the ELF into
//! a PE32+ EFI application, its `R_X86_64_RELATIVE` relocations into PE base
//! relocations. Entry: the `efi_main` symbol the `uefi` crate's `#[entry]` exports.
fn main() {
    println!("cargo:rustc-link-arg-bins=--entry=efi_main");
    println!("cargo:rustc-link-arg-bins=-znoexecstack");
}
