"""Privilege separation (issue 4), checked from /proc on a running daemon:
each role's user, groups, root directory, NoNewPrivs and seccomp mode; the
smtp role holds no descriptor of the users file, a key, the secrets or the
spool; a role that dies takes the daemon down without losing accepted mail;
malformed IPC packets pushed into each role's socket are rejected and
logged while the daemon goes on serving."""
import ctypes
import glob
import os
import pwd
import signal
import smtplib
import socket
import ssl
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, PASSWORD, RCPT, sample_message  # noqa: E402

ROLES = ("smtp", "auth", "queue", "relay", "control")
IS_ROOT = os.geteuid() == 0
SANITIZED = "asan" in os.environ.get("BUILD", "")


def children(ppid):
    out = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pid = int(stat.split("/")[2])
            if int(fields[1]) != ppid:
                continue
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except (OSError, ValueError, IndexError):
            continue
        if comm.startswith("submitd: "):
            # comm holds 15 octets: "submitd: contro" is the control role
            name = comm[len("submitd: "):]
            out[[r for r in ROLES if r.startswith(name)][0]
                if any(r.startswith(name) for r in ROLES) else name] = pid
    return out


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def fd_targets(pid):
    out = {}
    for fd in glob.glob("/proc/%d/fd/*" % pid):
        try:
            out[int(fd.rsplit("/", 1)[1])] = os.readlink(fd)
        except OSError:
            pass
    return out


