#!/usr/bin/env python3
"""bench/compare's report: turns the raw directory of a run into results.json (every raw figure per round and
implementation, the tools' own outputs, machine info, how noisy the machine was) and results.md (the table of
medians, ratios and spreads, the noise statement, and what each figure is).

Usage: report.py RAW_DIR OUT_DIR"""
import glob
import json
import os
import re
import statistics
import sys

IMPLS = ["jwg", "wireguard-go"]
BASE = "wireguard-go"  # every other implementation's ratio is to this one


def implementations(machine):
    """jwg, wireguard-go, then the --also ones in the order given (machine.tsv's also:NAME lines)."""
    return IMPLS + [k[len("also:"):] for k in machine if k.startswith("also:") and k.count(":") == 1]


def ratio_columns(machine):
    """The ratios the table shows, as (numerator, denominator): each implementation but wireguard-go to it; and when
    exactly one --also implementation is a jwg (jwg before a change, say), the main jwg to it."""
    impls = implementations(machine)
    cols = [(i, BASE) for i in impls if i != BASE]
    jwgs = [i for i in impls[len(IMPLS):] if machine.get(f"also:{i}:kind") == "jwg"]
    if len(jwgs) == 1:
        cols.append(("jwg", jwgs[0]))
    return cols

# key, label, unit, higher is better; {peers}, {payload}... come from machine.tsv.
FIGURES = [
    ("startup_ms", "start-up: `IMPL IFNAME` to its return (TUN and UAPI socket ready)", "ms", False),
    ("first_packet_ms", "cold handshake to first packet: first UDP request to its echo", "ms", False),
    ("warm_handshake_ms", "warm handshake: peers removed and re-added, first UDP request to its echo", "ms", False),
    ("latency_p50_us", "UDP request/response RTT through the tunnel, p50", "µs", False),
    ("latency_p90_us", "… p90", "µs", False),
    ("latency_p99_us", "… p99", "µs", False),
    ("latency_p999_us", "… p99.9", "µs", False),
    ("latency_max_us", "… max", "µs", False),
    ("tcp1_ab_mbit", "TCP, 1 stream, a → b", "Mbit/s", True),
    ("tcp1_ba_mbit", "TCP, 1 stream, b → a", "Mbit/s", True),
    ("tcp4_ab_mbit", "TCP, 4 streams, a → b", "Mbit/s", True),
    ("tcp4_ba_mbit", "TCP, 4 streams, b → a", "Mbit/s", True),
    ("udp_pps", "UDP {payload} B packets/s a → b at the largest rate with ≤ {loss} % loss", "packets/s", True),
    ("handshakes_per_s", "responder: handshake responses/s, {window} valid initiations in flight", "1/s", True),
    ("mac1_drop_pps", "responder: mac1-invalid initiations taken in and dropped per second", "packets/s", True),
    ("cpu_s_per_gb", "CPU per GB through the tunnel (both daemons, TCP 1 stream a → b)", "s/GB", False),
    ("rss_idle_mib", "RSS idle after the handshake (larger daemon)", "MiB", False),
    ("rss_load_mib", "RSS under TCP load (peak of either daemon)", "MiB", False),
    ("rss_peers_mib", "RSS with {peers} peers configured (b)", "MiB", False),
    ("peers_config_ms", "`wg addconf` of {peers} peers", "ms", False),
]

