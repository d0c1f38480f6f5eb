//! Links the program at the start of the program window with the SDK's layout (only
//! for the machine: on the host only the library is built and tested).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed={dir}/../../sdk/ingot/program.ld");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{dir}/../../sdk/ingot/program.ld");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}
