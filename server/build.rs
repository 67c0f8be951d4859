//! A build without debug assertions carries the portal (`../dist`, see `http/routes/portal.rs`,
//! where `rust-embed` makes the same choice): it is compiled again whenever `trunk build` changes
//! `dist/`, new hashed file names included, which the files `rust-embed` includes alone would not
//! notice. Builds with debug assertions read `dist/` at run time and track nothing here, so
//! building and testing before `trunk build` does not recompile each time.
fn main() {
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        // A missing directory counts as changed, so a release build made before `trunk build`
        // is made again once `dist/` exists.
        println!("cargo:rerun-if-changed=../dist");
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
