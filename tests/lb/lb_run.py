#!/usr/bin/env python3
"""Many game servers behind a real load balancer (run by run_lb.sh).

HAProxy (configured from haproxy.cfg, the README's copy) in front of three
headless Godot processes running lb_server.gd (the RustWebSocketServer
node; with --server multiplayer, lb_server_mp.gd: RustWebSocketMultiplayerPeer),
and CLIENTS RustWebSocketClient nodes (lb_clients.gd) connecting through it. HAProxy sends the PROXY protocol
v2 and health-checks each server's game port, from its own loopback address
(SOURCE), so that the servers could tell it from the clients (127.0.0.1).

Checks, in order, each printed with its figures; any one failing fails the run:
  1. every client connects; the servers see 127.0.0.1, never SOURCE;
  2. game1 drains: HAProxy marks it down by its health path (503), its clients
     are closed with 1012 and are back on the others within 5 s, it says it
     drained; it is started again and marked up;
  3. game2 is killed (SIGKILL): HAProxy marks it down by the health check,
     its clients are back on the others within 5 s;
  4. game2 is started again: HAProxy marks it up, new clients land on it;
  5. across all servers, no message arrived twice, and every message a
     client sent after it noticed a close arrived; none was lost but those
     a client of the drained or killed server sent just before it noticed
     the close (counted and printed).
"""
import argparse
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = "127.0.0.9"
CLIENT_ADDRESS = "127.0.0.1"
BACK_WITHIN = 5.0
DURING_DRAIN = 6  # nginx: new clients while a server drains
failures = []
children = []  # every process started here, ended at the end


