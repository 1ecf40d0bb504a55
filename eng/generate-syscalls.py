#!/usr/bin/env python3
"""Generates src/BpfSharp/Symbols/Syscalls.g.cs: the system call numbers and names of x86-64 and arm64,
so that tools name the calls a tracepoint reports (raw_syscalls:sys_enter carries only the number).

    eng/generate-syscalls.py [--x86-64 SOURCE...] [--arm64 SOURCE...]

Each architecture's calls are the union of its SOURCEs (a later source wins on a conflict). A SOURCE
is either a UAPI header or a table:

- a header (a name ending in .h) is run through the C preprocessor (clang-14 -E -dM), so that the
  conditional definitions of asm-generic/unistd.h resolve as they do for a 64-bit arm64 build; every
  __NR_name macro is a call. Defaults: /usr/include/x86_64-linux-gnu/asm/unistd_64.h and
  /usr/include/asm-generic/unistd.h (the installed kernel headers).
- a table is text with one "name<TAB>number" line per call (lines without a number, for calls the
  architecture lacks, are skipped): the format of the per-architecture tables that
  github.com/hrw/syscalls-table extracts from the kernel sources, which track newer kernels than the
  distribution's headers.

Tracepoints (syscalls:sys_enter_NAME) and kernel symbols are named after the kernel's entry point,
which differs from the table name for a few calls; ENTRY_POINT_NAMES lists those, per architecture,
as the kernel's own syscall tables (arch/x86/entry/syscalls/syscall_64.tbl, scripts/syscall.tbl)
give them. The output is checked in.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = "src/BpfSharp/Symbols/Syscalls.g.cs"

# Table name -> entry point name (without sys_), where they differ.
ENTRY_POINT_NAMES = {
    "X64": {
        "stat": "newstat", "fstat": "newfstat", "lstat": "newlstat", "uname": "newuname",
        "sendfile": "sendfile64", "umount2": "umount",
    },
    "Arm64": {
        "fstat": "newfstat", "uname": "newuname", "sendfile": "sendfile64", "umount2": "umount",
        "fadvise64": "fadvise64_64",
    },
}

# asm/unistd.h of arm64 defines these before including asm-generic/unistd.h.
ARM64_WANTS = ["RENAMEAT", "NEW_STAT", "SET_GET_RLIMIT", "TIME32_SYSCALLS", "MEMFD_SECRET", "SYS_CLONE3"]
# Macros named __NR_* that are not calls.
NOT_CALLS = {"syscalls", "arch_specific_syscall"}


def from_header(path: str, prelude: str) -> dict:
    source = prelude + f'#include "{os.path.abspath(path)}"\n'
    macros = subprocess.run(["clang-14", "-E", "-dM", "-x", "c", "-"], input=source, text=True,
                            capture_output=True, check=True).stdout
    defines = {}
    for line in macros.splitlines():
        m = re.match(r"#define (\w+) (.+)$", line)
        if m:
            defines[m.group(1)] = m.group(2).strip()

    def value(expr: str, depth: int = 0):
        expr = expr.strip("() ")
        if re.fullmatch(r"\d+", expr):
            return int(expr)
        if depth < 8 and expr in defines:
            return value(defines[expr], depth + 1)
        m = re.fullmatch(r"(\w+)\s*\+\s*(\d+)", expr)
        if m and depth < 8:
            base = value(m.group(1), depth + 1)
            return None if base is None else base + int(m.group(2))
        return None

    calls = {}
    for name, expr in defines.items():
        if not name.startswith("__NR_"):
            continue
        call = name[len("__NR_"):]
        if call in NOT_CALLS or call.startswith("_"):
            continue
        number = value(expr)
        if number is not None:
            calls[call] = number
    return calls


def from_table(path: str) -> dict:
    calls = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            calls[parts[0]] = int(parts[1])
    return calls


def read(path: str, prelude: str) -> dict:
    calls = from_header(path, prelude) if path.endswith(".h") else from_table(path)
    if len(calls) < 250:
        sys.exit(f"{path}: only {len(calls)} system calls found; is it a syscall header or table?")
    return calls


def read_all(paths: list, prelude: str) -> dict:
    calls = {}
    for path in paths:
        for name, number in read(path, prelude).items():
            for other in [o for o, n in calls.items() if n == number and o != name]:
                del calls[other]  # renamed in the newer source
            calls[name] = number
    return calls


def emit(arch: str, calls: dict, source: str) -> list:
    by_number = sorted((n, name) for name, n in calls.items())
    numbers = [n for n, _ in by_number]
    if len(set(numbers)) != len(numbers):
        sys.exit(f"{arch}: two calls share a number in {source}")
    lines = [f"    // {arch}: {len(by_number)} calls, from {source}",
             f"    private static readonly (int Number, string Name)[] {arch}Calls =", "    ["]
    lines += [f'        ({n}, "{name}"),' for n, name in by_number]
    lines += ["    ];", "",
              f"    private static readonly (string Name, string EntryPoint)[] {arch}EntryPoints =", "    ["]
    for name, entry in sorted(ENTRY_POINT_NAMES[arch].items()):
        if name in calls:
            lines.append(f'        ("{name}", "{entry}"),')
    lines += ["    ];", ""]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--x86-64", dest="x64", nargs="+", default=["/usr/include/x86_64-linux-gnu/asm/unistd_64.h"])
    parser.add_argument("--arm64", nargs="+", default=["/usr/include/asm-generic/unistd.h"])
    parser.add_argument("--source-note", default="", help="where the inputs came from, for the generated header")
    args = parser.parse_args()
    arm64_prelude = "".join(f"#define __ARCH_WANT_{w}\n" for w in ARM64_WANTS) + "#define __BITS_PER_LONG 64\n"
    x64 = read_all(args.x64, "")
    arm64 = read_all(args.arm64, arm64_prelude)
    note = f" ({args.source_note})" if args.source_note else ""
    out = [
        f"// <auto-generated>Generated by eng/generate-syscalls.py{note}; do not edit.</auto-generated>",
        "namespace BpfSharp.Symbols;",
        "",
        "public static partial class Syscalls",
        "{",
    ]
    out += emit("X64", x64, " + ".join(os.path.basename(p) for p in args.x64))
    out += emit("Arm64", arm64, " + ".join(os.path.basename(p) for p in args.arm64))
    if out[-1] == "":
        out.pop()
    out.append("}")
    with open(os.path.join(ROOT, OUTPUT), "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{OUTPUT}: {len(x64)} x86-64 and {len(arm64)} arm64 calls")


if __name__ == "__main__":
    main()
