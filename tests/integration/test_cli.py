"""The command line a sysadmin expects (issue 10, item 6).

submitd -V / -h / unknown flags (exit 2 with the usage); a background
start (no -d, no -F) that returns only once every role serves, 0, and
non-zero with the reason on stderr when it cannot bind or a role dies at
start; -F (foreground, syslog, sd_notify READY=1/STOPPING=1 on
$NOTIFY_SOCKET); submitctl passwd on a terminal (no echo, asked twice);
make install (every example, directories with their modes).
"""

import os
import pty
import re
import select
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import SubmitdTest, wait_for

USAGE = "usage: submitd [-dFhnVv] [-f file]\n"
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))


def submitd(*args, timeout=60, **kw):
    return subprocess.run([harness.SUBMITD] + list(args), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


class Flags(unittest.TestCase):
    def test_version(self):
        r = submitd("-V")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertRegex(r.stdout, r"\Asubmitd \d+\.\d+(\.\d+)?\n\Z")

    def test_help(self):
        r = submitd("-h")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, USAGE, ""))

    def test_unknown_flag_exits_2_with_usage(self):
        r = submitd("-Z")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertEqual(r.stderr, "submitd: unknown option -Z\n" + USAGE)

    def test_missing_argument_exits_2(self):
        r = submitd("-f")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertEqual(r.stderr, "submitd: option -f needs an argument\n" + USAGE)

    def test_extra_argument_exits_2(self):
        r = submitd("-n", "stray")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertEqual(r.stderr, "submitd: unexpected argument: stray\n" + USAGE)

    def test_d_and_F_exclude_each_other(self):
        r = submitd("-d", "-F")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.endswith(USAGE), r.stderr)


def pids_listening(port):
    """PIDs of the processes with a TCP listener on 127.0.0.1:PORT."""
    r = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port],
                       capture_output=True, text=True, timeout=30)
    return sorted({int(p) for p in re.findall(r"pid=(\d+)", r.stdout)})


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


class Background(SubmitdTest):
    """submitd without -d: the command returns once the daemon serves."""
    START_SUBMITD = False
    START_SMARTHOST = False

    def start_bg(self, conf=None):
        return submitd("-f", conf or self.submitd.conf, timeout=120)

    def kill_daemon(self, parent):
        os.kill(parent, signal.SIGTERM)
        wait_for(lambda: not os.path.exists("/proc/%d" % parent) or
                 open("/proc/%d/stat" % parent).read().rsplit(")", 1)[1].split()[0] == "Z",
                 timeout=30, what="the daemon to stop")

    def test_start_returns_0_once_serving(self):
        r = self.start_bg()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        if os.path.exists("/dev/log"):
            self.assertEqual(r.stderr, "")
        # serving already, not some time later: the listeners answer now
        self.assertTrue(harness.port_open("127.0.0.1", self.P1))
        c = self.connect()
        self.assertReply(c.reply(), "220 ")
        c.close()
        smtp = pids_listening(self.P1)
        self.assertEqual(len(smtp), 1, smtp)
        parent = ppid(smtp[0])
        self.addCleanup(lambda: os.path.exists("/proc/%d" % parent) and
                        os.kill(parent, signal.SIGKILL))
        self.assertTrue(os.path.exists(self.control_sock))
        self.kill_daemon(parent)

    def test_bind_failure_exits_1_with_reason(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.P1))
        s.listen(1)
        self.addCleanup(s.close)
        r = self.start_bg()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"127\.0\.0\.1.*%d.*Address already in use"
                         % self.P1)
        self.assertIn("submitd: not started (exit status 1)", r.stderr)
        self.assertEqual(pids_listening(self.P2), [])

    def test_role_dying_at_start_exits_1(self):
        # the spool is a file: -n is content (it reads no spool), the parent
        # makes it the daemon's, the queue role cannot chroot into it and dies
        os.rmdir(self.spool)
        with open(self.spool, "w") as f:
            f.write("not a directory\n")
        r = submitd("-n", "-f", self.submitd.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.start_bg()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"event=role-died role=queue")
        self.assertIn("submitd: not started (exit status 1)", r.stderr)
        wait_for(lambda: pids_listening(self.P1) == [], timeout=30,
                 what="no listener left behind")


