//! Picks the board (memory layout and SysTick clock) from the target.
//!
//! There is deliberately no `memory.x` in the package root: the linker
//! searches the working directory first, so one there would silently
//! override the layout written here.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    // (board, memory.x)
    let (board, memory) = if target.starts_with("thumbv6m") {
        // BBC micro:bit (nRF51822): Cortex-M0, 256 KiB flash, 16 KiB RAM.
        (
            "microbit",
            "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  RAM : ORIGIN = 0x20000000, LENGTH = 16K\n}\n",
        )
    } else if target.starts_with("thumbv7em") {
        // Arm MPS2 with an AN386 image: Cortex-M4 with FPU, 4 MiB SSRAM at 0x0
        // and at 0x20000000; the same layout as the LM3S6965 fits in it.
        (
            "mps2-an386",
            "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  RAM : ORIGIN = 0x20000000, LENGTH = 64K\n}\n",
        )
    } else if target.starts_with("riscv32") {
        // qemu's `virt` machine: RAM from 0x8000_0000, where `-kernel`
        // loads the image; split like a microcontroller's flash and RAM.
        (
            "riscv-virt",
            "MEMORY\n{\n  FLASH : ORIGIN = 0x80000000, LENGTH = 256K\n  RAM : ORIGIN = 0x80040000, LENGTH = 64K\n}\nREGION_ALIAS(\"REGION_TEXT\", FLASH);\nREGION_ALIAS(\"REGION_RODATA\", FLASH);\nREGION_ALIAS(\"REGION_DATA\", RAM);\nREGION_ALIAS(\"REGION_BSS\", RAM);\nREGION_ALIAS(\"REGION_HEAP\", RAM);\nREGION_ALIAS(\"REGION_STACK\", RAM);\n",
        )
    } else {
        // TI Stellaris LM3S6965: Cortex-M3, 256 KiB flash, 64 KiB RAM.
        (
            "lm3s6965evb",
            "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  RAM : ORIGIN = 0x20000000, LENGTH = 64K\n}\n",
        )
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo::rustc-link-search={}", out.display());
    println!(
        "cargo::rustc-check-cfg=cfg(board, values(\"lm3s6965evb\", \"microbit\", \"mps2-an386\", \"riscv-virt\"))"
    );
    println!("cargo::rustc-cfg=board=\"{board}\"");
    println!("cargo::rerun-if-changed=build.rs");
}
