#!/usr/bin/env python3
"""tcp_lines.py - the TCP lab's tables as lines both worlds can be held to.

  tcp_lines.py norm NAME ROLE=ADDRESS...
      reads `conntrack -L -p tcp`, `conntrack -E` or `ss -Htan` lines on
      stdin and prints them as lines of NAME: addresses as roles, ports that
      are not the lab's fixed ones as P, timeouts as T, conntrack -E's
      timestamps and any mark=/use= dropped from events (conntrack -E prints
      none). -L and ss lines are sorted; -E lines (NAME ending in -events)
      numbered in order. "NAME none" when there are none.

  tcp_lines.py trace TRACE events NODE
  tcp_lines.py trace TRACE table NODE WHEN
  tcp_lines.py trace TRACE sockets NODE WHEN
  tcp_lines.py trace TRACE outcome NODE PORT WHEN
      reads a `natsim run --trace` file (JSON lines) and prints what Linux's
      tools would have printed in that world: NODE's TCP conntrack events
      as `conntrack -E` writes them ([NEW], [UPDATE] on a change of state
      or status, [DESTROY]); its table as `conntrack -L -p tcp` at WHEN; the
      host's sockets as `ss -Htan` at WHEN; how the host's connection from
      PORT ended (tcp_lab.py's words). WHEN is a time in seconds ("2.5"), or
      "established:AFTER", the first record after AFTER seconds that made one
      of NODE's entries ESTABLISHED (the moment the handshake's last ACK
      crossed the NAT: natsim's programs send at once, so only the order of
      records has the quiet moment the lab's script makes). The output goes
      through `norm` as the lab's does.
"""
import json
import re
import sys

FIXED = {"80", "3478", "4000", "5000", "7000", "8080"}
# RFC 9293's state names (natsim's trace) as ss(8) writes them
SS_STATE = {"LISTEN": "LISTEN", "SYN-SENT": "SYN-SENT", "SYN-RECEIVED": "SYN-RECV",
            "ESTABLISHED": "ESTAB", "FIN-WAIT-1": "FIN-WAIT-1", "FIN-WAIT-2": "FIN-WAIT-2",
            "CLOSE-WAIT": "CLOSE-WAIT", "CLOSING": "CLOSING", "LAST-ACK": "LAST-ACK",
            "TIME-WAIT": "TIME-WAIT"}


def norm_conntrack(w, roles, events):
    w[2] = "T"
    out = []
    for x in w:
        k, _, v = x.partition("=")
        if k in ("src", "dst"):
            x = k + "=" + roles.get(v, "?" + v)
        elif k in ("sport", "dport"):
            x = k + "=" + (v if v in FIXED else "P")
        elif events and k in ("mark", "use"):
            continue
        out.append(x)
    return out


def norm_ss_end(e, roles):
    """An ss end as roles: IPv6 ones are "[2001:db8::2]:80", "[::]:80"
    (every address: "*6", so that an IPv6 listener is not an IPv4 one)."""
    a, _, p = e.rpartition(":")
    if a.startswith("[") and a.endswith("]"):
        a = "*6" if a == "[::]" else roles.get(a[1:-1], "?" + a[1:-1])
    else:
        a = "*" if a in ("0.0.0.0", "*") else roles.get(a, "?" + a)
    return a + ":" + (p if p in FIXED or p == "*" else "P")


def norm(name, roles, lines):
    out, events = [], name.endswith("-events")
    for line in lines:
        line = re.sub(r"^\[\d+\.\d+\]\s*", "", line.strip())
        w = line.split()
        if not w:
            continue
        ev = None
        if w[0].startswith("[") and w[0].endswith("]") and len(w) > 1:  # conntrack -E
            ev, w = w[0], w[1:]
        if w[0] == "tcp":
            out.append(" ".join(([ev] if ev else []) + norm_conntrack(w, roles, events)))
        elif ev is None and len(w) >= 5 and ":" in w[3]:  # ss -Htan: state q q local peer
            out.append(" ".join([w[0], norm_ss_end(w[3], roles), norm_ss_end(w[4], roles)]))
    if events:
        out = ["%d %s" % (i + 1, x) for i, x in enumerate(out)]
    else:
        out.sort()
    return [name + " " + x for x in out] or [name + " none"]


