#!/usr/bin/env bash
# Side by side, in one run: kernel BTF parsing (BpfSharp vs libbpf's btf__parse/btf__new) and the
# vmlinux.h dump (bpfsharp NativeAOT vs bpftool). The machine is shared and noisy, so both sides
# run alternately and the report is ratios of medians.
#   bench/btf/run.sh [ROUNDS] [ITERATIONS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-5}"
iterations="${2:-30}"
btf=/sys/kernel/btf/vmlinux
out="$root/artifacts/bench/btf"
mkdir -p "$out"

echo "== building"
cc -O2 -Wall "$here/libbpf_parse.c" -lbpf -o "$out/libbpf_parse"
# NativeAOT needs a C toolchain; clang-14 is what this machine has under a versioned name.
linker=()
if ! command -v clang >/dev/null && command -v clang-14 >/dev/null; then linker=(-p:CppCompilerAndLinker=clang-14); fi
# The parse benchmark is NativeAOT too, so its one-shot 'kernel' measurement contains no JIT time.
dotnet publish "$here/BtfParseBench/BtfParseBench.csproj" -c Release -r linux-x64 -p:PublishAot=true "${linker[@]}" \
  -o "$out/parse" -nologo -v quiet -clp:ErrorsOnly
dotnet publish "$root/src/BpfSharp.Cli/BpfSharp.Cli.csproj" -c Release -r linux-x64 -p:PublishAot=true "${linker[@]}" \
  -o "$out/aot" -nologo -v quiet -clp:ErrorsOnly

echo "== parse: $rounds rounds x $iterations iterations, alternating"
results="$out/parse.txt"
: > "$results"
for round in $(seq "$rounds"); do
  "$out/libbpf_parse" "$btf" "$iterations" >> "$results"
  "$out/parse/BtfParseBench" "$btf" "$iterations" >> "$results"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    impl, mode, median, minimum, cpu, memory = line.split()
    rows.setdefault((impl, mode), []).append((float(median), float(minimum), float(cpu), int(memory)))
def summary(key):
    values = rows[key]
    return [statistics.median(v[i] for v in values) for i in range(3)] + [values[-1][3]]
print(f"{'what':<32}{'median ms':>10}{'min ms':>9}{'cpu ms':>9}{'memory':>12}")
for key in sorted(rows):
    m, lo, cpu, mem = summary(key)
    print(f"{key[0] + ' ' + key[1]:<32}{m:>10.2f}{lo:>9.2f}{cpu:>9.2f}{mem / 1048576:>10.2f}Mi")
def ratio(a, b, label):
    (ma, la, ca, _), (mb, lb, cb, _) = summary(a), summary(b)
    print(f"{label:<40} median {ma / mb:5.2f}x  min {la / lb:5.2f}x  cpu {ca / cb:5.2f}x   (bpfsharp / libbpf; < 1 is faster)")
ratio(("bpfsharp", "parse"), ("libbpf", "parse"), "parse bytes in memory (Parse vs btf__new)")
ratio(("bpfsharp", "load"), ("libbpf", "load"), "read file + parse (Load vs btf__parse)")
if ("bpfsharp", "kernel") in rows:
    ratio(("bpfsharp", "kernel"), ("libbpf", "load"), "kernel BTF (KernelBtf.Vmlinux vs btf__parse)")
PY

echo "== dump: vmlinux.h, bpftool vs bpfsharp (NativeAOT)"
cmp <("$out/aot/bpfsharp" btf dump "$btf" --format c) <("$out/aot/bpfsharp" btf dump "$btf" --format c) >/dev/null
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 2 -r 15 --output=null --export-json "$out/dump.json" \
    "bpftool btf dump file $btf format c" \
    "$out/aot/bpfsharp btf dump $btf --format c"
else
  for tool in "bpftool btf dump file $btf format c" "$out/aot/bpfsharp btf dump $btf --format c"; do
    start=$(date +%s%N)
    for _ in $(seq 15); do $tool > /dev/null; done
    echo "$tool: $(( ($(date +%s%N) - start) / 15000000 )) ms a run"
  done
fi
