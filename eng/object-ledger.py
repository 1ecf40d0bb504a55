#!/usr/bin/env python3
"""The test suite's ledger of kernel objects: what it loads it must release.

  object-ledger.py BPFSHARP snapshot FILE   records the ids of every BPF program and link
  object-ledger.py BPFSHARP check FILE      fails (exit 1) when programs or links that were not there before
                                            are still there with nothing but the kernel keeping them alive

It asks `bpfsharp prog list --json` and `bpfsharp link list --json`. An object a live process holds (systemd's
cgroup programs, a parallel test run) is that process's, not a leak; a new program kept alive only by a held link
is that link's. What is left is a leak: a pin the tests forgot, a legacy attachment (netlink XDP, tc filter,
cgroup attach) never detached, a registered struct_ops. The kernel frees closed objects a little after the last
close, so check retries for a few seconds before it judges.
"""
import json
import subprocess
import sys
import time


def listing(tool, kind):
    out = subprocess.run([tool, kind, "list", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["programs" if kind == "prog" else "links"]


def leaks(tool, before):
    progs, links = listing(tool, "prog"), listing(tool, "link")
    held_link_progs = {l["prog_id"] for l in links if l["pids"] or l["id"] in before["links"]}
    left = [("link", l) for l in links if l["id"] not in before["links"] and not l["pids"]]
    left += [("prog", p) for p in progs
             if p["id"] not in before["programs"] and not p["pids"] and p["id"] not in held_link_progs]
    return left


def main():
    tool, mode, path = sys.argv[1:4]
    if mode == "snapshot":
        with open(path, "w") as f:
            json.dump({"programs": [p["id"] for p in listing(tool, "prog")],
                       "links": [l["id"] for l in listing(tool, "link")]}, f)
        return 0
    with open(path) as f:
        before = {k: set(v) for k, v in json.load(f).items()}
    deadline = time.monotonic() + 10
    left = leaks(tool, before)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = leaks(tool, before)
    for kind, o in left:
        what = o.get("target") or f'{o.get("type")} {o.get("name", "")}'
        pins = f' pinned at {", ".join(o["pinned"])}' if o["pinned"] else ""
        print(f"LEFT BEHIND: {kind} id {o['id']} ({o['type']}: {what}){pins}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