def records(path):
    with open(path) as f:
        for line in f:
            yield json.loads(line)


def ct_state(line):
    """The state word of a conntrack -L line."""
    return line.split()[3]


def ct_status(r):
    return (ct_state(r["line"]), r.get("seen_reply"), r.get("assured"))


def trace_events(path, node):
    """NODE's TCP entries as conntrack -E prints them."""
    last = {}
    for r in records(path):
        if r.get("kind") != "conntrack" or r.get("node") != node or r.get("proto") != 6:
            continue
        ev = r["event"]
        if ev == "new":
            yield "[NEW] " + r["line"]
        elif ev == "update" and last.get(r["id"]) != ct_status(r):
            yield "[UPDATE] " + r["line"]
        elif ev == "destroy":
            yield "[DESTROY] " + r["line"]
        last[r["id"]] = ct_status(r)


def until(path, when, node):
    """The records up to WHEN: seconds, or established:AFTER (up to the first
    record after AFTER seconds that makes one of NODE's entries ESTABLISHED)."""
    if when.startswith("established:"):
        after = float(when.split(":", 1)[1]) * 1e9
        for r in records(path):
            yield r
            if (r.get("kind") == "conntrack" and r.get("node") == node and r.get("proto") == 6
                    and r["t_ns"] > after and ct_state(r["line"]) == "ESTABLISHED"):
                return
        return
    limit = float(when) * 1e9
    for r in records(path):
        if r["t_ns"] > limit:
            return
        yield r


def trace_table(path, node, when):
    alive = {}
    for r in until(path, when, node):
        if r.get("kind") == "conntrack" and r.get("node") == node and r.get("proto") == 6:
            if r["event"] == "destroy":
                alive.pop(r["id"], None)
            elif r["event"] != "related":
                alive[r["id"]] = r["line"]
    return list(alive.values())


def endpoint_word(e):
    if isinstance(e, dict):
        return "%s:%s" % (e.get("addr", e.get("ip")), e.get("port"))
    return str(e)


def trace_sockets(path, node, when):
    now = {}
    for r in until(path, when, node):
        if r.get("kind") != "socket" or r.get("node") != node or r.get("proto", 6) != 6:
            continue
        local, remote = endpoint_word(r["local"]), endpoint_word(r["remote"])
        key = (local, remote)
        if r["to"] == "CLOSED":
            now.pop(key, None)
        else:
            now[key] = r["to"]
    out = []
    for (local, remote), state in now.items():
        peer = remote if state != "LISTEN" else "[::]:*" if local.startswith("[") else "0.0.0.0:*"
        out.append("%s 0 0 %s %s" % (SS_STATE.get(state, state), local, peer))
    return out


ERRORS = {0: "connected", 111: "refused", 104: "reset", 110: "timed-out", 113: "unreachable"}


def trace_outcome(path, node, port, when):
    """How NODE's connection from PORT (not the one to the rendezvous, port
    3478) ended by WHEN, in tcp_lab.py's words."""
    word = "timed-out"  # still trying: tcp_lab.py gave up
    for r in until(path, when, node):
        if (r.get("kind") != "socket" or r.get("node") != node
                or endpoint_word(r["local"]).rpartition(":")[2] != port
                or endpoint_word(r["remote"]).endswith(":3478")):
            continue
        if r["to"] == "ESTABLISHED":
            return "connected"
        if r["to"] == "CLOSED" and r.get("error"):
            word = ERRORS.get(r["error"], "error-%d" % r["error"])
    return word


def main(argv):
    if argv[0] == "norm":
        roles = dict(reversed(a.split("=", 1)) for a in argv[2:])
        print("\n".join(norm(argv[1], roles, sys.stdin)))
    elif argv[0] == "trace":
        path, what, node = argv[1:4]
        if what == "events":
            lines = list(trace_events(path, node))
        elif what == "table":
            lines = trace_table(path, node, argv[4])
        elif what == "sockets":
            lines = trace_sockets(path, node, argv[4])
        elif what == "outcome":
            lines = [trace_outcome(path, node, argv[4], argv[5])]
        else:
            raise SystemExit("tcp_lines: no trace view " + what)
        if lines:
            print("\n".join(lines))
    else:
        raise SystemExit("tcp_lines: no command " + argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
