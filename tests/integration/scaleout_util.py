"""Helpers for the scale-out tests (issue 17): a redis-server and a haproxy
of our own on loopback high ports (configs in the test's temp dir, stopped
even on failure), and a second submitd instance with its own spool sharing
the first one's users, certificates and smarthost."""

import os
import shutil
import signal
import subprocess
import time
import types

from harness import (Submitd, SLOW, conf_text, free_port, port_open,
                     wait_for, write_file)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
REDIS_USER = "submitd"
REDIS_PASSWORD = "redis pass with spaces"


def make_redis_tls(d):
    """A throwaway CA and a certificate for 127.0.0.1 (IP SAN) it signed,
    and a second CA that signed nothing of Redis's, made with the openssl
    command in D: {"ca", "cert", "key", "wrong_ca"} paths."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       capture_output=True, timeout=60)
    for ca in ("ca", "wrong-ca"):
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca + ".key",
             "-out", ca + ".pem", "-days", "2", "-subj",
             "/CN=submitd test %s" % ca)
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", "redis.key", "-out", "redis.csr", "-subj",
         "/CN=redis test")
    write_file(os.path.join(d, "san.ext"), "subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey",
         "ca.key", "-CAcreateserial", "-out", "redis.pem", "-days", "2",
         "-extfile", "san.ext")
    for f in ("ca.pem", "wrong-ca.pem", "redis.pem", "redis.key"):
        os.chmod(os.path.join(d, f), 0o644)
    return {"ca": os.path.join(d, "ca.pem"),
            "wrong_ca": os.path.join(d, "wrong-ca.pem"),
            "cert": os.path.join(d, "redis.pem"),
            "key": os.path.join(d, "redis.key")}


class RedisServer:
    """redis-server on 127.0.0.1:PORT, no persistence, an ACL user with a
    password (the default user is off), and a unix socket in D.  With TLS
    (make_redis_tls's dict): PORT speaks TLS only (no client
    certificates asked), there is no plain port."""

    def __init__(self, d, port=None, tls=None):
        self.d = d
        self.tls = tls
        self.port = port or free_port()
        self.sock = os.path.join(d, "redis.sock")
        self.log = os.path.join(d, "redis.log")
        self.password_file = os.path.join(d, "redis.password")
        write_file(self.password_file, REDIS_PASSWORD + "\n", 0o600)
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        ports = ["--port", str(self.port)]
        if self.tls:
            ports = ["--port", "0", "--tls-port", str(self.port),
                     "--tls-cert-file", self.tls["cert"],
                     "--tls-key-file", self.tls["key"],
                     "--tls-ca-cert-file", self.tls["ca"],
                     "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(
            [REDIS_SERVER] + ports + ["--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", self.d, "--unixsocket", self.sock,
             "--unixsocketperm", "777",
             "--user", "default", "off",
             "--user", REDIS_USER, "on", ">" + REDIS_PASSWORD,
             "~submitd:*", "+@all"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True)
        logf.close()
        wait_for(lambda: self.proc.poll() is not None or
                 port_open("127.0.0.1", self.port), timeout=15,
                 what="redis-server to listen")
        if self.proc.poll() is not None:
            raise AssertionError("redis-server exited:\n" + open(self.log).read())
        return self

    def stop(self):
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        wait_for(lambda: not port_open("127.0.0.1", self.port), timeout=10,
                 what="redis-server to stop")

    def cli(self, *args):
        """redis-cli as the ACL user; its output."""
        env = dict(os.environ, REDISCLI_AUTH=REDIS_PASSWORD)
        tls = ["--tls", "--cacert", self.tls["ca"]] if self.tls else []
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), "--user", REDIS_USER]
            + tls + list(args), env=env, capture_output=True, text=True,
            timeout=10).stdout


def second_instance(t, extra_conf=None, name="b"):
    """Another submitd with its own dir, spool, ports and control socket,
    sharing T's users, certificates, secrets and smarthost; not started."""
    d = os.path.join(t.dir, name)
    os.makedirs(d, mode=0o711)
    spool = os.path.join(d, "spool")
    os.makedirs(spool, mode=0o700)
    ns = types.SimpleNamespace(
        dir=d, spool=spool, certs=t.certs, P1=free_port(), P2=free_port(),
        P3=None, P4=t.P4, users_file=t.users_file,
        control_sock=os.path.join(d, "control.sock"),
        MESSAGE_SIZE=t.MESSAGE_SIZE, UPSTREAM_MODE=t.UPSTREAM_MODE,
        secrets_file=t.secrets_file,
        EXTRA_CONF=t.EXTRA_CONF if extra_conf is None else extra_conf)
    s = Submitd(d, conf_text(ns), [("127.0.0.1", ns.P1),
                                   ("127.0.0.1", ns.P2)])
    s.P1, s.P2, s.spool = ns.P1, ns.P2, spool
    s.control_sock = ns.control_sock
    t.addCleanup(s.stop)
    return s


class HAProxy:
    """haproxy in TCP mode: one frontend per (port, backend ports,
    send-proxy option), round robin."""

    def __init__(self, d):
        self.d = d
        self.cfg = os.path.join(d, "haproxy.cfg")
        self.log = os.path.join(d, "haproxy.log")
        self.fronts = []
        self.proc = None

    def add(self, backends, proxy="send-proxy-v2", port=None):
        port = port or free_port()
        self.fronts.append((port, backends, proxy))
        return port

    def start(self):
        lines = ["global", "  maxconn 200", "defaults", "  mode tcp",
                 "  timeout connect 5s", "  timeout client 60s",
                 "  timeout server 60s"]
        for i, (port, backends, proxy) in enumerate(self.fronts):
            lines += ["frontend f%d" % i,
                      "  bind 127.0.0.1:%d" % port,
                      "  default_backend b%d" % i,
                      "backend b%d" % i, "  balance roundrobin"]
            for j, bp in enumerate(backends):
                lines.append("  server s%d 127.0.0.1:%d %s" % (j, bp, proxy))
        write_file(self.cfg, "\n".join(lines) + "\n")
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg],
                                     stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=logf, start_new_session=True)
        logf.close()
        wait_for(lambda: self.proc.poll() is not None or
                 all(port_open("127.0.0.1", p) for p, _, _ in self.fronts),
                 timeout=15, what="haproxy to listen")
        if self.proc.poll() is not None:
            raise AssertionError("haproxy exited:\n" + open(self.log).read())
        return self

    def stop(self):
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
