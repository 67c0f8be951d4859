//! A release build carries the portal (`../dist`, see `http/routes/portal.rs`): it is compiled
//! again whenever `trunk build` changes `dist/`, new hashed file names included, which the files
//! `rust-embed` includes alone would not notice. Debug builds read `dist/` at run time and track
//! nothing here, so building and testing before `trunk build` does not recompile each time.
fn main() {
    let profile = std::env::var("PROFILE").unwrap_or_default();
    if profile == "release" {
        // A missing directory counts as changed, so a release build made before `trunk build`
        // is made again once `dist/` exists.
        println!("cargo:rerun-if-changed=../dist");
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
