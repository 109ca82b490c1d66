#!/usr/bin/env bash
# The library crates as crates.io would receive them: each packages with its
# README and both license files, and builds from its .crate file alone. The
# three are packaged together, so the adapters resolve `tenace` to the
# tarball packaged here (a local registry cargo sets up) rather than to a
# published version. `--allow-dirty`: CI checks what is in the tree, not
# whether it is committed. Then each crate's docs, built as docs.rs does.
set -euo pipefail
cd "$(dirname "$0")/.."
libs=(tenace tenace-hyper tenace-embedded)
for lib in "${libs[@]}"; do
  files=$(cargo package --quiet --allow-dirty --list -p "$lib")
  for needed in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
    grep -qx "$needed" <<<"$files" || { echo "$lib: $needed is not in the package"; exit 1; }
  done
  echo "$lib: $(wc -l <<<"$files") files, README and licenses included"
done
# The adapters build against the `tenace` packaged here: a registry crate
# whose version stays 0.1.0 from run to run. Cargo never unpacks or
# rebuilds a registry crate it has seen once, so a cargo home or a target
# directory kept across runs would build an earlier run's `tenace`: forget
# the unpacked sources of the local registry and the project's own builds.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/tenace*-0.1.0
rm -rf "${CARGO_TARGET_DIR:-target}"/debug/.fingerprint/tenace-*
cargo package --locked --allow-dirty "${libs[@]/#/-p=}"
ls -l "${CARGO_TARGET_DIR:-target}"/package/*.crate
# The docs as docs.rs builds them: nightly, `--cfg docsrs`, and the features
# each crate's [package.metadata.docs.rs] names (the nightly toolchain is
# the one miri and fuzzing use).
for lib in "${libs[@]}"; do
  features=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
lib = sys.argv[1]
meta = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == lib)["metadata"]["docs"]["rs"]
print("--all-features" if meta.get("all-features") else "--features=" + ",".join(meta.get("features", [])))
' "$lib")
  echo "docs.rs build of $lib ($features)"
  RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --quiet --no-deps -p "$lib" "$features"
done
echo "package: ok"
