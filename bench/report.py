#!/usr/bin/python3
"""report.py -- gathers the files run.sh left in bench/build/run into one
table on stdout and one JSON file (bench/results/RESULT-<date>.json)."""

import argparse
import glob
import json
import os
import platform
import re
import time


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem_kb // 1024,
            "kernel": platform.release(), "os": os_name()}


def os_name():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def dkim(run):
    out = {"lines": []}
    try:
        with open(os.path.join(run, "dkim.txt")) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                out["lines"].append(line)
                if line.startswith("skipped"):
                    out["skipped"] = line
                    continue
                kv = dict(re.findall(r"(\w+)=(\S+)", line))
                out.setdefault("measures", []).append(kv)
    except OSError:
        out["skipped"] = "not run"
    return out


def state_lines(run):
    """bench/statebench.c's lines (the "state" scenario), or None."""
    try:
        with open(os.path.join(run, "state.txt")) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return None


def peak_mib(mem):
    return sum(p["hwm_kb"] for p in mem.values()) / 1024 if mem else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--spool", default="?")
    ap.add_argument("--duration", default="?")
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--alive", default="1")
    ap.add_argument("--lifted", default="")
    ap.add_argument("--commit", default="?")
    a = ap.parse_args()

    scenarios = []
    for path in sorted(glob.glob(os.path.join(a.run, "e2e-*.json")),
                       key=os.path.getmtime):
        e2e = load(path)
        if e2e is None:
            continue
        lg = load(os.path.join(a.run, "lg-%s.json" % e2e["scenario"])) or {}
        scenarios.append({"name": e2e["scenario"], "loadgen": lg,
                          "end_to_end": e2e})
    idles = [load(p) for p in sorted(glob.glob(os.path.join(a.run,
                                                             "idle-*.json")))]
    idles = [i for i in idles if i]
    logins = [load(p) for p in sorted(glob.glob(os.path.join(
        a.run, "logins-*.json")))]
    logins = [x for x in logins if x]
    startups = [load(p) for p in sorted(glob.glob(os.path.join(
        a.run, "startup-*.json")))]
    startups = [x for x in startups if x]
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "commit": a.commit,
        "spool": a.spool,
        "limits_lifted": [x for x in a.lifted.split("; ") if x],
        "seconds_per_scenario": a.duration,
        "total_seconds": a.elapsed,
        "submitd_alive_at_end": a.alive == "1",
        "scenarios": scenarios,
        "idle": idles,
        "logins": logins,
        "startup": startups,
        "dkim": dkim(a.run),
        "state": state_lines(a.run),
        "processes_at_end": load(os.path.join(a.run, "mem-final.json")),
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    m = result["machine"]
    print()
    print("submitd benchmark, %s" % result["date"])
    print("machine: %s, %s cores, %s MiB, %s, Linux %s" % (
        m["cpu"], m["cores"], m["mem_mib"], m["os"], m["kernel"]))
    print("spool: %s; %s s per scenario; TLS: ECDSA P-256 certificate, "
          "new connection = TCP + TLS + EHLO + AUTH PLAIN" % (
              a.spool, a.duration))
    print("submitd: %s (the working tree that make built)" % a.commit)
    print("config limits lifted: %s" % (a.lifted or "none"))
    print()
    hdr = ("%-16s %5s %5s %4s %7s %5s %8s %8s %7s %13s %13s %13s %8s" % (
        "scenario", "conc", "size", "m/c", "ok", "fail", "msg/s", "e2e/s",
        "backlog", "tls p50/p99", "auth p50/p99", "data p50/p99",
        "peakMiB"))
    print(hdr)
    print("-" * len(hdr))
    for s in scenarios:
        lg, e = s["loadgen"], s["end_to_end"]
        if e.get("error"):
            print("%-16s %s" % (s["name"], e["error"]))
            continue
        lat = lg.get("latency_ms", {})

        def pp(stage):
            x = lat.get(stage, {})
            if not x or not x.get("n"):
                return "-"
            return "%.1f/%.1f" % (x["p50"], x["p99"])
        size = lg.get("size", 0)
        size_s = ("%dM" % (size >> 20) if size >= 1 << 20 else
                  "%dK" % (size >> 10))
        e2e = (e["delivered"] / e["e2e_seconds"]
               if e.get("e2e_seconds") else 0)
        print("%-16s %5s %5s %4s %7s %5s %8.1f %8.1f %7s %13s %13s %13s %8.1f"
              % (s["name"], lg.get("concurrency", "?"), size_s,
                 lg.get("per_conn", "?"), lg.get("messages_ok", 0),
                 lg.get("messages_failed", 0), lg.get("msgs_per_s", 0), e2e,
                 e.get("backlog", 0), pp("tls"), pp("auth"), pp("data"),
                 peak_mib(e.get("memory"))))
    roles = []
    for s in scenarios:
        for p in (s["end_to_end"].get("memory") or {}).values():
            if p["comm"] not in roles:
                roles.append(p["comm"])
    if len(roles) > 1:
        print()
        print("peak RSS per process (VmHWM, MiB):")
        print("%-16s " % "scenario" + " ".join(
            "%15s" % r.replace("submitd: ", "").rstrip(":") for r in roles))
        for s in scenarios:
            if s["end_to_end"].get("error"):
                continue
            mem = s["end_to_end"].get("memory") or {}
            by = {}
            for p in mem.values():
                by[p["comm"]] = max(by.get(p["comm"], 0), p["hwm_kb"])
            print("%-16s " % s["name"] + " ".join(
                "%15s" % ("%.1f" % (by[r] / 1024) if r in by else "-")
                for r in roles))
    print()
    print("msg/s: accepted (250 after DATA) per second of the run; e2e/s: "
          "messages received by the sink\n  per second from the scenario's "
          "start until the sink had them all (or %s)." % "gave up")
    print("latencies in ms: tls = handshake, auth = AUTH PLAIN to 235, "
          "data = DATA to the final 250.")
    print("peakMiB: sum over submitd processes of VmHWM, reset before each "
          "scenario (clear_refs).")
    cpu = [(s["name"], s["end_to_end"]["cpu_ms"], s["loadgen"]["messages_ok"])
           for s in scenarios if s["end_to_end"].get("cpu_ms") is not None
           and s["loadgen"].get("messages_ok")]
    if cpu:
        print()
        print("submitd CPU (every process, user+system) per accepted message, "
              "ms (rspamd's and redis-server's not counted):")
        for name, ms, ok in cpu:
            print("%-18s %8.2f" % (name, ms / ok))
    rcpu = [(s["name"], s["end_to_end"]["redis_cpu_ms"],
             s["loadgen"]["messages_ok"]) for s in scenarios
            if s["end_to_end"].get("redis_cpu_ms") is not None
            and s["loadgen"].get("messages_ok")]
    if rcpu:
        print()
        print("redis-server per accepted message (state redis): CPU ms, "
              "round trips (EVALSHA/EVAL/DEL sent):")
        for name, ms, ok in rcpu:
            e = [s["end_to_end"] for s in scenarios if s["name"] == name][0]
            print("%-18s %8.2f %8.1f" % (name, ms / ok,
                                         e.get("redis_commands", 0) / ok))
    bp = [s for s in scenarios if s["end_to_end"].get("cpu_ms_by_process")
          and s["loadgen"].get("messages_ok")]
    if bp:
        procs = sorted({k for s in bp
                        for k in s["end_to_end"]["cpu_ms_by_process"]})
        print()
        print("submitd CPU per accepted message by process, ms:")
        print("%-18s " % "scenario" + " ".join("%14s" % p[-14:]
                                                for p in procs))
        for s in bp:
            c, ok = s["end_to_end"]["cpu_ms_by_process"], \
                s["loadgen"]["messages_ok"]
            print("%-18s " % s["name"] + " ".join(
                "%14.2f" % (c.get(p, 0) / ok) for p in procs))
    errs = []
    for s in scenarios:
        e = dict(s["loadgen"].get("errors") or {})
        if s["loadgen"].get("unfinished"):
            e["unfinished-sessions"] = s["loadgen"]["unfinished"]
        if e:
            errs.append((s["name"], e))
    dk = [s for s in scenarios if s["end_to_end"].get("config", "")
          not in ("", "submitd.conf", "submitd-rspamd.conf",
                  "submitd-redis.conf")
          and not s["end_to_end"].get("error")]
    if dk:
        print()
        for s in dk:
            e = s["end_to_end"]
            print("%s: config %s (one DKIM signature per message), %s "
                  "messages left unsigned" % (s["name"], e["config"],
                                              e.get("dkim_unsigned", "?")))
    died = [s["name"] for s in scenarios
            if s["end_to_end"].get("submitd_alive") == 0]
    if died:
        print()
        print("submitd DIED during: " + ", ".join(died))
    if errs:
        print()
        print("errors (reply codes, connection failures, sessions still "
              "waiting when loadgen gave up):")
        for name, e in errs:
            print("  %-16s %s" % (name, " ".join(
                "%s=%s" % kv for kv in sorted(e.items()))))
    for i in idles:
        print()
        bps = i.get("bytes_per_session")
        print("idle: %s of %s TLS sessions logged in and idle: submitd RSS "
              "%.1f -> %.1f MiB, %s bytes per session" % (
                  i["sessions"], i.get("requested", "?"),
                  i["rss_before_kb"] / 1024,
                  i["rss_idle_kb"] / 1024,
                  "%d" % bps if bps is not None else "n/a"))
    for x in result["logins"]:
        print()
        print("logins: %s of %s TLS sessions of one login in after %.2f s, "
              "login cache cold: auth role %d ms CPU, peak RSS %.1f MiB, "
              "%s" % (
                  x["sessions"], x["requested"], x["login_s"],
                  x["auth_cpu_ms"], x["auth_hwm_kb"] / 1024,
                  "%d Argon2id verifications" % x["verifications"]
                  if x["verifications"] is not None
                  else "verifications not counted (BENCH_SCRAPE=1)"))
    for x in startups:
        print()
        if "error" in x:
            print("start-up %s: %s" % (x["scenario"], x["error"]))
            continue
        first = x.get("first_delivery_ms")
        print("start-up with %d messages in the spool: listening after %d ms, "
              "first delivery after %s, %d delivered 2 s later" % (
                  x["messages"], x["listen_ms"],
                  "%d ms" % first if first is not None else "never",
                  x["delivered_after_2s"]))
    d = result["dkim"]
    print()
    if d.get("skipped"):
        print("dkim: %s" % d["skipped"])
    else:
        print("dkim (tests/dkim/dkim_bench.c, in process, 1 s per measure):")
        for line in d["lines"]:
            print("  " + line)
    if result["state"]:
        print()
        print("state store, one counter operation (bench/statebench.c; CPU "
              "of the caller, the auth role's share):")
        for line in result["state"]:
            print("  " + line)
    procs = result["processes_at_end"] or {}
    if procs:
        print()
        print("submitd processes at the end: " + ", ".join(
            "%s %s: RSS %.1f MiB" % (pid, p["comm"], p["rss_kb"] / 1024)
            for pid, p in procs.items()))
    if not result["submitd_alive_at_end"]:
        print("WARNING: submitd was not running at the end of the bench")
    print("total: %d s" % a.elapsed)


if __name__ == "__main__":
    main()
