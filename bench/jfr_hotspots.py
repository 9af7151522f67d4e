#!/usr/bin/env python3
"""Where a JFR recording's threads spend their samples, per thread: the share of each thread's samples whose
stack's top frame is a method (self) and whose stack holds it anywhere (inclusive). bench/profile uses it on
jwg's packet threads; any recording works.

With --thread-cpu (a TSV of thread name and CPU seconds over the recording; /proc names, cut at 15 characters)
and --packets (how many packets the threads handled meanwhile), each share is also given in µs of CPU per packet.

Usage: jfr_hotspots.py JFR_TOOL RECORDING.jfr [--event jdk.CPUTimeSample] [--threads REGEX] [--top 15]
                       [--thread-cpu FILE --packets N]"""
import argparse
import collections
import json
import re
import subprocess


def frame_name(frame):
    method = frame["method"]
    return method["type"]["name"].split(".")[-1] + "." + method["name"]


def samples(jfr_tool, recording, event):
    out = subprocess.run([jfr_tool, "print", "--json", "--stack-depth", "64", "--events", event, recording],
                         check=True, capture_output=True, text=True).stdout
    for e in json.loads(out)["recording"]["events"]:
        v = e["values"]
        thread = v.get("sampledThread") or v.get("eventThread") or {}
        stack = (v.get("stackTrace") or {}).get("frames") or []
        if stack:
            yield thread.get("javaName") or thread.get("osName") or "?", [frame_name(f) for f in stack]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("jfr_tool")
    p.add_argument("recording")
    p.add_argument("--event", default="jdk.CPUTimeSample")
    p.add_argument("--threads", default=".")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--thread-cpu")
    p.add_argument("--packets", type=int)
    a = p.parse_args()
    cpu = {}
    if a.thread_cpu:
        with open(a.thread_cpu) as f:
            cpu = {name: float(s) for name, s in (line.rstrip("\n").split("\t") for line in f if line.strip())}
    by_thread = collections.defaultdict(list)
    for thread, frames in samples(a.jfr_tool, a.recording, a.event):
        if re.search(a.threads, thread):
            by_thread[thread].append(frames)
    total = sum(len(s) for s in by_thread.values())
    print(f"{a.event}: {total} samples in threads matching /{a.threads}/")
    if a.packets:
        print(f"{a.packets} packets through the tunnel during the recording")
    for thread, stacks in sorted(by_thread.items(), key=lambda kv: -len(kv[1])):
        n = len(stacks)
        seconds = cpu.get(thread[:15])
        per_packet = 1e6 * seconds / a.packets if seconds is not None and a.packets else None
        cost = f", {seconds:.2f} s CPU = {per_packet:.2f} µs per packet" if per_packet is not None else ""
        print(f"\n## {thread}: {n} samples ({100 * n / max(total, 1):.1f} % of all){cost}")

        def line(share):
            us = f"  {share * per_packet:5.2f} µs/packet" if per_packet is not None else ""
            return f"    {100 * share:5.1f} %{us}"
        print("  self:")
        for m, c in collections.Counter(s[0] for s in stacks).most_common(a.top):
            print(f"{line(c / n)}  {m}")
        print("  inclusive:")
        for m, c in collections.Counter(m for s in stacks for m in set(s)).most_common(a.top + 10):
            print(f"{line(c / n)}  {m}")


if __name__ == "__main__":
    main()
