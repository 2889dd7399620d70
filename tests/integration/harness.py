"""Helpers for submitd's integration tests (python unittest, /usr/bin/python3).

What a test gets from SubmitdTest:
  self.dir            a fresh temp dir (removed after a passing test,
                      kept when KEEP_TMP=1)
  self.certs          paths: ca, crt, key (localhost), wrong_crt, wrong_key
  self.smarthost      the stand-in smarthost (smarthost.py), started
  self.submitd        the daemon, started with a config from the attributes
                      below; stopped in cleanup even when the test fails
  self.P1 P2 P3       submitd ports: starttls 127.0.0.1, tls 127.0.0.1,
                      starttls ::1
  self.P4             smarthost port
  connect(...)        a raw SMTP client (Client) with reply parsing
Environment:
  BUILD               build dir (default "build"), holds submitd, submitctl
  SUBMITD_WRAPPER     command prefix for the daemon, e.g. "valgrind
                      --error-exitcode=99 --leak-check=full"
  KEEP_TMP=1          keep temp dirs
"""

import base64
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
SUBMITD = os.path.join(BUILD, "submitd")
SUBMITCTL = os.path.join(BUILD, "submitctl")
SMARTHOST = os.path.join(HERE, "smarthost.py")
WRAPPER = shlex.split(os.environ.get("SUBMITD_WRAPPER", ""))
SLOW = 6 if WRAPPER else 1          # valgrind is slow: stretch timeouts

USER = "alice@example.org"
PASSWORD = "alice-Pa55word!"
SENDERS = "alice@example.org,*@sales.example.org"
USER2 = "bob@example.com"
PASSWORD2 = "bob-other-pw"
SENDERS2 = "bob@example.com"
UP_LOGIN = "relay@example.net"
UP_PASSWORD = "upstream-secret"
RCPT = "carol@example.com"


# --- ports, files ------------------------------------------------------

_GIVEN_PORTS = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = f.read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(host="127.0.0.1"):
    """A free TCP port on loopback, high but below the kernel's ephemeral
    range (so no outgoing connection takes it before the daemon binds it),
    never the same twice in one test process; free on ::1 too if it exists."""
    import random
    lo, _ = _ephemeral_range()
    top = lo - 1 if lo > 21000 else 65535
    hosts = [host] + (["::1"] if host != "::1" and have_ipv6() else [])
    for _ in range(1000):
        port = random.randint(20000, top)
        if port in _GIVEN_PORTS:
            continue
        if all(_bindable(h, port) for h in hosts):
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("no free port")


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def write_file(path, data, mode=0o644):
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def wait_for(pred, timeout=20, step=0.05, what="condition"):
    """Poll pred() until it returns something true; return it, or raise."""
    end = time.time() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out after %ss waiting for %s"
                                 % (timeout * SLOW, what))
        time.sleep(step)


