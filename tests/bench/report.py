#!/usr/bin/env python3
"""Turns the JSON lines of bench.gd runs and the floor example into
docs/benchmarks.md (medians and ratios) and docs/benchmarks.png (a chart).

Usage: report.py RESULTS.jsonl MACHINE GODOT_VERSION OUT_DIR
"""
import json
import statistics
import sys
from collections import defaultdict

ENGINE, OURS = "WebSocketPeer", "RustWebSocketPeer"
MP_ENGINE, MP_OURS = "WebSocketMultiplayerPeer", "RustWebSocketMultiplayerPeer"
# (bench, what it measures, higher is better, target ratio): peer classes
ROWS = [
    ("small_echo", "32-byte echo, 256 outstanding", True, 5.0),
    ("small_echo_wss", "32-byte echo over wss://", True, 5.0),
    ("bulk", "1 MiB messages one way, ws://", True, 6.0),
    ("bulk_wss", "1 MiB messages one way, wss://", True, 4.0),
    ("latency", "32-byte ping-pong, median", False, 0.8),
    ("many_links_memory", "resident memory per idle peer", False, 0.5),
    ("many_links_poll", "poll() sweep per idle peer", False, 0.5),
    ("bulk_deep", "1 MiB messages, 64 MiB buffers, 8 in flight", True, None),
]
# Absolute targets (not ratios): bench -> (MiB/s at least, what).
BULK_DEEP_TARGET = 2048.0
# The same for the multiplayer classes.
MP_ROWS = [
    ("mp_small", "32-byte packets, client to server and back", True, 10.0),
    ("mp_small_wss", "32-byte packets over wss://", True, 10.0),
    ("mp_bulk", "1 MiB packets one way, ws://", True, 5.0),
    ("mp_bulk_wss", "1 MiB packets one way, wss://", True, 4.0),
    ("mp_rpc", "reliable RPCs through SceneMultiplayer, 4 clients", True, None),
    ("mp_call_cost", "one call of a method that does nothing (get_transfer_channel)", False, None),
    ("mp_idle_poll_1000", "server poll() per idle client, 1,000 clients", False, 0.3),
    ("mp_idle_memory_1000", "memory per client, 1,000 clients", False, None),
    ("mp_idle_poll_10000", "server poll() per idle client, 10,000 clients", False, 0.3),
    ("mp_idle_memory_10000", "memory per client, 10,000 clients", False, None),
]


