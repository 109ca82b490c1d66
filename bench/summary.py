#!/usr/bin/env python3
"""The README's short comparison, from the full tables of one bench run.

Usage: python3 bench/summary.py TABLES README

TABLES is the markdown `bash bench/run.sh` writes (the report's tables);
README is rewritten between the lines `<!-- bench:summary -->` and
`<!-- /bench:summary -->`, so the README's figures are always those of
bench/README.md. A figure the run skipped (no callgrind, no flash) is "—".
"""

import re
import sys

BEGIN = "<!-- bench:summary -->"
END = "<!-- /bench:summary -->"


def tables(text):
    """The markdown tables of `text`: lists of rows, each a list of cells,
    the header row first."""
    out, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            out.append(current)
            current = []
    return out


def table(text, header_start):
    """{first cell: row} of the table whose header starts with `header_start`."""
    for t in tables(text):
        if " | ".join(t[0]).startswith(header_start):
            return {row[0]: row for row in t[1:]}
    return {}


def flash_rows(text):
    """{(target, variant): added bytes} of the flash table."""
    out = {}
    for t in tables(text):
        if t[0][:2] == ["target", "variant"]:
            for row in t[1:]:
                out[(row[0], row[1])] = row[5]
    return out


def cell(table, name, index):
    row = table.get(name)
    if row is None or index >= len(row) or row[index] in ("", "— / —"):
        return "—"
    return row[index]


def summary(text):
    t = table(text, "contender | success ns/call")
    # instr/call is column 8, allocs 9 (0-based).
    instr = {n: cell(t, n, 8) for n in ("tenace (async)", "backon (async)", "tower::retry", "tokio-retry2")}
    allocs = {n: cell(t, n, 9) for n in instr}
    timers = table(text, "contender | backoff B")
    timer = {}
    for n in ("tenace", "backon", "tower::retry", "tokio-retry2"):
        row = timers.get(n)
        timer[n] = f"{row[1]} / {row[3]} B" if row and len(row) >= 4 else "—"
    flash = flash_rows(text)

    def fl(variant):
        a = flash.get(("thumbv7em-none-eabihf", variant))
        b = flash.get(("thumbv6m-none-eabi", variant))
        return f"{a} / {b} B" if a and b else "—"

    gets = re.search(
        r"bare hyper-util (\d+), tenace-hyper (\d+), reqwest \+ reqwest-retry (\d+)", text
    )
    per_get = gets.groups() if gets else ("—", "—", "—")

    gets_allocs = table(text, "client | allocs/call")

    def allocs_of(name):
        row = gets_allocs.get(name)
        return row[1].removesuffix(".00") if row else "—"

    return "\n".join(
        [
            "| one retried call | tenace | backon | tower::retry | tokio-retry2 |",
            "|---|---:|---:|---:|---:|",
            "| instructions, success / 3 failures | "
            + " | ".join(instr[n] for n in instr)
            + " |",
            "| heap allocations, success / 3 failures | "
            + " | ".join(allocs[n] for n in allocs)
            + " |",
            "| future on tokio's timer (x86_64), backoff / with an attempt timeout | "
            + " | ".join(timer[n] for n in timer)
            + " |",
            f"| flash on thumbv7em / thumbv6m | {fl('tenace')} | {fl('backon (EmbassySleeper)')} | — | — |",
            "",
            "| one GET on loopback | tenace-hyper | bare hyper-util | reqwest + reqwest-retry |",
            "|---|---:|---:|---:|",
            f"| instructions (client and server) | {per_get[1]} | {per_get[0]} | {per_get[2]} |",
            "| heap allocations (client) | "
            + allocs_of("tenace-hyper Client (default policy)")
            + " | "
            + allocs_of("hyper-util legacy Client (bare)")
            + " | "
            + allocs_of("reqwest + reqwest-retry (3 retries)")
            + " |",
        ]
    )


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python3 bench/summary.py TABLES README")
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    with open(sys.argv[2], encoding="utf-8") as f:
        readme = f.read()
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        sys.exit(f"{sys.argv[2]}: no {BEGIN} ... {END} region")
    readme = readme[: start + len(BEGIN)] + "\n" + summary(text) + "\n" + readme[end:]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(readme)


if __name__ == "__main__":
    main()