def pidfd_getfd(pid, fd):
    """A copy of PID's descriptor FD (Linux 5.6+, needs ptrace rights)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        r = libc.syscall(438, pidfd, fd, 0)     # SYS_pidfd_getfd
        if r < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return r
    finally:
        os.close(pidfd)


class RoleSessions(harness.SubmitdTest):
    """Issue 12 item 7: every role is a session of its own without a
    controlling terminal, even when the daemon runs under -d on the
    operator's terminal (before: the roles shared it, so TIOCSTI could
    push input into the operator's shell).  The daemon is started here on
    a pseudo-terminal that is its controlling terminal."""

    START_SUBMITD = False

    def test_each_role_its_own_session_no_tty(self):
        import fcntl
        import pty
        import subprocess
        import termios
        import threading
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)

        def on_tty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        proc = subprocess.Popen(
            [harness.SUBMITD, "-d", "-f", self.submitd.conf],
            stdin=slave, stdout=slave, stderr=slave, preexec_fn=on_tty)
        os.close(slave)
        out = []

        def drain():                    # the log goes to the terminal
            while True:
                try:
                    b = os.read(master, 65536)
                except OSError:
                    return
                if not b:
                    return
                out.append(b)
        threading.Thread(target=drain, daemon=True).start()

        def stop():
            roles = harness.role_pids(proc.pid)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30 * harness.SLOW)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            harness.kill_stragglers(roles)
        self.addCleanup(stop)
        want = ("smtp", "auth", "queue", "relay", "control")
        roles = harness.wait_for(
            lambda: (lambda c: c if len(c) == len(want) else None)(
                children(proc.pid)), 30, what="every role")

        def stat(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # pgrp, session, tty_nr
            return int(fields[2]), int(fields[3]), int(fields[4])
        _, psid, ptty = stat(proc.pid)
        self.assertEqual(psid, proc.pid)
        self.assertNotEqual(ptty, 0, "the test's terminal is the parent's")
        # a role is forked, then calls setsid at once: wait for it
        harness.wait_for(lambda: all(stat(p)[1] == p for p in
                                     roles.values()), 30,
                         what="every role in its own session")
        for role, pid in roles.items():
            with self.subTest(role=role):
                pgrp, sid, tty = stat(pid)
                self.assertEqual(sid, pid)
                self.assertEqual(pgrp, pid)
                self.assertEqual(tty, 0, "a controlling terminal")
                if IS_ROOT:
                    uid = status(pid)["Uid"].split()
                    harness.wait_for(lambda: status(pid)["Uid"].split()[0]
                                     != "0", 10, what="the drop")
                    uid = status(pid)["Uid"].split()
                    self.assertEqual(
                        uid, [str(pwd.getpwnam("_submitd").pw_uid)] * 4)


@unittest.skipUnless(IS_ROOT, "privilege separation needs root")
class Privsep(harness.SubmitdTest):

    def roles(self):
        got = harness.wait_for(
            lambda: (lambda c: c if len(c) == len(ROLES) else None)(
                children(self.submitd.proc.pid)), 10, what="every role")
        self.assertEqual(sorted(got), sorted(ROLES))
        # A role is named at fork and sets itself up as root (keys, CA
        # bundle, store) before it drops: wait for that, or a check of
        # its user races with its start.  A role that never drops still
        # fails here, or in the checks of its user.
        harness.wait_for(lambda: all(self.dropped(pid) for pid in got.values()),
                         10, what="every role to drop root")
        return got

    @staticmethod
    def dropped(pid):
        try:
            return status(pid)["Uid"].split()[0] != "0"
        except (OSError, KeyError, IndexError):
            return False

    def submit(self, body_tag=b""):
        msg = sample_message(body=b"privsep test " + body_tag + b"\r\n")
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ssl.create_default_context(cafile=self.certs["ca"]))
            s.login(USER, PASSWORD)
            s.sendmail(USER, [RCPT], msg)
        return msg

    def test_roles_are_confined(self):
        pw = pwd.getpwnam("_submitd")
        roles = self.roles()
        parent = status(self.submitd.proc.pid)
        self.assertEqual(parent["Uid"].split()[0], "0", "the parent stays root")
        for role, pid in roles.items():
            st = status(pid)
            with self.subTest(role=role):
                self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4)
                self.assertEqual(st["Gid"].split(), [str(pw.pw_gid)] * 4)
                self.assertEqual(st["Groups"].split(), [str(pw.pw_gid)])
                self.assertEqual(st["NoNewPrivs"], "1")
                self.assertEqual(st["Seccomp"], "2")
                self.assertEqual(st["CapEff"], "0000000000000000")
                root = os.readlink("/proc/%d/root" % pid)
                want = os.path.realpath(self.spool) if role == "queue" else "/var/empty"
                if role == "auth":      # its counters (issue 5)
                    want = os.path.realpath(os.path.join(self.dir, "state"))
                # ASan builds keep "/" so that LeakSanitizer can work
                self.assertEqual(root, "/" if SANITIZED else want)
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    self.assertTrue(f.read().startswith(b"submitd: " + role.encode()))

    def test_smtp_role_holds_no_secret(self):
        self.submit()
        self.smarthost.wait_messages(1)
        pid = self.roles()["smtp"]
        secret_paths = (self.users_file, self.secrets_file, self.certs["ca"])
        for fd, target in fd_targets(pid).items():
            if fd <= 2:
                continue    # stdin/stdout/stderr: the test's log file
            self.assertFalse(target.startswith("/") and not target.startswith("/dev/"),
                             "smtp role has a file open: fd %d -> %s" % (fd, target))
            self.assertNotIn(target, secret_paths)
            self.assertFalse(target.startswith(os.path.realpath(self.spool)))
        # nor the password hash in its memory
        with open(self.users_file) as f:
            hashes = [line.split(":")[1].encode() for line in f
                      if line.strip() and not line.startswith("#")]
        mem = read_memory(pid)
        for h in hashes:
            self.assertNotIn(h, mem, "smtp role memory holds a password hash")
        self.assertNotIn(harness.UP_PASSWORD.encode(), mem)

    def test_dead_role_stops_the_daemon_and_keeps_mail(self):
        self.smarthost.stop()
        msg = self.submit(b"kept")
        self.assertEqual(self.smarthost.messages(), [])
        roles = self.roles()
        os.kill(roles["queue"], signal.SIGKILL)
        proc = self.submitd.proc
        harness.wait_for(lambda: proc.poll() is not None, 15,
                         what="the daemon to exit after a role died")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("event=role-died role=queue", self.submitd.log_text())
        for role, pid in roles.items():
            self.assertFalse(os.path.exists("/proc/%d/status" % pid) and
                             status(pid).get("State", "").startswith(("R", "S")),
                             "role %s still running" % role)
        self.submitd.proc = None
        self.smarthost.start()
        self.submitd.start()
        m = self.smarthost.wait_messages(1)[0]
        self.assertDelivered(m, msg)

    def test_parent_killed_roles_exit(self):
        # kill -9 of the parent alone: no role may live on holding the
        # listeners or the spool (regression: an orphaned smtp role kept
        # answering on the port after a restart)
        roles = self.roles()
        proc = self.submitd.proc
        proc.kill()
        proc.wait(10)

        def gone():
            return all(not os.path.exists("/proc/%d" % pid) or
                       status(pid).get("State", "").startswith("Z")
                       for pid in roles.values())
        harness.wait_for(gone, 10, what="every role to exit after the parent")
        self.assertFalse(harness.port_open("127.0.0.1", self.P1))
        self.submitd.proc = None
        self.submitd.start()
        msg = self.submit(b"after a parent kill")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], msg)

    def test_malformed_ipc_is_rejected(self):
        roles = self.roles()
        # A descriptor of role X's channel end delivers into its peer.
        sent = 0
        for role in ("smtp", "queue", "relay", "auth"):
            for fd, target in fd_targets(roles[role]).items():
                if not target.startswith("socket:"):
                    continue
                try:
                    dup = pidfd_getfd(roles[role], fd)
                except OSError:
                    continue
                s = socket.socket(fileno=dup)
                try:
                    if s.type != socket.SOCK_SEQPACKET:
                        continue
                    for pkt in malformed_packets():
                        s.send(pkt)
                        sent += 1
                    # a well-formed header with an fd that is not announced
                    r, w = os.pipe()
                    s.sendmsg([struct.pack("<IIQII", 3, 0, 7, 0, 0x53554244)],
                              [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                struct.pack("i", r))])
                    os.close(r)
                    os.close(w)
                except OSError:
                    pass
                finally:
                    s.detach()
                    os.close(dup)
        self.assertGreater(sent, 20)
        harness.wait_for(lambda: self.submitd.log_text().count("event=ipc-reject") >= 20,
                         10, what="ipc-reject log lines")
        # every role still there, and the daemon still serves
        self.assertEqual(sorted(self.roles()), sorted(ROLES))
        msg = self.submit(b"after the garbage")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], msg)
        for role in ROLES:
            self.assertIn("%s: " % role, self.submitd.log_text())


def malformed_packets():
    magic = 0x53554244
    hdr = lambda t, n, rid=1, fd=0, mg=magic: struct.pack("<IIQII", t, n, rid, fd, mg)
    return [
        b"",                                  # empty
        b"\x01\x02\x03",                      # truncated header
        hdr(1, 10)[:20],                      # truncated header, valid start
        hdr(1, 100) + b"x" * 10,              # length says more than sent
        hdr(1, 0) + b"x" * 10,                # length says less than sent
        hdr(999, 0),                          # unknown type
        hdr(0, 0),                            # type zero
        hdr(1, 4, mg=0) + b"abcd",            # bad magic
        hdr(1, 4, fd=1) + b"abcd",            # fd announced, none passed
        hdr(2, 5) + b"short",                 # known type, wrong size
        hdr(5, 3) + b"bad",                   # QUEUE_COMMIT garbage
        hdr(8, 2000) + os.urandom(2000),      # RELAY_DELIVER garbage
        hdr(9, 600) + os.urandom(600),        # RELAY_RESULT garbage
        hdr(1, 700 + 128) + b"\xff" * 828,    # AUTH_LOGIN without NULs
        hdr(1, 70000) + b"y" * 70000,         # oversized
    ]


def read_memory(pid):
    """The readable, writable private mappings of PID (heap and data)."""
    out = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            if "rw" not in parts[1]:
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo > 256 << 20:
                continue
            try:
                mem.seek(lo)
                out.append(mem.read(hi - lo))
            except (OSError, ValueError, OverflowError):
                pass
    return b"".join(out)


if __name__ == "__main__":
    unittest.main()