class ForegroundSyslog(SubmitdTest):
    """-F: stays in the foreground, logs to syslog (nothing on stderr), and
    tells a service manager READY=1 once serving and STOPPING=1."""
    START_SUBMITD = False
    START_SMARTHOST = False

    def test_F_notifies_ready_and_stopping(self):
        path = os.path.join(self.dir, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(path)
        self.addCleanup(ns.close)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        errf = open(os.path.join(self.dir, "F.err"), "w+")
        self.addCleanup(errf.close)
        p = subprocess.Popen([harness.SUBMITD, "-F", "-f", self.submitd.conf],
                             env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=errf,
                             start_new_session=True)
        self.addCleanup(lambda: p.poll() is None and os.killpg(p.pid, signal.SIGKILL))
        ns.settimeout(60)
        msg = ns.recv(4096).decode()
        self.assertIn("READY=1", msg.split("\n"))
        self.assertIsNone(p.poll())            # still in the foreground
        self.assertTrue(harness.port_open("127.0.0.1", self.P1))
        p.send_signal(signal.SIGTERM)
        msg = ns.recv(4096).decode()
        self.assertIn("STOPPING=1", msg.split("\n"))
        self.assertEqual(p.wait(60), 0)
        errf.seek(0)
        err = errf.read()
        if os.path.exists("/dev/log"):
            self.assertEqual(err, "")           # the log went to syslog
        else:                                   # no syslog daemon here: said so
            self.assertIn("\nsubmitd: /dev/log: No such file or directory: "
                          "logging to stderr\n", "\n" + err)


class PasswdTty(unittest.TestCase):
    """submitctl passwd with a terminal on stdin: no echo, asked twice."""

    def run_tty(self, answers):
        master, slave = pty.openpty()
        out = tempfile.TemporaryFile()
        self.addCleanup(out.close)
        p = subprocess.Popen([harness.SUBMITCTL, "passwd"], stdin=slave,
                             stdout=out, stderr=slave, start_new_session=True)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 120
        for prompt, answer in answers:
            while prompt not in seen:
                self.assertLess(time.monotonic(), deadline, seen)
                r, _, _ = select.select([master], [], [], 1)
                if r:
                    try:
                        seen += os.read(master, 1024)
                    except OSError:
                        break
            os.write(master, answer)
        rc = p.wait(120)
        try:
            while select.select([master], [], [], 0.2)[0]:
                b = os.read(master, 1024)
                if not b:
                    break
                seen += b
        except OSError:
            pass
        os.close(master)
        out.seek(0)
        return rc, seen, out.read().decode()

    def test_asks_twice_without_echo(self):
        rc, tty, out = self.run_tty([(b"Password: ", b"s3cret-pw\n"),
                                     (b"Again: ", b"s3cret-pw\n")])
        self.assertEqual(rc, 0, tty)
        self.assertNotIn(b"s3cret-pw", tty)      # never echoed
        self.assertRegex(out, r"\A\$argon2id\$v=19\$m=65536,t=3,p=1\$\S+\n\Z")

    def test_different_answers_refused(self):
        rc, tty, out = self.run_tty([(b"Password: ", b"one-pw\n"),
                                     (b"Again: ", b"two-pw\n")])
        self.assertEqual(rc, 1)
        self.assertIn(b"submitctl: passwd: the passwords differ", tty)
        self.assertNotIn(b"one-pw", tty)
        self.assertEqual(out, "")


@unittest.skipUnless(os.getuid() == 0, "make install sets owners: needs root")
class MakeInstall(unittest.TestCase):
    def test_install_examples_and_directories(self):
        d = tempfile.mkdtemp(prefix="install-")
        self.addCleanup(subprocess.run, ["rm", "-rf", d])
        r = subprocess.run(["make", "--no-print-directory", "-C", REPO, "install",
                            "DESTDIR=" + d, "PREFIX=/usr",
                            "BUILD=" + os.path.dirname(harness.SUBMITD)],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        def mode(p):
            return stat.S_IMODE(os.stat(d + p).st_mode)
        want = {
            "/usr/sbin/submitd": 0o755, "/usr/sbin/submitctl": 0o755,
            "/usr/share/man/man8/submitd.8": 0o644,
            "/usr/share/man/man8/submitctl.8": 0o644,
            "/usr/share/man/man5/submitd.conf.5": 0o644,
            "/etc/submitd": 0o750,
            "/etc/submitd/submitd.conf.example": 0o644,
            "/etc/submitd/ovh.conf.example": 0o644,
            "/etc/submitd/users.example": 0o640,
            "/etc/submitd/upstream.secrets.example": 0o640,
            "/var/spool/submitd": 0o700, "/var/lib/submitd": 0o700,
        }
        got = {p: (mode(p) if os.path.exists(d + p) else None) for p in want}
        self.assertEqual(got, want)
        for ex in os.listdir(os.path.join(REPO, "conf")):
            if ex.endswith(".example"):
                self.assertTrue(os.path.exists(d + "/etc/submitd/" + ex), ex)


if __name__ == "__main__":
    unittest.main()