DEFINITIONS = """\
- **start-up**: wall time of `IMPL IFNAME` (`bin/jwg` or `wireguard-go`); both return once the TUN device and
  `/var/run/wireguard/IFNAME.sock` exist. Two samples a round (a and b).
- **cold handshake to first packet**: on a freshly configured tunnel that has never handshaken, `FirstReply` sends a
  64-byte UDP request to an echo server behind b (again every 100 ms until answered) and times the first echo: the
  initiation, the response, the staged request's delivery and the echo.
- **warm handshake**: after the latency run (the JIT done, the echo server answering already), both ends remove
  the other peer and add it again (`wg set ... remove`, then `wg set` with its allowed IPs and endpoint), 1 s of
  quiet, then `FirstReply` as for the cold handshake: a new handshake and its first packet, on warm code.
- **latency**: `LatencyClient`, open loop: 64-byte UDP requests at {rate}/s to `EchoServer` through the tunnel for
  1 s unrecorded, then {lat_s} s recorded; round trips in an HdrHistogram (3 significant digits). Measured after the
  TCP and UDP runs, in the steady state (a freshly started jwg has far worse tails for its first ~10 s, while the JIT
  compiles its packet path). Both ends are Java processes on the same 2 cores as the daemons.
- **TCP**: after an unmeasured {tcp_warm_s} s transfer a → b (jwg's first seconds of traffic go to the JIT compiling
  its packet path; results.json keeps it as `x_tcp_from_cold_mbit`), `iperf3 -t {tcp_s}`, `-P 1` and `-P 4`, from
  a (client) to b and back (`-R`); received throughput.
- **UDP packets/s**: `iperf3 -u -l {payload}` a → b, {udp_s} s per trial: first unlimited, then {udp_steps} steps of
  bisection between 0 and the unlimited send rate, the first probe at the rate b received while flooded (and up to 4
  more halvings if none passed); a rate passes with loss ≤ {loss} % (iperf3's count at b). The figure is the received
  packets/s at the highest passing rate.
- **handshake responses/s**: `InitiationFlood` from a's namespace sends b valid initiations from the {peers}
  configured peers (made in advance by `HandshakeFixture`: each peer's timestamps grow, and a peer recurs only every
  {peers} initiations, past the 20 ms flood check), keeping {window} unanswered, below the 128 queued handshakes from
  which a responder is under load and answers with cookies; so this is the DH work of b's handshake workers, not its
  defences. Counted: responses (matched by index, not decrypted) per second over {hs_s} s after {hs_warm} s.
- **mac1-invalid dropped/s**: `BadMac1Flood` sends the same initiations with a bit of mac1 flipped, as fast as one
  thread can, for {mac1_s} s; figure = (sent − b's UDP receive-buffer drops − input backlog drops) / duration: the
  datagrams b's daemon took off its socket and dropped (at the mac1 check, or when its handshake queue was full).
  The flooder shares the 2 cores with the daemon: its send rate is in results.json (`x_mac1_sent_per_s`); it
  always exceeded what the daemon took in (receive-buffer drops > 0), and b's UDP `InDatagrams` agrees
  (`x_mac1_in_datagrams_per_s`).
- **CPU per GB**: utime + stime of both daemons (`/proc/PID/stat`) over the 1-stream a → b run, over the GB iperf3
  received.
- **RSS**: `VmRSS` of the daemon processes: idle 1 s after the first handshake; peak sampled every 250 ms during the
  TCP runs; b after `wg addconf` of {peers} peers (distinct keys, one /32 each) and 1 s.
"""


def number(text):
    return float(text)


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def figures(raw):
    """{figure: {impl: [(round, value)]}} from figures.tsv."""
    out = {}
    for r, impl, key, value in read_tsv(os.path.join(raw, "figures.tsv")):
        out.setdefault(key, {}).setdefault(impl, []).append((int(r), number(value)))
    return out


def summary(samples):
    values = [v for _, v in samples]
    if not values:
        return {"values": [], "median": None, "min": None, "max": None}
    return {"values": [{"round": r, "value": v} for r, v in samples], "median": statistics.median(values),
            "min": min(values), "max": max(values)}


