//! Picks the board (memory layout, Ethernet controller, SysTick clock)
//! from the target:
//!
//! - `thumbv7em-none-eabihf`: qemu's `mps2-an386` (Cortex-M4F, LAN9118).
//!   Its SSRAMs are 4 MiB each; the firmware is given the flash and RAM
//!   of a mid-sized microcontroller (512 KiB, 128 KiB) so that the build
//!   shows whether it fits one.
//! - `thumbv7m-none-eabi`: TI's Stellaris LM3S6965 on qemu's
//!   `lm3s6965evb` (Cortex-M3, 256 KiB flash, 64 KiB RAM, its own MAC).
//!
//! There is deliberately no `memory.x` in the package root: the linker
//! searches the working directory first, so one there would silently
//! override the layout written here.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let (board, flash, ram) = if target.starts_with("thumbv7em") {
        ("mps2-an386", "512K", "128K")
    } else {
        ("lm3s6965evb", "256K", "64K")
    };
    let memory = format!(
        "MEMORY\n{{\n  FLASH : ORIGIN = 0x00000000, LENGTH = {flash}\n  RAM : ORIGIN = 0x20000000, LENGTH = {ram}\n}}\n"
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(board, values(\"lm3s6965evb\", \"mps2-an386\"))");
    println!("cargo::rustc-cfg=board=\"{board}\"");
    println!("cargo::rerun-if-changed=build.rs");
}
