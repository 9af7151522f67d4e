#!/usr/bin/env python3
"""Every process's CPU time so far, as JSON on stdout, for bench/compare's noise statement: comparing two snapshots
names the other processes that used the machine during a run. A process counts as bench/compare's own when it is in
the harness's cpuacct cgroup (jwgbench.PID)."""
import json
import os


def process(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        # A zombie has left its cgroup, so it would pass for someone else's; bench/compare's daemons are reparented
        # to pid 1, which reaps them when it gets to it.
        raise ValueError("zombie")
    # After "pid (comm) ": state is field 3, so utime (14), stime (15) and starttime (22) are at 11, 12 and 19.
    with open(f"/proc/{pid}/cgroup") as f:
        ours = "jwgbench." in f.read()
    return {"pid": pid, "comm": comm, "start": int(fields[19]), "ticks": int(fields[11]) + int(fields[12]),
            "ours": ours}


def main():
    processes = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                processes.append(process(int(pid)))
            except (OSError, ValueError, IndexError):
                pass  # it exited while we looked
    print(json.dumps({"clk_tck": os.sysconf("SC_CLK_TCK"), "processes": processes}))


if __name__ == "__main__":
    main()