def tool_outputs(raw, impls):
    """Every tool's JSON output: {round: {impl: {name: object}}}."""
    out = {}
    # Longest name first, so jwg-before's files are not taken for jwg's.
    names = "|".join(re.escape(i) for i in sorted(impls, key=len, reverse=True))
    for path in sorted(glob.glob(os.path.join(raw, "r*-*.json"))):
        m = re.match(rf"r(\d+)-({names})-(.+)\.json$", os.path.basename(path))
        if m:
            with open(path) as f:
                try:
                    data = json.load(f)
                except json.JSONDecodeError:
                    continue
            if isinstance(data, dict) and "intervals" in data:
                # iperf3's output: its per-second intervals are most of its size and none of the figures.
                data = {"start": data.get("start"), "end": data.get("end")}
            out.setdefault(m.group(1), {}).setdefault(m.group(2), {})[m.group(3)] = data
    return out


def noise_marks(raw):
    marks = {}
    for label, wall, cpu, ours, load in read_tsv(os.path.join(raw, "noise.tsv")):
        jiffies = [int(x) for x in cpu.split()]
        marks[label] = {"wall_s": int(wall) / 1e9, "cpu": jiffies,
                        "ours_s": int(ours) / 1e9 if int(ours) >= 0 else None, "load": [float(x) for x in load.split()]}
    return marks


def interval(start, end, clk_tck):
    """CPU use between two marks: /proc/stat's user, nice, system, idle, iowait, irq, softirq, steal (jiffies)."""
    d = [b - a for a, b in zip(start["cpu"], end["cpu"])]
    wall = end["wall_s"] - start["wall_s"]
    busy = (d[0] + d[1] + d[2]) / clk_tck
    total = sum(d[:8]) or 1
    result = {"seconds": round(wall, 1), "machine_user_system_cores": round(busy / wall, 2) if wall else None,
              "softirq_cores": round(d[6] / clk_tck / wall, 2) if wall else None,
              "steal_percent": round(100 * d[7] / total, 2), "load1_start": start["load"][0],
              "load1_end": end["load"][0]}
    if start["ours_s"] is not None and end["ours_s"] is not None and wall:
        ours = end["ours_s"] - start["ours_s"]
        result["harness_cores"] = round(ours / wall, 2)
        result["other_cores"] = round(max(0.0, busy - ours) / wall, 2)
    return result


def other_processes(raw):
    """The busiest processes outside the harness between the run's two snapshots (CPU seconds, by command)."""
    try:
        with open(os.path.join(raw, "cpu-start.json")) as f:
            start = json.load(f)
        with open(os.path.join(raw, "cpu-end.json")) as f:
            end = json.load(f)
    except (OSError, json.JSONDecodeError):
        return []
    before = {(p["pid"], p["start"]): p["ticks"] for p in start["processes"]}
    by_comm = {}
    for p in end["processes"]:
        if p["ours"]:
            continue
        used = p["ticks"] - before.get((p["pid"], p["start"]), 0)
        if used > 0:
            by_comm[p["comm"]] = by_comm.get(p["comm"], 0) + used / end["clk_tck"]
    return [{"command": c, "cpu_s": round(s, 1)} for c, s in sorted(by_comm.items(), key=lambda x: -x[1])[:6]]


def noise(raw, machine):
    marks = noise_marks(raw)
    clk = os.sysconf("SC_CLK_TCK")
    result = {"run": None, "per_round": [], "other_processes": other_processes(raw)}
    if "run-start" in marks and "run-end" in marks:
        result["run"] = interval(marks["run-start"], marks["run-end"], clk)
        result["run"]["load_start"] = marks["run-start"]["load"]
        result["run"]["load_end"] = marks["run-end"]["load"]
    for label in marks:
        m = re.match(r"start (\d+) (.+)$", label)
        if m and f"end {m.group(1)} {m.group(2)}" in marks:
            row = interval(marks[label], marks[f"end {m.group(1)} {m.group(2)}"], clk)
            result["per_round"].append(dict({"round": int(m.group(1)), "impl": m.group(2)}, **row))
    return result


