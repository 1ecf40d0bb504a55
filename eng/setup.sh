#!/usr/bin/env bash
# Prepares this machine for BpfSharp: installs what is missing (Debian packages) and mounts
# the file systems eBPF tools need. Idempotent and quiet when nothing is to be done.
# Sourced or run by ./bpfsharp, ./test.sh and .ci/run.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (eBPF needs CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN, mounts need root)" >&2
  exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi

# Debian packages: clang/llvm 14 compile and disassemble BPF C, libbpf-dev provides bpf_helpers.h,
# systemtap-sdt-dev and gcc build the USDT test executable, fonts-dejavu-core labels heatmaps; bpftool and libbpf are the references the tests and benchmarks compare with.
need=()
command -v clang-14 >/dev/null 2>&1 || need+=(clang-14)
command -v llvm-objdump-14 >/dev/null 2>&1 || need+=(llvm-14)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
[ -f /usr/include/linux/bpf.h ] || need+=(linux-libc-dev)
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || need+=(bpftool)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -f /usr/include/x86_64-linux-gnu/sys/sdt.h ] || [ -f /usr/include/aarch64-linux-gnu/sys/sdt.h ] || [ -f /usr/include/sys/sdt.h ] || need+=(systemtap-sdt-dev)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
# test.sh's ledger of kernel objects (eng/object-ledger.py) and its failure summary.
command -v python3 >/dev/null 2>&1 || need+=(python3)
# pagefaults --heatmap draws its labels with a TrueType font (SkiaSharp's NoDependencies build has no fontconfig).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mounted() { awk -v d="$1" '$2 == d { found = 1 } END { exit !found }' /proc/mounts; }

mkdir -p /sys/fs/bpf 2>/dev/null || true
mounted /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mounted /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
if [ -d /sys/kernel/debug ] && ! mounted /sys/kernel/debug; then
  mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
fi

# Older kernels charge BPF memory to RLIMIT_MEMLOCK; lifting it is harmless on newer ones.
ulimit -l unlimited 2>/dev/null || true
