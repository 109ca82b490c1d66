#!/usr/bin/env python3
"""Flash and RAM of one retried call on Cortex-M: builds bench/flash for
thumbv7em-none-eabihf and thumbv6m-none-eabi (opt-level "s", LTO, one
codegen unit, panic abort) and prints a markdown table.

Per target and variant: text/data/bss (llvm-size), the text added over the
baseline, the part of it that is compiler-builtins routines the baseline
did not link (memmove, 64-bit division, soft-float...), which a real
firmware usually links anyway, the stack frames of the call chain, and the
soft-float routines linked (llvm-nm).

Usage: python3 bench/flash/measure.py [--out FILE]
Needs: rustup targets thumbv7em-none-eabihf thumbv6m-none-eabi, and
llvm-size / llvm-nm (Debian's `llvm`; installed if missing when root).
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"]
# (binary, label); the first is the baseline.
VARIANTS = [
    ("baseline", "baseline: one call, no retry"),
    ("handloop", "hand-written loop"),
    ("tenace", "tenace"),
    ("backon", "backon (EmbassySleeper)"),
    ("tenace_fixed", "tenace, fixed delay (no exp/jitter)"),
    ("tenace_hedge", "tenace, hedged (1 extra copy)"),
]

# Soft-float routines, AEABI and libgcc names.
SOFT_FLOAT = re.compile(
    r"^(__aeabi_([fd](add|sub|mul|div|rsub|cmp[a-z]*|2[a-z0-9]+)|[iu]?[il]2[fd]|[cd]?[cf]cmp[a-z]*)"
    r"|__(add|sub|mul|div|neg|pow[id]?)[sdt]f[23]|__(eq|ne|lt|le|gt|ge|unord|cmp)[sdt]f2"
    r"|__(fix|fixuns)[sdt]f[sdt]i|__float(un)?[sdt]i[sdt]f|__(extend|trunc)[sdt]f[sdt]f2)$"
)
# Routines from compiler-builtins (plain or mangled names).
BUILTIN = re.compile(
    r"^(compiler_builtins::|__aeabi_|__u?(div|mod|mul)[a-z]*[34]$|__udivmoddi4$|__clz|__ctz"
    r"|__(ashl|ashr|lshr)[dt]i3$|mem(cpy|move|set|cmp)$|__(add|sub|mul|div)[sdt]f3$)"
)


def tool(name):
    for cand in (name, name + "-19", name + "-16", name + "-14"):
        path = shutil.which(cand)
        if path:
            return path
    if os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "llvm"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for cand in (name, name + "-14"):
            path = shutil.which(cand)
            if path:
                return path
    sys.exit(f"{name} not found: apt-get install llvm")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def sizes(elf):
    line = run([LLVM_SIZE, "-B", elf]).splitlines()[1].split()
    return int(line[0]), int(line[1]), int(line[2])


def symbols(elf):
    """{name: size} of defined functions, demangled, plus raw names."""
    out = {}
    for line in run([LLVM_NM, "-C", "-S", "--defined-only", "--radix=d", elf]).splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            name = re.sub(r"::h[0-9a-f]{16}$", "", parts[3])
            out[name] = out.get(name, 0) + int(parts[1])
    return out


def raw_names(elf):
    return {
        l.split()[-1]
        for l in run([LLVM_NM, "--defined-only", elf]).splitlines()
        if l.strip()
    }


def soft_float(elf):
    names = set()
    for n in raw_names(elf):
        if SOFT_FLOAT.match(n):
            names.add(n)
    for n in symbols(elf):
        m = re.match(r"compiler_builtins::float::\w+::(__\w+)", n)
        if m:
            names.add(m.group(1))
    return sorted(names)


def frame_bytes(elf):
    """Sum of the stack frames (pushes and sp adjustments in each prologue)
    of the application's functions: main, run, block_on and what they call
    that is not a compiler-builtins routine. These firmwares are one call
    chain, so the sum bounds the stack one call takes."""
    dis = run([LLVM_OBJDUMP, "-d", "--no-show-raw-insn", "-C", elf])
    total, fn, counted = 0, None, 0
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            name = re.sub(r"::h[0-9a-f]{16}$", "", m.group(1))
            app = not BUILTIN.match(name) and not name.startswith("$") and not re.search(
                r"Reset|Handler|HardFault|__pre_init|panic|expect_failed|^main$", name
            )
            fn, counted = (name if app else None), 0
            continue
        if fn is None or counted > 12:
            continue
        counted += 1
        ins = line.split("\t")
        if len(ins) < 3:
            continue
        op, args = ins[-2].strip(), ins[-1].strip()
        if op in ("push", "push.w", "stmdb"):
            total += 4 * len(re.findall(r"r\d+|lr|r\d+", args.split("{")[-1]))
        elif op in ("vpush",):
            total += 8 * len(re.findall(r"d\d+", args)) + 4 * len(re.findall(r"s\d+", args))
        elif op in ("sub", "sub.w", "subw") and args.startswith("sp"):
            m2 = re.search(r"#(\d+)", args)
            if m2:
                total += int(m2.group(1))
    return total


def main():
    out_path = None
    if "--out" in sys.argv:
        out_path = sys.argv[sys.argv.index("--out") + 1]
    global LLVM_SIZE, LLVM_NM, LLVM_OBJDUMP
    LLVM_SIZE, LLVM_NM, LLVM_OBJDUMP = tool("llvm-size"), tool("llvm-nm"), tool("llvm-objdump")
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))
    subprocess.run(["rustup", "target", "add", *TARGETS], check=True, capture_output=True)
    for t in TARGETS:
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--target", t, "--bins"],
            cwd=HERE,
            check=True,
        )
    lines = [
        "Flash and RAM of one retried call (bench/flash; opt-level \"s\", LTO, codegen-units 1, "
        "panic abort; exponential backoff 100 ms ×2 to 10 s, full jitter, 3 retries, embassy-time "
        "Timer). \"added\" is text over the baseline; \"of which builtins\" is compiler-builtins "
        "routines the baseline did not link (memmove, 64-bit division, soft-float), which most real "
        "firmware links anyway; \"engine\" is the rest.",
        "",
        "| target | variant | text | data | bss | added | of which builtins | engine | stack frames | soft-float routines |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in TARGETS:
        base = os.path.join(target_dir, t, "release", VARIANTS[0][0])
        base_text = sizes(base)[0]
        base_builtins = {n for n in symbols(base) if BUILTIN.match(n)}
        for binary, label in VARIANTS:
            elf = os.path.join(target_dir, t, "release", binary)
            text, data, bss = sizes(elf)
            syms = symbols(elf)
            new_builtins = {
                n: s for n, s in syms.items() if BUILTIN.match(n) and n not in base_builtins
            }
            builtin_bytes = sum(new_builtins.values())
            added = text - base_text
            floats = soft_float(elf)
            if binary == VARIANTS[0][0]:
                lines.append(
                    f"| {t} | {label} | {text} | {data} | {bss} | — | — | — | {frame_bytes(elf)} | {', '.join(floats) or 'none'} |"
                )
            else:
                lines.append(
                    f"| {t} | {label} | {text} | {data} | {bss} | {added} | {builtin_bytes} | "
                    f"{added - builtin_bytes} | {frame_bytes(elf)} | {', '.join(floats) or 'none'} |"
                )
    table = "\n".join(lines) + "\n"
    print(table)
    if out_path:
        with open(out_path, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