def spreads(table, impls):
    """Per implementation: (max − min) / median of each figure with more than one sample."""
    out = {}
    for impl in impls:
        rel = {}
        for key, entry in table.items():
            s = entry.get(impl, {})
            if len(s.get("values", [])) > 1 and s["median"]:
                rel[key] = (s["max"] - s["min"]) / abs(s["median"])
        out[impl] = rel
    return out


def noise_statement(n, machine, spread):
    parts = []
    run = n["run"]
    if run:
        parts.append(f"Load average (1/5/15 min) {' / '.join(map(str, run['load_start']))} before the run, "
                     f"{' / '.join(map(str, run['load_end']))} after, on {machine.get('nproc', '?')} cores.")
        if "other_cores" in run:
            per = [f"round {r['round']} {r['impl']} {r['other_cores']:.2f}"
                   for r in n["per_round"] if "other_cores" in r]
            rng = f" (per implementation and round: {', '.join(per)})" if per else ""
            parts.append(f"Over the run's {run['seconds']:.0f} s, processes other than this harness used "
                         f"{run['other_cores']:.2f} cores on average{rng}, this harness {run['harness_cores']:.2f} "
                         f"(daemons, tools, iperf3); softirq {run['softirq_cores']:.2f} cores; steal "
                         f"{run['steal_percent']:.2f} % of CPU time.")
        else:
            parts.append(f"Over the run's {run['seconds']:.0f} s the machine's user+system CPU averaged "
                         f"{run['machine_user_system_cores']:.2f} cores (no cpuacct cgroup: the harness's own share "
                         f"is not separated); steal {run['steal_percent']:.2f} % of CPU time.")
    others = [p for p in n["other_processes"] if p["cpu_s"] >= 1]
    if others:
        parts.append("Busiest other processes (CPU s, alive at the end of the run): "
                     + ", ".join(f"{p['command']} {p['cpu_s']:.0f}" for p in others) + ".")
    for impl in spread:
        rel = spread.get(impl, {})
        if rel and int(machine.get("rounds", 1)) > 1:
            widest = max(rel, key=rel.get)
            parts.append(f"Spread across rounds for {impl}: median (max − min) / median over the figures "
                         f"{100 * statistics.median(rel.values()):.0f} %, widest {widest} "
                         f"{100 * rel[widest]:.0f} %.")
    if int(machine.get("rounds", 1)) < 2:
        parts.append("One round only: no spread across rounds.")
    return " ".join(parts)


def ratio(table_entry, a, b):
    x, y = table_entry.get(a, {}).get("median"), table_entry.get(b, {}).get("median")
    return x / y if x is not None and y else None


