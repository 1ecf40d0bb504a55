#!/usr/bin/env bash
# Skeleton generation side by side: `bpftool gen skeleton OBJ` (C) against `bpfsharp gen skeleton OBJ` (C#, with
# the object's bytes embedded, as bpftool does), both as a user runs them: one process per object.
#   bench/skeletons/compare.sh [RUNS=30]
# Runs alternate (bpftool, bpfsharp, bpftool, ...) so that machine noise hits both; prints medians and the ratio.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-30}"
"$root/eng/check-aot.sh" >/dev/null
bpfsharp="$root/artifacts/aot/bpfsharp"
dotnet build "$root/tests/BpfSharp.Tests" -c Release -nologo -v quiet >/dev/null
objects=("$root"/tests/BpfSharp.Tests/bin/Release/net10.0/programs/{skeleton,globals,map_kinds,core_task,getting_started}.bpf.o)
python3 - "$runs" "$bpfsharp" "${objects[@]}" <<'PY'
import subprocess, sys, time, statistics, os
runs, bpfsharp, objects = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def once(cmd):
    start = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - start) / 1e6
def row(label, size, c_cmd, cs_cmd):
    c, cs = [], []
    for _ in range(runs):
        c.append(once(c_cmd))
        cs.append(once(cs_cmd))
    a, b = statistics.median(c), statistics.median(cs)
    print(f"{label:<24} {size:>7} {a:>11.2f} {b:>12.2f} {b / a:>5.2f}x")
print(f"{'object':<24} {'bytes':>7} {'bpftool ms':>11} {'bpfsharp ms':>12} {'ratio':>6}")
# What starting each process costs, for reading the rows below.
row("(version: start-up)", "", ["bpftool", "version"], [bpfsharp, "version"])
for obj in objects:
    row(os.path.basename(obj), os.path.getsize(obj), ["bpftool", "gen", "skeleton", obj], [bpfsharp, "gen", "skeleton", obj])
PY
