#!/usr/bin/env bash
# The networked firmware on qemu (mps2-an386, Cortex-M4F): tenace-embedded
# over embassy-net against the fault server, then its size line. Installs
# qemu-system-arm and llvm if missing. Fails on any failed test, fault,
# hang (timeout) or wrong server count.
set -euo pipefail
cd "$(dirname "$0")/../examples/firmware-net"
bash run-qemu-net.sh
bash size-report.sh