def port_open(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# --- certificates --------------------------------------------------------

def _openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(d):
    """A test CA, a cert for localhost (SAN DNS:localhost, IP:127.0.0.1,
    IP:::1) and one for wrong.example, all under d.  Returns paths."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-keyout", p("ca.key"), "-out", p("ca.crt"),
             "-subj", "/CN=submitd test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, san):
        write_file(p(name + ".ext"),
                   "basicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectAltName=%s\n" % san)
        _openssl("req", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
                 "-subj", "/CN=" + name)
        _openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.crt"),
                 "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "30",
                 "-out", p(name + ".crt"), "-extfile", p(name + ".ext"))
        os.chmod(p(name + ".key"), 0o600)

    leaf("localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")
    leaf("wrong.example", "DNS:wrong.example")
    return {"ca": p("ca.crt"), "crt": p("localhost.crt"),
            "key": p("localhost.key"), "wrong_crt": p("wrong.example.crt"),
            "wrong_key": p("wrong.example.key"), "dir": d}


_CERTS = None
_SESSION_DIR = None


_FAILED_DIRS = []


def _remove_session_dir():
    """At exit: remove the session's temp dir unless a test failed there
    (its dir, with submitd.log and the smarthost's output, is kept)."""
    if _SESSION_DIR and not _FAILED_DIRS:
        shutil.rmtree(_SESSION_DIR, True)


def session_dir():
    global _SESSION_DIR
    if _SESSION_DIR is None:
        _SESSION_DIR = tempfile.mkdtemp(prefix="submitd-it-")
        # the daemon's roles run as _submitd: let them pass through (the
        # files inside keep their own modes)
        os.chmod(_SESSION_DIR, 0o711)
        if os.environ.get("KEEP_TMP") != "1":
            import atexit
            atexit.register(_remove_session_dir)
    return _SESSION_DIR


def certs():
    """Certificates made once per test process."""
    global _CERTS
    if _CERTS is None:
        _CERTS = make_certs(os.path.join(session_dir(), "pki"))
    return _CERTS


# --- users ---------------------------------------------------------------

_HASHES = {}


def hash_password(password):
    """Argon2id hash from `submitctl passwd` (password on stdin)."""
    if password not in _HASHES:
        r = subprocess.run([SUBMITCTL, "passwd"], input=password + "\n",
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("submitctl passwd failed (%d): %s"
                                 % (r.returncode, r.stderr))
        h = r.stdout.strip()
        if not h.startswith("$argon2id$"):
            raise AssertionError("submitctl passwd printed %r" % r.stdout)
        _HASHES[password] = h
    return _HASHES[password]


# --- the smarthost -------------------------------------------------------

class Smarthost:
    """The stand-in smarthost as a subprocess."""

    def __init__(self, d, port, certs_, mode="smtps", login=UP_LOGIN,
                 password=UP_PASSWORD):
        self.d = d
        self.port = port
        self.mode = mode
        self.certs = certs_
        self.login = login
        self.password = password
        self.outdir = os.path.join(d, "smarthost-out")
        self.control = os.path.join(d, "smarthost-control.json")
        self.log = os.path.join(d, "smarthost.log")
        self.proc = None
        os.makedirs(self.outdir, exist_ok=True)
        if not os.path.exists(self.control):
            self.set_control({})

    def set_control(self, ctl):
        write_file(self.control + ".tmp", json.dumps(ctl))
        os.rename(self.control + ".tmp", self.control)

    def start(self):
        cmd = [PY, SMARTHOST, "--port", str(self.port), "--mode", self.mode,
               "--cert", self.certs["crt"], "--key", self.certs["key"],
               "--wrong-cert", self.certs["wrong_crt"],
               "--wrong-key", self.certs["wrong_key"],
               "--login", self.login, "--password", self.password,
               "--outdir", self.outdir, "--control", self.control]
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=logf, start_new_session=True)
        logf.close()
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            self.proc.wait(5)
            raise AssertionError("smarthost did not start: %r\n%s"
                                 % (line, open(self.log).read()))
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
        self.proc.stdout.close()
        self.proc = None

    def messages(self):
        """Delivered messages, oldest first; each a dict with 'data' bytes."""
        out = []
        for j in sorted(glob.glob(os.path.join(self.outdir, "[0-9]*.json"))):
            with open(j) as f:
                m = json.load(f)
            m["data"] = base64.b64decode(m["data_b64"])
            with open(os.path.join(self.outdir, m["eml"]), "rb") as f:
                assert f.read() == m["data"], "sidecar .eml differs"
            out.append(m)
        return out

    def wait_messages(self, n, timeout=20):
        wait_for(lambda: len(self.messages()) >= n, timeout,
                 what="%d message(s) at the smarthost" % n)
        time.sleep(0.3)              # a duplicate would show up now
        return self.messages()

    def events(self, kind=None):
        p = os.path.join(self.outdir, "events.log")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            ev = [json.loads(l) for l in f if l.strip()]
        return [e for e in ev if kind is None or e["event"] == kind]

    def wait_event(self, kind, n=1, timeout=20, pred=None):
        def ok():
            ev = [e for e in self.events(kind) if pred is None or pred(e)]
            return len(ev) >= n and ev
        return wait_for(ok, timeout, what="%d %s event(s)" % (n, kind))


# --- the daemon ----------------------------------------------------------

def role_pids(ppid):
    """{pid: starttime} of PPID's children named "submitd: ..."."""
    out = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                text = f.read()
            comm = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid and comm.startswith("submitd: "):
                out[int(stat.split("/")[2])] = fields[19]
        except (OSError, ValueError, IndexError):
            continue
    return out


def role_alive(pid, start):
    """Whether role PID (of start time START, from role_pids) still runs:
    not a zombie, and not a pid reused since."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[19] == start and fields[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_stragglers(roles, timeout=10):
    """SIGKILL to each of ROLES (from role_pids) still running after
    TIMEOUT seconds; a pid reused since (another start time) is left."""
    alive = role_alive
    deadline = time.monotonic() + timeout
    while any(alive(p, s) for p, s in roles.items()):
        if time.monotonic() > deadline:
            for p, s in roles.items():
                if alive(p, s):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
            return
        time.sleep(0.1)


class Submitd:
    """build/submitd -d -f CONF as a subprocess, stderr to a log file."""

    def __init__(self, d, conf_text, ports):
        self.d = d
        self.conf = os.path.join(d, "submitd.conf")
        self.log = os.path.join(d, "submitd.log")
        self.ports = ports           # [(host, port)] to wait for
        self.proc = None
        self.starts = 0
        self.ready = False          # started and listening, not stopped
        write_file(self.conf, conf_text)

    wait_ready = True       # start() waits for the log's event=ready

    def start(self, extra=()):
        logf = open(self.log, "ab")
        logf.write(b"==== start %d ====\n" % self.starts)
        logf.flush()
        for attempt in range(10):
            # a concurrent `make` may be relinking the binary right now
            try:
                env = dict(os.environ)
                if WRAPPER and "valgrind" in WRAPPER[0]:
                    # valgrind cannot run under seccomp (submitd(8))
                    env["SUBMITD_UNSAFE_NO_SECCOMP"] = "1"
                self.proc = subprocess.Popen(
                    WRAPPER + [SUBMITD, "-d", "-f", self.conf] + list(extra),
                    env=env,
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                    start_new_session=True)
                break
            except OSError:
                if attempt == 9:
                    raise
                time.sleep(1)
        logf.close()
        self.starts += 1
        wait_for(lambda: self.proc.poll() is not None or
                 all(port_open(h, p) for h, p in self.ports),
                 timeout=15, what="submitd to listen")
        # listening is not serving: every role (control socket included)
        # is up once the parent logs event=ready for this start
        # (a test that sends the log elsewhere sets wait_ready = False)
        marker = "==== start %d ====" % (self.starts - 1)
        wait_for(lambda: not self.wait_ready or self.proc.poll() is not None or
                 "event=ready" in self.log_text().rsplit(marker, 1)[-1],
                 timeout=30, what="submitd's event=ready")
        if self.proc.poll() is not None:
            raise AssertionError("submitd exited with %s at start:\n%s"
                                 % (self.proc.returncode, self.log_text()))
        self.ready = True
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; returns the exit status (or None)."""
        self.ready = False
        if self.proc is None:
            return None
        p, self.proc = self.proc, None
        # the roles are sessions of their own (issue 12 item 7), outside
        # the parent's process group: remember them to reap stragglers
        roles = role_pids(p.pid)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
                kill_stragglers(roles, 0)
                return "killed"
        # children of the daemon (roles) must not linger
        try:
            os.killpg(p.pid, 0)
            time.sleep(0.5)
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        kill_stragglers(roles)
        return p.returncode

    def kill9(self, timeout=60):
        """kill -9 of the parent alone (a crash), then wait until its
        roles, which see it gone (PR_SET_PDEATHSIG) and exit, are gone and
        no longer listen: a start right after would otherwise meet an old
        role still holding a port ('Address already in use')."""
        p = self.proc
        roles = role_pids(p.pid)
        p.kill()
        p.wait(10)
        self.stop()
        wait_for(lambda: not any(role_alive(r, s) for r, s in roles.items()),
                 timeout * SLOW, what="the old roles to exit")
        wait_for(lambda: not any(port_open(h, port) for h, port in self.ports),
                 timeout * SLOW, what="the old listeners to close")

    def kill9_restart(self):
        """kill9, then start again (start waits for event=ready)."""
        self.kill9()
        return self.start()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "LeakSanitizer has encountered a fatal error",
                   "Sanitizer:", "runtime error:", "ERROR SUMMARY: ",
                   "definitely lost")


def sanitizer_problems(text):
    """Report lines; for an ASan/LSan report, its stacks too (to SUMMARY)."""
    bad = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "ERROR SUMMARY: 0 errors" in line:
            continue
        if "definitely lost: 0 bytes" in line:
            continue
        if not any(m in line for m in SANITIZER_MARKS):
            continue
        bad.append(line)
        if "ERROR: " in line and "Sanitizer" in line:
            n = 0
            while i < len(lines) and n < 80 and "SUMMARY:" not in lines[i]:
                if lines[i].strip():
                    bad.append(lines[i])
                i += 1
                n += 1
    return bad


def conf_text(t):
    """The config text for a SubmitdTest t."""
    lines = [
        "# written by tests/integration/harness.py",
        "hostname relay.test",
        'queue "%s" retry-min 1s retry-max 2s' % t.spool,
        'pki localhost cert "%s" key "%s"' % (t.certs["crt"], t.certs["key"]),
        "listen on 127.0.0.1 port %d starttls pki localhost" % t.P1,
        "listen on 127.0.0.1 port %d tls pki localhost" % t.P2,
    ]
    if t.P3:
        lines.append("listen on ::1 port %d starttls pki localhost" % t.P3)
    lines += [
        'users "%s"' % t.users_file,
        'control "%s"' % t.control_sock,
    ]
    # one state statement (a second is an error): the test's, or this one
    if not any(x.split()[:1] == ["state"] for x in t.EXTRA_CONF):
        lines.append('state "%s"' % os.path.join(t.dir, "state"))
    lines += [
        "limit message-size %s" % t.MESSAGE_SIZE,
        'relay %s://localhost:%d secrets "%s"'
        % ("smtps" if t.UPSTREAM_MODE == "smtps" else "smtp+tls",
           t.P4, t.secrets_file),
        'relay ca "%s"' % t.certs["ca"],
    ]
    return "\n".join(lines + list(t.EXTRA_CONF)) + "\n"


# --- a raw SMTP client ---------------------------------------------------

class Reply:
    def __init__(self, lines):
        self.lines = lines                      # full lines, no CRLF
        self.code = int(lines[-1][:3]) if lines and lines[-1][:3].isdigit() else 0
        self.text = lines[-1] if lines else ""
        self.keywords = [l[4:].split(" ")[0].upper() for l in lines[1:]]

    def __repr__(self):
        return "Reply(%r)" % "\\r\\n".join(self.lines)

    def startswith(self, s):
        return self.text.startswith(s)


class Client:
    """A line-level SMTP client over a plain socket, then TLS."""

    def __init__(self, host, port, tls=False, ca=None, timeout=10):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout * SLOW)
        self.sock.connect((host, port))
        self.ca = ca
        self.buf = b""
        self.tls = False
        if tls:
            self.starttls_handshake()

    def starttls_handshake(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        self.buf = b""              # never keep plaintext past the handshake
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.tls = True

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by server; buffered %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        lines = [self.readline()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.readline())
        return Reply(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def ehlo(self, name="client.test"):
        return self.cmd("EHLO " + name)

    def starttls(self):
        r = self.cmd("STARTTLS")
        if r.code != 220:
            raise AssertionError("STARTTLS: %r" % r)
        self.starttls_handshake()
        return r

    def auth_plain(self, user, password):
        tok = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)

    def closed(self, timeout=3):
        """True if the server closes the line within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- messages ------------------------------------------------------------

def split_message(data):
    """(header lines list, body bytes) split at the first CRLFCRLF."""
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return data.split(b"\r\n"), b""
    return data[:i].split(b"\r\n"), data[i + 4:]


def header_fields(lines):
    """Unfold header lines into [(name_lower, full_field_text)]."""
    fields = []
    for l in lines:
        if l[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b"\r\n" + l)
        else:
            fields.append((l.split(b":", 1)[0].strip().lower(), l))
    return fields


def dot_data(msg):
    """msg (ending in CRLF) as DATA bytes: dot-stuffed (RFC 5321 4.5.2),
    then the end-of-data line."""
    assert msg.endswith(b"\r\n")
    return re.sub(rb"(^|\r\n)\.", rb"\1..", msg) + b".\r\n"


def sample_message(frm=USER, to=RCPT, subject="test", date=True, msgid=True,
                   body=None, extra=b""):
    hdr = b"From: Alice <%s>\r\nTo: %s\r\nSubject: %s\r\n" % (
        frm.encode(), to.encode(), subject.encode())
    if date:
        hdr += b"Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
    if msgid:
        hdr += b"Message-ID: <%s@client.test>\r\n" % (
            base64.b32encode(os.urandom(10)).decode().lower().encode())
    hdr += b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    hdr += extra
    if body is None:
        body = (b"Hello Carol,\r\n\r\n"
                b".a line that starts with a dot (dot-stuffing)\r\n"
                b"..two dots\r\n"
                b"trailing spaces   \r\n"
                b"\ttab-indented\r\n"
                b"unique " + base64.b16encode(os.urandom(8)) + b"\r\n"
                b"\r\n-- \r\nAlice\r\n")
    return hdr + b"\r\n" + body


class SubmitdTest(unittest.TestCase):
    """Base class: certs, users, secrets, a smarthost and a running submitd."""

    UPSTREAM_MODE = "smtps"
    MESSAGE_SIZE = "1M"
    EXTRA_CONF = ()
    START_SMARTHOST = True
    START_SUBMITD = True

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix=self.id().split(".")[-1][:40] + "-",
                                    dir=session_dir())
        os.chmod(self.dir, 0o711)
        self.certs = certs()
        self.spool = os.path.join(self.dir, "spool")
        self.control_sock = os.path.join(self.dir, "control.sock")
        os.makedirs(self.spool, mode=0o700)
        self.users_file = os.path.join(self.dir, "users")
        write_file(self.users_file,
                   "# test users\n%s:%s:%s\n%s:%s:%s\n" % (
                       USER, hash_password(PASSWORD), SENDERS,
                       USER2, hash_password(PASSWORD2), SENDERS2), 0o600)
        self.secrets_file = os.path.join(self.dir, "upstream.secrets")
        write_file(self.secrets_file,
                   "*   %s   %s\n" % (UP_LOGIN, UP_PASSWORD), 0o600)
        self.P1 = free_port()
        self.P2 = free_port()
        self.P3 = free_port("::1") if have_ipv6() else None
        self.P4 = free_port()
        self.smarthost = Smarthost(self.dir, self.P4, self.certs,
                                   self.UPSTREAM_MODE)
        self.addCleanup(self.smarthost.stop)
        if self.START_SMARTHOST:
            self.smarthost.start()
        ports = [("127.0.0.1", self.P1), ("127.0.0.1", self.P2)]
        if self.P3:
            ports.append(("::1", self.P3))
        self.submitd = Submitd(self.dir, conf_text(self), ports)
        self.addCleanup(self._stop_submitd)
        if self.START_SUBMITD:
            self.submitd.start()
        self.spool_baseline = self.spool_files()

    def _stop_submitd(self):
        was_alive = self.submitd.alive()
        started = self.submitd.ready
        rc = self.submitd.stop()
        text = self.submitd.log_text()
        bad = sanitizer_problems(text)
        died = (started and not was_alive
                and not getattr(self, "expect_dead", False))
        badexit = started and rc not in (None, 0, -signal.SIGTERM)
        ok = self._outcome_ok() and not (bad or died or badexit)
        if ok and os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(self.dir, True)
        elif not ok:
            _FAILED_DIRS.append(self.dir)
            print("\n---- kept %s; submitd log tail:\n%s" %
                  (self.dir, text[-3000:]))
        if bad:
            self.fail("sanitizer/valgrind report in submitd log:\n"
                      + "\n".join(bad[:120]))
        if died:
            self.fail("submitd died during the test (status %s):\n%s"
                      % (rc, text[-3000:]))
        if badexit:
            self.fail("submitd exited with status %r on SIGTERM:\n%s"
                      % (rc, text[-3000:]))

    def _outcome_ok(self):
        outcome = getattr(self, "_outcome", None)
        return outcome is None or getattr(outcome, "success", True)

    # -- helpers for tests

    def connect(self, port=None, host="127.0.0.1", tls=False):
        c = Client(host, port or self.P1, tls=tls, ca=self.certs["ca"])
        self.addCleanup(c.close)
        return c

    def session(self, port=None, user=USER, password=PASSWORD, host="127.0.0.1"):
        """A client on the starttls port, after EHLO, STARTTLS, EHLO, AUTH."""
        c = self.connect(port, host)
        self.assertReply(c.reply(), "220 ")
        self.assertReply(c.ehlo(), "250")
        c.starttls()
        self.assertReply(c.ehlo(), "250")
        if user:
            self.assertReply(c.auth_plain(user, password), "235 2.7.0")
        return c

    def assertReply(self, reply, prefix, msg=None):
        if isinstance(prefix, str):
            prefix = (prefix,)
        self.assertTrue(any(reply.text.startswith(p) for p in prefix),
                        "expected a reply starting with %s, got %r%s"
                        % (" or ".join(map(repr, prefix)), reply,
                           " (" + msg + ")" if msg else ""))

    def spool_files(self):
        out = set()
        for root, _, files in os.walk(self.spool):
            for f in files:
                out.add(os.path.relpath(os.path.join(root, f), self.spool))
        return out

    def assertNothingQueued(self, settle=1.5):
        time.sleep(settle)
        self.assertEqual(self.spool_files() - self.spool_baseline, set(),
                         "spool has new files")
        self.assertEqual(self.smarthost.messages(), [],
                         "the smarthost received something")

    def assertSpoolEmpty(self, timeout=20):
        wait_for(lambda: not (self.spool_files() - self.spool_baseline),
                 timeout, what="spool to empty")

    def assertNoPlaintext(self):
        self.assertEqual(self.smarthost.events("violation"), [],
                         "submitd sent commands in plaintext to the smarthost")

    def assertDelivered(self, m, original, mail_from=USER, rcpts=(RCPT,)):
        """m: a smarthost record; original: the bytes the client submitted."""
        self.assertEqual(m["login"], UP_LOGIN)
        self.assertEqual(m["mail_from"], mail_from)
        self.assertEqual(sorted(m["rcpt_tos"]), sorted(rcpts))
        self.assertTrue(m["tls"])
        got_hdr, got_body = split_message(m["data"])
        orig_hdr, orig_body = split_message(original)
        self.assertEqual(got_body, orig_body, "body differs")
        # the original header lines, all present, in order
        it = iter(got_hdr)
        for line in orig_hdr:
            for g in it:
                if g == line:
                    break
            else:
                self.fail("header line %r missing or out of order in\n%r"
                          % (line, b"\r\n".join(got_hdr)))
        fields = header_fields(got_hdr)
        names = [n for n, _ in fields]
        self.assertIn(b"received", names, "no Received: line")
        rec = [t for n, t in fields if n == b"received"][0]
        self.assertIn(b"relay.test", rec, "Received: does not name relay.test")
        self.assertEqual(names.count(b"date"), 1, "want exactly one Date:")
        self.assertEqual(names.count(b"message-id"), 1,
                         "want exactly one Message-ID:")
        self.assertNotIn(b"bcc", names)
        return fields
