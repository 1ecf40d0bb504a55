#!/usr/bin/env bash
# CO-RE resolution side by side, in one run: BpfSharp (NativeAOT) against libbpf, as run by
# 'bpftool gen min_core_btf', which parses the target BTF, opens the object and computes every CO-RE
# relocation against it (then writes a small BTF). Both are timed as whole processes by hyperfine,
# alternating; then BpfSharp's in-process cost of the name index and of resolution alone.
#   bench/core/run.sh [OBJECT]   (default: the test suite's core_task.bpf.o; build the tests first)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
object="${1:-$root/tests/BpfSharp.Tests/bin/Release/net10.0/programs/core_task.bpf.o}"
btf=/sys/kernel/btf/vmlinux
out="$root/artifacts/bench/core"
mkdir -p "$out"

echo "== building"
linker=()
if ! command -v clang >/dev/null && command -v clang-14 >/dev/null; then linker=(-p:CppCompilerAndLinker=clang-14); fi
dotnet publish "$here/CoreRelocateBench/CoreRelocateBench.csproj" -c Release -r linux-x64 -p:PublishAot=true "${linker[@]}" \
  -o "$out/aot" -nologo -v quiet -clp:ErrorsOnly

echo "== whole process: parse $btf, read $(basename "$object"), resolve every CO-RE relocation"
hyperfine -N -w 3 -r 30 --export-json "$out/process.json" \
  "bpftool gen min_core_btf $btf $out/min.btf $object" \
  "$out/aot/CoreRelocateBench once $object $btf"
python3 - "$out/process.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
libbpf, ours = r[0], r[1]
print(f"bpfsharp / libbpf: median {ours['median'] / libbpf['median']:.2f}x  mean {ours['mean'] / libbpf['mean']:.2f}x  (< 1 is faster)")
PY

echo "== in process (BpfSharp): name index build + resolution, and resolution alone"
"$out/aot/CoreRelocateBench" steady "$object" "$btf" 30