def markdown(machine, table, n, spread, failed):
    params = label_params(machine)
    impls = implementations(machine)
    extras = impls[len(IMPLS):]
    cols = ratio_columns(machine)
    title = "jwg against wireguard-go" + "".join(f", {i}" for i in extras[:-1]) + \
        (f" and {extras[-1]}" if extras else "")
    also = "".join(f"; {i} `{machine.get('also:' + i)}`"
                   + (f" at {machine['also:' + i + ':describe']}" if f"also:{i}:describe" in machine else "")
                   for i in extras)
    lines = [f"# {title}: `bench/compare`, {machine.get('mode')} mode, {machine.get('rounds')} round(s)", "",
             f"{machine.get('date')}; jwg {machine.get('jwg')}; {machine.get('wireguard-go')}{also}; "
             f"{machine.get('jdk')}; kernel {machine.get('kernel')}; {machine.get('nproc')} cores "
             f"({machine.get('cpu')}{'; ' + machine['cpu_flags'] if machine.get('cpu_flags') else ''}); "
             f"{machine.get('iperf3')}. Both ends of the tunnel run the implementation named; "
             f"medians over rounds.",
             "",
             "| figure | " + " | ".join(f"{i} (median)" for i in impls) + " | "
             + " | ".join(f"{a} / {b}" for a, b in cols) + " | "
             + " | ".join(f"{i} spread (min–max)" for i in impls) + " |",
             "|" + " --- |" * (1 + 2 * len(impls) + len(cols))]
    for key, label, unit, higher in FIGURES:
        e = table.get(key, {})
        cells = [f"{label.format(**params)}, {unit} {'↑' if higher else '↓'}"]
        cells += [fmt(e.get(i, {}).get("median")) for i in impls]
        for a, b in cols:
            r = ratio(e, a, b)
            cells.append("—" if r is None else f"{r:.2f}")
        cells += [f"{fmt(e.get(i, {}).get('min'))}–{fmt(e.get(i, {}).get('max'))}" for i in impls]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "↑ higher is better, ↓ lower is better.", "",
              "**How noisy the machine was.** " + noise_statement(n, machine, spread), ""]
    if failed:
        lines += ["**Failed measurements** (their figures are missing): "
                  + "; ".join(f"round {r} {impl}: {what}" for r, impl, what in failed) + ".", ""]
    definitions = DEFINITIONS.format(**params)
    if extras:
        commands = ["`bin/jwg`", "`wireguard-go`"] + [f"`{machine.get('also:' + i)}`" for i in extras]
        definitions = definitions.replace(
            "(`bin/jwg` or `wireguard-go`); both return once the TUN device and\n  `/var/run/wireguard/IFNAME.sock`",
            f"({', '.join(commands[:-1])} or {commands[-1]});\n  all return once the TUN device and "
            "`/var/run/wireguard/IFNAME.sock`")
    lines += ["**What each figure is.**", "", definitions]
    return "\n".join(lines)


def label_params(machine):
    """The run's parameters (machine.tsv's params line), for the labels and definitions; "?" where missing."""
    d = dict(re.findall(r"(\w+)=(\S+)", machine.get("params", "")))
    names = ["payload", "loss", "window", "rate", "lat_s", "tcp_s", "tcp_warm_s", "udp_s", "udp_steps", "hs_s",
             "hs_warm", "mac1_s"]
    return dict({k: d.get(k, "?") for k in names}, peers=machine.get("peers", "?"))


def main():
    raw, out = sys.argv[1], sys.argv[2]
    machine = {k: v for k, v in read_tsv(os.path.join(raw, "machine.tsv"))}
    data = figures(raw)
    impls = implementations(machine)
    table = {}
    for key, label, unit, higher in FIGURES:
        entry = {"label": label.format(**label_params(machine)), "unit": unit, "higher_is_better": higher}
        for impl in impls:
            entry[impl] = summary(data.get(key, {}).get(impl, []))
        entry["ratio"] = ratio(entry, "jwg", BASE)
        if len(impls) > len(IMPLS):
            # With --also, every ratio of the table by "A / B"; "ratio" stays jwg / wireguard-go, as without.
            entry["ratios"] = {f"{a} / {b}": ratio(entry, a, b) for a, b in ratio_columns(machine)}
        table[key] = entry
    extra = {k: {impl: summary(v).get("values") for impl, v in per.items()}
             for k, per in data.items() if k.startswith("x_")}
    n = noise(raw, machine)
    if n["run"]:
        machine["load_average_before"] = n["run"]["load_start"]
        machine["load_average_after"] = n["run"]["load_end"]
    spread = spreads(table, impls)
    n["spread_across_rounds"] = {impl: {k: round(v, 3) for k, v in rel.items()} for impl, rel in spread.items()}
    failed = read_tsv(os.path.join(raw, "failed.tsv"))
    fixture = None
    if os.path.exists(os.path.join(raw, "fixture", "made.json")):
        with open(os.path.join(raw, "fixture", "made.json")) as f:
            fixture = json.load(f)
    result = {"machine": machine, "figures": table, "extra": extra, "noise": n,
              "failed": [{"round": int(r), "impl": i, "what": w} for r, i, w in failed],
              "handshake_fixture": fixture, "tools": tool_outputs(raw, impls)}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(markdown(machine, table, n, spread, failed))


if __name__ == "__main__":
    main()