def main():
    path, machine, godot, out = sys.argv[1:5]
    values = defaultdict(list)
    units = {}
    extra = defaultdict(list)
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = (d["bench"], d["class"])
        values[key].append(float(d["value"]))
        units[d["bench"]] = d["unit"]
        if "p99" in d:
            extra[(d["bench"] + "_p99", d["class"])].append(float(d["p99"]))
        if "links" in d:
            extra[(d["bench"] + "_links", d["class"])].append(float(d["links"]))
    med = {k: statistics.median(v) for k, v in values.items()}
    runs = max((len(v) for v in values.values()), default=0)

    lines = [
        "# Benchmarks: RustWebSocketPeer beside the engine's WebSocketPeer",
        "",
        f"Machine: {machine}. Godot: {godot}. Medians of {runs} runs of `tests/bench.sh`;",
        "both classes ran the same GDScript workload in the same Godot binary and run: the rates in one process,",
        "each memory measurement (idle links, compression) in a fresh process per class, so no class reuses",
        "memory another one freed.",
        "Ratio = ours / engine's (higher is better for rates, lower for time and memory).",
        "",
        "| workload | unit | WebSocketPeer | RustWebSocketPeer | ratio | target | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    chart = []

    def table(rows, engine, ours):
        for bench, what, higher, target in rows:
            e, o = med.get((bench, engine)), med.get((bench, ours))
            if e is None or o is None:
                continue
            ratio = o / e if e else float("inf")
            if target is None:
                lines.append(f"| {what} | {units[bench]} | {e:,.1f} | {o:,.1f} | {ratio:.2f} | | |")
                continue
            met = ratio >= target if higher else ratio <= target
            sign = ">=" if higher else "<="
            lines.append(f"| {what} | {units[bench]} | {e:,.1f} | {o:,.1f} | {ratio:.2f} | {sign} {target} | {'yes' if met else 'no'} |")
            chart.append((what if engine == ENGINE else f"multiplayer: {what}", ratio, target, higher))

    table(ROWS, ENGINE, OURS)
    p99e, p99o = med.get(("latency", ENGINE)), None
    e99 = extra.get(("latency_p99", ENGINE))
    o99 = extra.get(("latency_p99", OURS))
    if e99 and o99:
        e, o = statistics.median(e99), statistics.median(o99)
        lines.append(f"| 32-byte ping-pong, p99 | us | {e:,.1f} | {o:,.1f} | {o / e:.2f} | | |")
    links = extra.get(("many_links_memory_links", OURS))
    if links:
        lines.append("")
        lines.append(
            f"Links: {int(statistics.median(links))} server-side peers in the measuring process, their clients in a second "
            "Godot process. Memory is resident memory per server-side peer; the sweep is one `poll()` of every "
            "server-side peer, timed once per 16 ms frame after the links were idle for 0.3 s, as in a running game."
        )
    echo = med.get(("many_links_echo", OURS))
    if echo:
        lines.append(f"Links that echoed a message afterwards: {int(echo)}.")
    if any(k[1] == MP_OURS for k in med):
        lines += ["", "## RustWebSocketMultiplayerPeer beside WebSocketMultiplayerPeer", "",
                  "A server and its clients in one process, driven at the MultiplayerPeer level (`set_target_peer`, "
                  "`put_packet`, `poll`, `get_packet`); RPCs through SceneMultiplayer; idle clients in a second process.", "",
                  "| workload | unit | WebSocketMultiplayerPeer | RustWebSocketMultiplayerPeer | ratio | target | met |",
                  "| --- | --- | ---: | ---: | ---: | ---: | :---: |"]
        table(MP_ROWS, MP_ENGINE, MP_OURS)
        call = med.get(("mp_call_cost", MP_OURS))
        engine_call = med.get(("mp_call_cost", MP_ENGINE))
        if call and engine_call:
            lines.append("")
            lines.append(
                f"What a call costs: a call of RustWebSocketMultiplayerPeer's engine virtual methods costs "
                f"{call:.2f} us even when it does nothing (godot-rust binds the object through its thread-safe cell; "
                f"the engine's C++ class: {engine_call:.2f} us). SceneMultiplayer reaches the peer only through those "
                f"virtuals, so RPCs pay it. The packet workloads call the peer from GDScript, where its per-packet "
                f"methods (`put_packet`, `get_packet`, `get_available_packet_count`, `get_packet_peer`, "
                f"`set_target_peer`) are bound directly and do not.")
        bound = med.get(("mp_rpc", "loopback (no I/O)"))
        ours_rpc = med.get(("mp_rpc", MP_OURS))
        if bound and ours_rpc:
            lines.append("")
            lines.append(
                f"SceneMultiplayer's own cost bounds RPCs: over a MultiplayerPeer that does no I/O (a loopback peer in "
                f"GDScript) it runs {bound:,.0f} RPC/s; RustWebSocketMultiplayerPeer reaches {100 * ours_rpc / bound:.0f}% of that.")
        echo = med.get(("mp_idle_echo_10000", MP_OURS))
        if echo:
            lines.append(f"Clients of RustWebSocketMultiplayerPeer that exchanged a message with 10,000 connected: {int(echo)}.")
    comp = {k[1]: v for k, v in med.items() if k[0] in ("json_stream", "json_wire", "compression_memory")}
    if comp:
        lines += ["", "## Compression (permessage-deflate)", "",
                  "A game-state stream of 2 KB JSON messages, client to server, RustWebSocketPeer with "
                  "compression off and on (the engine's class has none); memory per peer after 1,000 links each "
                  "exchanged a few such messages and went idle.", "",
                  "| measure | unit | value |", "| --- | --- | ---: |"]
        for (bench, who), v in sorted(med.items()):
            if bench in ("json_stream", "json_wire", "compression_memory"):
                lines.append(f"| {bench}: {who} | {units[bench]} | {v:,.1f} |")
    floor = [(k, v) for k, v in med.items()
             if k[1] not in (ENGINE, OURS, MP_ENGINE, MP_OURS, "loopback (no I/O)")
             and k[0] not in ("json_stream", "json_wire", "compression_memory")]
    if floor:
        lines += ["", "## Floor and ceiling", "", "| workload | implementation | value | unit |", "| --- | --- | ---: | --- |"]
        for (bench, who), v in sorted(floor):
            lines.append(f"| {bench} | {who} | {v:,.1f} | {units[bench]} |")
        ours_bulk, tung_bulk = med.get(("bulk", OURS)), med.get(("bulk", "tungstenite (Rust, one thread)"))
        if ours_bulk and tung_bulk:
            lines.append("")
            lines.append(f"Bulk over ws:// reaches {100 * ours_bulk / tung_bulk:.0f}% of tungstenite's own throughput (target: 40%).")
        deep = med.get(("bulk_deep", OURS))
        if deep:
            lines.append("")
            lines.append(
                f"Bulk with deep queues (64 MiB buffers, 8 x 1 MiB in flight): RustWebSocketPeer {deep:,.0f} MiB/s "
                f"(target {BULK_DEEP_TARGET:,.0f} MiB/s: {'met' if deep >= BULK_DEEP_TARGET else 'not met'}); the raw TCP "
                "floor of this machine is in the table above.")
        ceiling = med.get(("tls_ceiling", "StreamPeerTLS read, sender in another process"))
        ours_wss, engine_wss = med.get(("bulk_wss", OURS)), med.get(("bulk_wss", ENGINE))
        if ceiling and ours_wss and engine_wss:
            lines.append("")
            lines.append(
                "The server side of bulk over wss:// is the engine's StreamPeerTLS for both classes (accept_stream is handed "
                "one). Read alone, with the sender in another process on the other core, it delivers "
                f"{ceiling:,.1f} MiB/s; RustWebSocketPeer's bulk over wss:// reaches {100 * ours_wss / ceiling:.0f}% of that "
                "while its client side and the WebSocket framing share the same core (target: 90% of the ceiling, "
                f"{'met' if ours_wss >= 0.9 * ceiling else 'not met'})."
            )
    open(f"{out}/benchmarks.md", "w").write("\n".join(lines) + "\n")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(10, 5))
    names = [c[0] for c in chart]
    ratios = [c[1] for c in chart]
    colors = ["#2a9d8f" if (c[1] >= c[2] if c[3] else c[1] <= c[2]) else "#e76f51" for c in chart]
    ax.barh(names, ratios, color=colors)
    for i, c in enumerate(chart):
        ax.plot([c[2], c[2]], [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("ours / the engine's class, same run (black mark: target; green: met)")
    ax.invert_yaxis()
    ax.set_title(f"Ours vs the engine's WebSocket classes ({godot})", fontsize=10)
    fig.tight_layout()
    fig.savefig(f"{out}/benchmarks.png", dpi=110)


if __name__ == "__main__":
    main()