def start(cmd, out_path):
    proc = subprocess.Popen(cmd, stdout=open(out_path, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    children.append(proc)
    return proc


def check(ok, what):
    print(("ok: " if ok else "FAILED: ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def say(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds, step=0.05):
    """Calls condition() until it is true or `seconds` passed; returns it."""
    end = time.time() + seconds
    while True:
        result = condition()
        if result or time.time() > end:
            return result
        time.sleep(step)


def fill(template, values):
    for key, value in values.items():
        template = template.replace("{{%s}}" % key, value)
    return template


class Server:
    """One game server process; restarted on the same port."""

    def __init__(self, name, args, work):
        self.name, self.args, self.work = name, args, work
        self.port = free_port()
        self.instance = 0
        self.proc = None
        self.records = []
        self.control = os.path.join(work, name + ".ctl")

    def start(self):
        self.instance += 1
        record = os.path.join(self.work, "%s-%d.rec" % (self.name, self.instance))
        self.records.append(record)
        open(self.control, "w").close()
        out_path = os.path.join(self.work, "%s-%d.out" % (self.name, self.instance))
        self.proc = start(server_command(self.args, self.name, self.port, record, self.control), out_path)
        said = wait_for(lambda: "PORT %d" % self.port in open(out_path).read() or self.proc.poll() is not None, 30)
        if not said or self.proc.poll() is not None:
            say(open(out_path).read()[-3000:])
            raise SystemExit("FAILED: %s did not start listening on port %d" % (self.name, self.port))

    def command(self, line):
        with open(self.control, "a") as f:
            f.write(line + "\n")

    def lines(self, kind):
        """The RECORD lines of this kind, of every instance, split."""
        out = []
        for path in self.records:
            with open(path) as f:
                out += [line.split() for line in f if line.startswith(kind + " ")]
        return out


def server_command(args, name, port, record, control):
    mode = ["xff"] if args.balancer == "nginx" else []
    if args.server_command:  # a stand-in server, for working on this test
        return args.server_command.split() + [name, str(port), record, control, SOURCE] + mode
    script = {"node": "lb_server.gd", "multiplayer": "lb_server_mp.gd"}[args.server]
    return [args.godot, "--headless", "--path", args.project, "--script", "res://" + script,
            "--", name, str(port), record, control, SOURCE] + mode


class HAProxy:
    def __init__(self, args, work, servers):
        # A short path: a Unix socket's name has a length limit.
        self.socket_path = os.path.join(args.socket_dir, "stats.sock")
        self.port = free_port()
        with open(os.path.join(HERE, "haproxy.cfg")) as f:
            self.template = f.read()
        values = {"stats_socket": self.socket_path, "listen": "127.0.0.1:%d" % self.port, "source": SOURCE}
        for i, server in enumerate(servers):
            values["server%d" % (i + 1)] = "127.0.0.1:%d" % server.port
        config = os.path.join(work, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(fill(self.template, values))
        self.out = os.path.join(work, "haproxy.out")
        self.proc = start([args.haproxy, "-db", "-f", config], self.out)
        if not wait_for(lambda: os.path.exists(self.socket_path) or self.proc.poll() is not None, 10) \
                or self.proc.poll() is not None:
            say(open(self.out).read())
            raise SystemExit("FAILED: HAProxy did not start")

    def stats(self):
        """{server: (status, check_status, check_code)} from the stats socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(self.socket_path)
                s.sendall(b"show stat\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return {}
        lines = data.decode().splitlines()
        if not lines or not lines[0].startswith("# "):
            return {}
        head = lines[0][2:].split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "game_servers" and row.get("svname", "").startswith("game"):
                out[row["svname"]] = (row["status"], row["check_status"], row["check_code"])
        return out

    def wait_status(self, name, wanted, seconds):
        """Seconds until HAProxy shows server `name` as `wanted` (None when
        it did not), and its status, check status and code then. "UP" is
        up by a passed check ("UP 1/2" is on the way down); "DOWN" includes
        "DOWN 1/2" (down, one check passed)."""
        def seen():
            row = self.stats().get(name)
            if not row:
                return None
            if wanted == "UP":
                return row if row[0] == "UP" and row[1].startswith("L7OK") else None
            return row if row[0].startswith(wanted) else None
        started = time.time()
        seen = wait_for(seen, seconds)
        if not seen:
            return None, self.stats().get(name)
        return time.time() - started, seen


class Nginx:
    """nginx in http mode (nginx.conf, the README's copy, inside an http
    block of its own: prefix, pid, logs and temp paths in the work dir)."""

    def __init__(self, args, work, servers):
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf")) as f:
            self.template = f.read()
        values = {"listen": "127.0.0.1:%d" % self.port, "source": SOURCE}
        for i, server in enumerate(servers):
            values["server%d" % (i + 1)] = "127.0.0.1:%d" % server.port
        prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(prefix, "logs"))
        with open(os.path.join(prefix, "game.conf"), "w") as f:
            f.write(fill(self.template, values))
        temp = "".join("    %s_temp_path %s;\n" % (kind, os.path.join(prefix, kind))
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        config = os.path.join(prefix, "nginx.conf")
        with open(config, "w") as f:
            f.write("daemon off;\nworker_processes 1;\npid %s;\nerror_log %s warn;\n"
                    "events { worker_connections 4096; }\nhttp {\n    log_format upstreams '$upstream_status';\n"
                    "    access_log %s upstreams;\n%s"
                    "    include %s;\n}\n" % (os.path.join(prefix, "nginx.pid"), os.path.join(prefix, "error.log"),
                                             os.path.join(prefix, "access.log"), temp, os.path.join(prefix, "game.conf")))
        self.access_log = os.path.join(prefix, "access.log")
        self.out = os.path.join(work, "nginx.out")
        self.proc = start([args.nginx, "-p", prefix, "-c", config, "-e", os.path.join(prefix, "error.log")], self.out)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return self.proc.poll() is not None
        if not wait_for(listening, 10) or self.proc.poll() is not None:
            say(open(self.out).read())
            raise SystemExit("FAILED: nginx did not start")


class Clients:
    """The client process and what its EVENTS file said so far."""

    def __init__(self, args, work, url):
        self.events_path = os.path.join(work, "clients.events")
        self.control = os.path.join(work, "clients.ctl")
        open(self.control, "w").close()
        self.out = os.path.join(work, "clients.out")
        cmd = [args.godot, "--headless", "--path", args.project, "--script",
               "res://lb_clients.gd", "--", url, str(args.clients), self.events_path, self.control,
               str(args.interval_ms)]
        self.proc = start(cmd, self.out)
        self.offset = 0
        self.server = {}  # client -> the server that greeted it last (None after a close)
        self.greetings = []  # (time, client, server)
        self.closes = []  # (time, client, code, seq)
        self.marks = collections.defaultdict(dict)  # tag -> client -> seq
        self.final = {}  # client -> numbers sent
        self.problems = []  # messages dropped, or refused while a client was away
        self.refused_open = []  # refused while a client's link was (as far as it knew) open

    def read(self):
        with open(self.events_path) if os.path.exists(self.events_path) else open(os.devnull) as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind("\n") + 1
        self.offset += len(data[:end].encode())
        for line in data[:end].splitlines():
            w = line.split()
            if w[0] == "W":
                self.greetings.append((float(w[1]), w[2], w[3]))
                self.server[w[2]] = w[3]
            elif w[0] == "X":
                self.closes.append((float(w[1]), w[2], int(w[3]), int(w[4])))
                self.server[w[2]] = None
            elif w[0] == "K":
                self.marks[w[1]][w[2]] = int(w[3])
            elif w[0] == "F":
                self.final[w[1]] = int(w[2])
            elif w[0] == "E" and w[5] == "open":
                self.refused_open.append(line)
            else:
                self.problems.append(line)

    def command(self, line):
        with open(self.control, "a") as f:
            f.write(line + "\n")

    def on(self, server):
        self.read()
        return sorted(c for c, s in self.server.items() if s == server)

    def counts(self):
        self.read()
        return dict(sorted(collections.Counter(s for s in self.server.values()).items(), key=str))

    def alive(self):
        return self.proc.poll() is None


def moved(clients, group, left, since, seconds):
    """Waits until every client of `group` noticed a close after `since` and
    was greeted by a server other than `left` after that. Returns
    {client: (close time, close code, greeted time, new server)}."""
    def state():
        clients.read()
        out = {}
        for c in group:
            closed = [x for x in clients.closes if x[1] == c and x[0] >= since]
            if not closed:
                continue
            back = [g for g in clients.greetings if g[1] == c and g[0] >= closed[0][0] and g[2] != left]
            if back:
                out[c] = (closed[0][0], closed[0][2], back[0][0], back[0][2])
        return out
    wait_for(lambda: len(state()) == len(group) or not clients.alive(), seconds, 0.1)
    return state()


def report_moves(what, group, result, since, left):
    back = [r[2] - r[0] for r in result.values()]
    from_event = [r[2] - since for r in result.values()]
    landed = dict(sorted(collections.Counter(r[3] for r in result.values()).items()))
    codes = dict(sorted(collections.Counter(r[1] for r in result.values()).items()))
    say("%s: %d clients were on %s; %d back on %s; close codes seen %s" % (
        what, len(group), left, len(result), landed, codes))
    if back:
        back.sort()
        say("  seconds from the close each noticed to its greeting elsewhere: median %.2f, max %.2f" % (
            back[len(back) // 2], back[-1]))
        say("  seconds from the %s to the last client back: %.2f" % (what, max(from_event)))
    check(len(group) > 0, "%s: %s had clients (%d)" % (what, left, len(group)))
    check(len(result) == len(group), "%s: all %d clients of %s back on another server (%d)" % (
        what, len(group), left, len(result)))
    check(bool(back) and max(back) <= BACK_WITHIN, "%s: every client back within %.0f s of noticing the close" % (
        what, BACK_WITHIN))
    return codes


def readme_matches(readme, template):
    with open(readme) as f:
        text = f.read()
    return template.strip() in text


def run(args, work):
    started = time.time()
    servers = [Server("game%d" % i, args, work) for i in (1, 2, 3)]
    for s in servers:
        s.start()
    say("servers (%s): %s" % (args.server, ", ".join("%s on 127.0.0.1:%d" % (s.name, s.port) for s in servers)))
    nginx = args.balancer == "nginx"
    balancer = "nginx" if nginx else "HAProxy"
    lb = Nginx(args, work, servers) if nginx else HAProxy(args, work, servers)
    say("%s on 127.0.0.1:%d, to the servers from %s" % (balancer, lb.port, SOURCE))
    check(readme_matches(args.readme, lb.template), "README's %s configuration is tests/lb/%s" % (
        balancer, "nginx.conf" if nginx else "haproxy.cfg"))
    if not nginx:
        for s in servers:
            up, row = lb.wait_status(s.name, "UP", 10)
            check(up is not None, "HAProxy marks %s up by its health path (%s)" % (s.name, row))
    game1, game2, game3 = servers

    # 1. Every client connects, and the servers see the clients' address.
    t0 = time.time()
    clients = Clients(args, work, "ws://127.0.0.1:%d/" % lb.port)
    def greeted():
        clients.read()
        return sum(1 for s in clients.server.values() if s)
    wait_for(lambda: greeted() >= args.clients or not clients.alive(), 60, 0.1)
    connected = greeted()
    say("connect: %d of %d clients greeted in %.2f s; per server %s" % (
        connected, args.clients, time.time() - t0, {s: n for s, n in clients.counts().items() if s}))
    if not check(connected == args.clients, "every client connects through %s" % balancer):
        say(open(clients.out).read()[-3000:])
        return
    time.sleep(1.0)
    addresses(servers, "connect", balancer)
    time.sleep(args.steady)

    # 2. Drain game1. Messages sent until its clients saw the close may be
    # lost: mark where each client's numbers were just before.
    clients.command("mark drain")
    wait_for(lambda: clients.read() or len(clients.marks["drain"]) >= args.clients, 10)
    group = drained_group = clients.on("game1")
    since = drain_time = time.time()
    game1.command("drain %s" % args.grace)
    if not nginx:
        down, row = lb.wait_status("game1", "DOWN", 5)
        say("drain: HAProxy marked game1 down after %s s (check %s)" % (
            "%.2f" % down if down is not None else "-", row))
        check(down is not None and row[2] == "503", "drain: HAProxy marks game1 down by its health path's 503")
    if nginx:
        # New clients during the grace: game1 answers their upgrade 503, and
        # nginx passes them on (proxy_next_upstream http_503).
        time.sleep(min(0.5, args.grace / 3))
        before = set(clients.server)
        clients.command("more %d" % DURING_DRAIN)
        wait_for(lambda: clients.read() or
                 len([c for c in clients.server if c not in before and clients.server[c]]) >= DURING_DRAIN, 5, 0.1)
        new = {c: s for c, s in clients.server.items() if c not in before}
        landed = dict(sorted(collections.Counter(new.values()).items(), key=str))
        say("drain: %d new clients during the grace landed %s" % (DURING_DRAIN, landed))
        check(len([s for s in new.values() if s and s != "game1"]) == DURING_DRAIN,
              "drain: every new client during the grace connects, none to the draining game1")
    result = moved(clients, group, "game1", since, args.grace + BACK_WITHIN + 2)
    codes = report_moves("drain", group, result, since, "game1")
    check(set(codes) == {1012}, "drain: every client of game1 was closed with 1012")
    others = [x for x in clients.closes if x[0] >= since and x[1] not in group]
    check(not others, "drain: no client of the other servers was closed (%d)" % len(others))
    check(wait_for(lambda: game1.lines("Z"), 5) and wait_for(lambda: game1.proc.poll() is not None, 5) is not None,
          "drain: game1 said drained and ended")
    say("drain: game1 drained %.2f s after drain(%s)" % (
        float(game1.lines("Z")[0][1]) - float(game1.lines("R")[0][1]), args.grace) if game1.lines("Z") else "")
    game1.proc.wait(timeout=5)
    if nginx:
        # nginx has no health checks to watch a kill and a restart by: the
        # drain (503 to the upgrade, proxy_next_upstream http_503) is its part.
        return finish(args, work, servers, clients, lb, started, {"drain": (drain_time, drained_group)},
                      args.clients + DURING_DRAIN)
    t = time.time()
    game1.start()
    up, row = lb.wait_status("game1", "UP", 10)
    say("restart: game1 started again, HAProxy marked it up after %s s" % (
        "%.2f" % (time.time() - t) if up is not None else "-"))
    check(up is not None, "HAProxy marks the restarted game1 up")
    say("clients per server: %s" % {s: n for s, n in clients.counts().items() if s})

    # 3. Kill game2 outright. Messages sent until the clients saw it go may
    # be lost: mark where each client's numbers were just before.
    clients.command("mark kill")
    wait_for(lambda: clients.read() or len(clients.marks["kill"]) >= args.clients, 10)
    time.sleep(0.5)
    group = killed_group = clients.on("game2")
    since = kill_time = time.time()
    game2.proc.send_signal(signal.SIGKILL)
    game2.proc.wait()
    down, row = lb.wait_status("game2", "DOWN", 5)
    say("kill: HAProxy marked game2 down after %s s (check %s)" % (
        "%.2f" % down if down is not None else "-", row))
    check(down is not None and down <= BACK_WITHIN, "kill: HAProxy marks the killed game2 down by its health check")
    result = moved(clients, group, "game2", since, BACK_WITHIN + 3)
    report_moves("kill", group, result, since, "game2")
    say("clients per server: %s" % {s: n for s, n in clients.counts().items() if s})

    # 4. Start game2 again: new clients land on it.
    t = time.time()
    game2.start()
    up, row = lb.wait_status("game2", "UP", 10)
    say("restart: game2 started again, HAProxy marked it up after %s s" % (
        "%.2f" % (time.time() - t) if up is not None else "-"))
    check(up is not None, "HAProxy marks the restarted game2 up")
    before = set(clients.server)
    clients.command("more %d" % args.newcomers)
    wait_for(lambda: clients.read() or
             len([c for c in clients.server if c not in before and clients.server[c]]) >= args.newcomers, 20, 0.1)
    new = {c: s for c, s in clients.server.items() if c not in before}
    landed = dict(sorted(collections.Counter(new.values()).items(), key=str))
    say("new clients: %d started, landed %s" % (args.newcomers, landed))
    check(len([s for s in new.values() if s]) == args.newcomers, "every new client connects")
    check(landed.get("game2", 0) * 2 > args.newcomers, "most new clients land on the restarted game2 (leastconn)")
    say("clients per server: %s" % {s: n for s, n in clients.counts().items() if s})
    time.sleep(1.0)

    return finish(args, work, servers, clients, lb, started,
                  {"drain": (drain_time, drained_group), "kill": (kill_time, killed_group)},
                  args.clients + args.newcomers)


def finish(args, work, servers, clients, lb, started, windows, total):
    # 5. Stop sending, let the last messages arrive, count.
    clients.command("stop")
    wait_for(lambda: clients.read() or len(clients.final) >= total, 10)
    time.sleep(1.5)
    addresses(servers, "end", "nginx" if args.balancer == "nginx" else "HAProxy")
    messages(servers, clients, windows)
    check(not clients.refused_open, "no send_text refused while the link closed under it, before the client noticed (%d: %s)" % (
        len(clients.refused_open), clients.refused_open[:3]))
    check(not clients.problems, "no message dropped, nor refused while a client was away (%d: %s)" % (
        len(clients.problems), clients.problems[:3]))
    clients.command("quit")
    for s in servers:
        if s.proc.poll() is None:
            s.command("quit")
    script_errors = []
    for name in sorted(os.listdir(work)):
        if name.endswith(".out"):
            with open(os.path.join(work, name), errors="replace") as f:
                script_errors += [name + ": " + line.strip() for line in f if line.startswith("SCRIPT ERROR")]
    check(not script_errors, "no script error in the servers' and clients' output (%d: %s)" % (
        len(script_errors), script_errors[:3]))
    if args.balancer == "nginx":
        # Logged as each WebSocket ends: "502, 101" is a refusal, then the next server.
        wait_for(lambda: not clients.alive(), 5)
        time.sleep(0.5)
        with open(lb.access_log) as f:
            tries = collections.Counter(line.strip() for line in f)
        say("nginx: the upstreams' answers per upgrade: %s" % dict(tries))
        check(any(t.startswith("503, ") for t in tries),
              "nginx passed an upgrade the draining server answered 503 on to another server")
    say("wall time %.1f s" % (time.time() - started))
    return clients, lb, servers


def addresses(servers, when, balancer):
    for s in servers:
        seen = collections.Counter(line[3] for line in s.lines("C"))
        say("%s: %s connections, addresses the server saw: %s" % (when, s.name, dict(seen)))
        check(seen and set(seen) == {CLIENT_ADDRESS},
              "%s: %s sees its clients' real address %s, never %s's %s" % (when, s.name, CLIENT_ADDRESS, balancer, SOURCE))


def messages(servers, clients, windows):
    """Counts the messages across servers. `windows`: {mark: (time, clients)}
    of the drain and the kill, for the messages that may be lost."""
    arrived = collections.Counter()
    for s in servers:
        for line in s.lines("M"):
            if len(line) == 3:
                arrived[(line[1], int(line[2]))] += 1
    sent = sum(clients.final.values())
    twice = sum(1 for n in arrived.values() if n > 1)
    kill_time = windows["kill"][0] if "kill" in windows else float("inf")
    # What each client sent after it noticed a close: up to the kill mark for
    # the closes before the kill, up to the end for those after it.
    protected = set()
    for t, c, code, seq in clients.closes:
        end = clients.final.get(c, seq)
        if t < kill_time and c in clients.marks["kill"]:
            end = min(end, clients.marks["kill"][c])
        protected.update((c, n) for n in range(seq, end))
    protected_missing = [m for m in protected if arrived[m] == 0]
    lost = [(c, i) for c, n in clients.final.items() for i in range(n) if arrived[(c, i)] == 0]
    # The messages that may be lost: sent by a client of the drained or killed
    # server after the mark before it, and before the client noticed the close.
    in_window = collections.Counter()
    for tag, (t0, group) in windows.items():
        noticed = {}
        for t, c, code, seq in clients.closes:
            if t >= t0 and c in group and c not in noticed:
                noticed[c] = seq
        for c, i in lost:
            if c in noticed and clients.marks[tag].get(c, 0) <= i < noticed[c]:
                in_window[tag] += 1
    others = len(lost) - sum(in_window.values())
    say("messages: %d sent, %d arrived (%d of them more than once), %d lost: sent by a client before it noticed "
        "the close, %d at the drain and %d at the kill; %d others" % (
            sent, sum(1 for n in arrived.values() if n), twice, len(lost), in_window["drain"], in_window["kill"],
            others))
    say("messages sent after a client noticed a close: %d, arrived exactly once: %d" % (
        len(protected), sum(1 for m in protected if arrived[m] == 1)))
    check(sent > 0 and len(protected) > 0, "messages were sent, some after a close")
    check(twice == 0, "no message arrived twice (%d)" % twice)
    check(others == 0, "no message lost but those sent to a drained or killed server before the close (%d)" % others)
    check(not protected_missing, "every message sent after a client noticed a close arrived (%d missing: %s)" % (
        len(protected_missing), sorted(protected_missing)[:5]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("godot")
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    parser.add_argument("--balancer", choices=("haproxy", "nginx"), default="haproxy",
                        help="HAProxy (haproxy.cfg, PROXY protocol, health checks) or nginx (nginx.conf, http mode)")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--readme", default=os.path.join(HERE, "..", "..", "README.md"))
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--newcomers", type=int, default=30)
    parser.add_argument("--interval-ms", type=int, default=250)
    parser.add_argument("--grace", type=float, default=1.5)
    parser.add_argument("--steady", type=float, default=2.0)
    parser.add_argument("--work", default="")
    parser.add_argument("--server", choices=("node", "multiplayer"), default="node",
                        help="what the servers run: the RustWebSocketServer node or RustWebSocketMultiplayerPeer")
    parser.add_argument("--server-command", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = os.path.abspath(args.work or os.path.join(args.project, ".lb"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    args.socket_dir = tempfile.mkdtemp(prefix="lb-")
    try:
        if run(args, work):
            # The clients and servers end by themselves ("quit"); HAProxy is ended below.
            wait_for(lambda: all(p.poll() is not None for p in children
                                 if not any(b in p.args[0] for b in ("haproxy", "nginx"))), 5)
    except SystemExit as e:
        say(str(e))
        failures.append(str(e))
    finally:
        # Whatever is still running (ours only: the children started here).
        for child in children:
            if child.poll() is None:
                child.kill()
        shutil.rmtree(args.socket_dir, ignore_errors=True)
    if failures:
        say("lb: 0 passed, 1 failed (%d checks failed; outputs in %s)" % (len(failures), work))
        return 1
    say("lb: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
