"""A real authoritative DNS server for the tests: Debian's nsd on a
loopback high port, with its config and zone files in a temp dir.

    zones = {"example.org": ["@ TXT \"v=spf1 -all\"", "relay A 192.0.2.25"]}
    with Nsd(tmpdir, zones) as ns:
        ... submitctl audit --resolver 127.0.0.1:%d % ns.port ...

Each zone gets an SOA and an NS record made up here; records are zone
file lines relative to the zone's origin.  TXT values longer than 255
octets are split into strings by txt().  The server is stopped (and
waited for) by stop() or at the end of the with block, even on failure.
"""

import os
import signal
import socket
import struct
import subprocess
import time

from harness import free_port, wait_for

NSD = "/usr/sbin/nsd"


def txt(value):
    """A TXT record's data: VALUE quoted, in strings of at most 255."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"%s"' % p.replace('"', '\\"') for p in parts)


def _query(port, name, qtype=16):
    """One UDP question to 127.0.0.1:port; the rcode or None."""
    q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(q, ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
        return data[3] & 0x0f
    except OSError:
        return None
    finally:
        s.close()


class Nsd:
    def __init__(self, d, zones):
        self.d = d
        self.zones = zones
        self.port = free_port()
        self.proc = None
        os.makedirs(d, exist_ok=True)

    def _write(self):
        conf = [
            "server:",
            "  ip-address: 127.0.0.1",
            "  port: %d" % self.port,
            '  username: ""',
            '  chroot: ""',
            '  zonesdir: "%s"' % self.d,
            '  zonelistfile: "%s"' % os.path.join(self.d, "zone.list"),
            '  database: ""',
            '  xfrdfile: "%s"' % os.path.join(self.d, "xfrd.state"),
            '  pidfile: "%s"' % os.path.join(self.d, "nsd.pid"),
            '  logfile: "%s"' % os.path.join(self.d, "nsd.log"),
            "  server-count: 1",
            "  do-ip6: no",
            "  verbosity: 1",
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, records in self.zones.items():
            fname = origin + ".zone"
            lines = [
                "$ORIGIN %s." % origin,
                "$TTL 300",
                "@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300"
                % (origin, origin),
                "@ NS ns.%s." % origin,
            ] + list(records)
            with open(os.path.join(self.d, fname), "w") as f:
                f.write("\n".join(lines) + "\n")
            conf += ["zone:", "  name: %s" % origin,
                     "  zonefile: %s" % fname]
        self.conf = os.path.join(self.d, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self._write()
        for origin in self.zones:
            r = subprocess.run(["/usr/sbin/nsd-checkzone", origin,
                                os.path.join(self.d, origin + ".zone")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise AssertionError("zone %s: %s%s"
                                     % (origin, r.stdout, r.stderr))
        self.log = open(os.path.join(self.d, "nsd.stderr"), "ab")
        self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf],
                                     stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        origin = next(iter(self.zones))
        try:
            wait_for(lambda: self.proc.poll() is not None
                     or _query(self.port, origin, 6) == 0,
                     timeout=30, what="nsd answering")
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            out = open(os.path.join(self.d, "nsd.stderr")).read()
            self.proc = None
            raise AssertionError("nsd exited: %s" % out)
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
