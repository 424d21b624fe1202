#!/usr/bin/env python3
"""Autobahn TestSuite results as a Markdown table: per case group, how many
cases each class got OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED or FAILED,
in the server role (fuzzingclient) and the client role (fuzzingserver).

Usage: report.py OUT_DIR TABLE.md OUR_AGENT [ENGINE_AGENT]
Exits non-zero when OUR_AGENT failed any case, ran fewer cases than the
suite has, or was NON-STRICT in a case ENGINE_AGENT (default WebSocketPeer,
the engine's class) got OK, in either role.
"""
import json
import os
import sys

GROUPS = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 handling",
    "7": "Close handling",
    "9": "Limits/performance",
    "10": "Misc",
    "12": "Compression (payloads)",
    "13": "Compression (parameters)",
}
ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
# Used only for a role in which the engine's class has no results: the
# NON-STRICT cases allowed then. In each, the suite sends a valid message
# just before a bad frame, and whether the game's echo of it leaves before
# the close depends on how the frames fall into the game's polls; the
# engine's class was NON-STRICT in these in its own runs (docs/autobahn.md).
# Anything NON-STRICT outside them fails.
NON_STRICT_ALLOWED = {"3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15"}
ROLES = [("server-role", "server (wstest -m fuzzingclient)"), ("client-role", "client (wstest -m fuzzingserver)")]


def verdict(result):
    behavior, close = result.get("behavior", "FAILED"), result.get("behaviorClose", "FAILED")
    if "FAILED" in (behavior, close):
        return "FAILED"
    return behavior


def load(out, role):
    """Results of every agent in `role` (one wstest output folder each)."""
    merged = {}
    for name in sorted(os.listdir(out)):
        if not name.startswith(role + "-"):
            continue
        try:
            with open(os.path.join(out, name, "index.json")) as f:
                merged.update(json.load(f))
        except (OSError, ValueError):
            pass
    return merged


def summary(counts):
    parts = [f"{k} {counts[k]}" for k in ORDER if counts.get(k)]
    return " · ".join(parts) if parts else "not run"


def main():
    out, table, ours = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = sys.argv[4] if len(sys.argv) > 4 else "WebSocketPeer"
    results = {role: load(out, role) for role, _ in ROLES}
    agents = sorted({a for r in results.values() for a in r}, key=lambda a: (a != ours, a))
    all_cases = sorted({c for r in results.values() for a in r.values() for c in a},
                       key=lambda c: [int(x) for x in c.split(".")])
    lines = [
        "# Autobahn TestSuite results",
        "",
        "All cases of the Autobahn TestSuite (`wstest` 25.10.1, the suite tungstenite, "
        "Node `ws` and Python `websockets` publish results for), run by "
        "`tests/autobahn/run.sh` as part of `tests/run.sh`: RustWebSocketPeer with "
        "`compression_enabled` on, and the engine's WebSocketPeer the same way beside it. "
        "The run fails on any FAILED case of RustWebSocketPeer, and on any case "
        "where it is NON-STRICT and WebSocketPeer is OK.",
        "",
        "Counts per case group; UNIMPLEMENTED means the extension was not agreed "
        "(the engine's class has no permessage-deflate). NON-STRICT cases are "
        "accepted by the suite: in 3.x, 4.x and 5.15 a valid message comes just "
        "before the bad frame and the link closes before the game's echo of it "
        "(RustWebSocketPeer delivers the message on that poll and fails the link "
        "at the next one, after the echo left). "
        "Both roles ran at once, in 18 to 19 minutes each on 2 cores, nearly all of it in the Python "
        "`wstest` compressing and checking cases 12 and 13.",
        "",
    ]
    failed = []
    for role, title in ROLES:
        lines += [f"## As {title}", "", "| group | cases | " + " | ".join(agents) + " |",
                  "| --- | ---: | " + " | ".join("---" for _ in agents) + " |"]
        by_agent = results[role]
        for group, name in GROUPS.items():
            cases = [c for c in all_cases if c.split(".")[0] == group]
            cells = []
            for agent in agents:
                counts = {}
                for c in cases:
                    if c in by_agent.get(agent, {}):
                        v = verdict(by_agent[agent][c])
                        counts[v] = counts.get(v, 0) + 1
                cells.append(summary(counts))
            lines.append(f"| {group} {name} | {len(cases)} | " + " | ".join(cells) + " |")
        total = {a: len(by_agent.get(a, {})) for a in agents}
        lines.append("| all | %d | %s |" % (len(all_cases), " | ".join(f"{total[a]} run" for a in agents)))
        lines.append("")
        mine = by_agent.get(ours, {})
        bad = [c for c, r in mine.items() if verdict(r) == "FAILED"]
        if bad:
            failed.append(f"{role}: FAILED {', '.join(sorted(bad))}")
        theirs = by_agent.get(engine, {})
        loose = []
        for c, r in mine.items():
            if verdict(r) in ("OK", "INFORMATIONAL", "FAILED"):
                continue
            if theirs:
                if c in theirs and verdict(theirs[c]) == "OK":
                    loose.append(c)
            elif c not in NON_STRICT_ALLOWED:
                loose.append(c)
        if loose:
            key = lambda c: [int(x) for x in c.split(".")]
            failed.append(f"{role}: NON-STRICT where {engine} is OK (or, without its results, "
                          f"outside the allowed list): {', '.join(sorted(loose, key=key))}")
        if len(mine) < len(all_cases) or not mine:
            failed.append(f"{role}: {len(mine)} of {len(all_cases)} cases ran")
    with open(table, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    for line in failed:
        print("autobahn:", line, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
