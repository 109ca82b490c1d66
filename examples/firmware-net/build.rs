//! The memory layout of qemu's `mps2-an386` (Cortex-M4F): code in the
//! 4 MiB SSRAM at `0x0`, data in the SSRAM at `0x2000_0000`. The firmware
//! is given the flash and RAM of a mid-sized microcontroller (512 KiB,
//! 128 KiB) so that the build shows whether it fits one.
//!
//! There is deliberately no `memory.x` in the package root: the linker
//! searches the working directory first, so one there would silently
//! override the layout written here.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let memory = "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 512K\n  RAM : ORIGIN = 0x20000000, LENGTH = 128K\n}\n";
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=build.rs");
}
