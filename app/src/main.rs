//! The Sealpost portal's entry point: everything is in the library.

fn main() {
    sealpost_app::start();
}
