//! Links this program at the start of the program window with the SDK's layout.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed={dir}/../../sdk/ingot/program.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../sdk/ingot/program.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
}
