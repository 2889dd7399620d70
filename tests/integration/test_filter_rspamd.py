"""Outbound spam filtering with a real rspamd, decided before the 250
(issue 16).  Debian's rspamd runs on loopback high ports with a minimal
configuration in a temp dir (rspamd_util.py); the stand-in HTTP servers
for a slow or silent filter are SlowHttp.

Asserted: GTUBE and a Lua reject -> 550 5.7.1 with rspamd's text, nothing
at the smarthost nor in the spool; soft reject -> 451 4.7.1; add header ->
delivered with rspamd's fields added and removed, the DKIM signatures
verifying over them; no action -> delivered as sent; rspamd down -> 451
4.7.1 (on-error tempfail, the default) or delivered (on-error accept),
with event=alert kind=filter-down; a filter that never answers -> 451
4.7.1 after the timeout; a 2 s filter delays its own session only; a
25 MB message is scanned or refused by the on-error rule, never cut; the
filter role runs unprivileged, chrooted, under seccomp, holding no file
nor secret.  FilterRspamdUnix runs them all again with rspamd on a unix
socket (the filter role chrooted in its directory); FilterDownUnix: the
socket missing, or its directory removed under the running role."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "dkim"))

import harness                                  # noqa: E402
import rspamd_util                              # noqa: E402
import test_privsep                             # noqa: E402
import verifiers                                # noqa: E402
from harness import USER, RCPT, dot_data, sample_message  # noqa: E402

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def submit(t, c, msg, rcpts=(RCPT,)):
    """MAIL, RCPT, DATA on session C; the reply to the end of DATA."""
    t.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
    for r in rcpts:
        t.assertReply(c.cmd("RCPT TO:<%s>" % r), "250")
    t.assertReply(c.cmd("DATA"), "354")
    c.send(dot_data(msg))
    return c.reply()


class FilterRspamd(harness.SubmitdTest):
    """With a real rspamd and two DKIM keys."""

    UNIX = False        # FilterRspamdUnix: rspamd on a unix socket

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="submitd-filter-")
        cls.keys = {}
        conf = []
        for alg, sel in (("rsa", "s2026r"), ("ed25519", "s2026e")):
            path = os.path.join(cls.keydir, "example.org.%s.key" % sel)
            name, record, _ = verifiers.keygen(alg, "example.org", sel, path)
            cls.keys[name] = record
            conf.append('dkim domain example.org selector %s %s key "%s"'
                        % (sel, alg, path))
        cls.rspamd = rspamd_util.Rspamd(unix=cls.UNIX)
        try:
            cls.rspamd.start()
        except BaseException:
            cls.rspamd.stop()
            shutil.rmtree(cls.keydir, True)
            raise
        conf.append('filter rspamd "%s" timeout 60s' % cls.rspamd.url)
        cls.metrics_port = harness.free_port()
        conf.append("metrics listen on 127.0.0.1 port %d" % cls.metrics_port)
        cls.EXTRA_CONF = tuple(conf)

    @classmethod
    def tearDownClass(cls):
        cls.rspamd.stop()
        shutil.rmtree(cls.keydir, True)

    def log_has(self, pattern, timeout=10):
        return harness.wait_for(
            lambda: re.search(pattern, self.submitd.log_text()),
            timeout, what=pattern)

    def test_gtube_rejected_nothing_queued(self):
        c = self.session()
        r = submit(self, c, sample_message(body=GTUBE + b"\r\n"))
        self.assertEqual(r.text, "550 5.7.1 Gtube pattern")
        # the session goes on: RSET state, a new transaction is possible
        self.assertReply(c.cmd("NOOP"), "250")
        self.assertNothingQueued()
        self.log_has(r'event=filter action="reject" .*user="alice@example\.org"')

    def test_lua_reject_uses_rspamds_text(self):
        c = self.session()
        r = submit(self, c, sample_message(subject="FORCE-REJECT now"))
        self.assertEqual(r.text, "550 5.7.1 Test says no")
        self.assertNothingQueued()

    def test_soft_reject_is_451(self):
        c = self.session()
        r = submit(self, c, sample_message(subject="FORCE-SOFT please"))
        self.assertEqual(r.text, "451 4.7.1 Test says later")
        self.assertNothingQueued()

    def test_clean_message_delivered_unchanged(self):
        original = sample_message()
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        self.assertDelivered(m, original)
        self.assertNotIn(b"X-Spam", m["data"])
        self.log_has(r'event=filter action="no action"')

    def test_add_header_applied_before_signing(self):
        original = sample_message(subject="FORCE-HEADER",
                                  extra=b"X-Remove-Me: secret\r\n")
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        data = m["data"]
        hdr, body = harness.split_message(data)
        self.assertIn(b"X-Submitd-Test: rspamd was here", hdr)
        self.assertFalse([l for l in hdr if l.lower().startswith(b"x-remove-me")],
                         hdr)
        self.assertEqual(body, harness.split_message(original)[1])
        # both signatures verify over the header as it left
        sigs = re.findall(rb"(?mi)^DKIM-Signature:", data)
        self.assertEqual(len(sigs), 2, data[:2000])
        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(data, self.keys)],
                         [True, True])
        self.log_has(r'event=filter action="add header"')

    def test_counted_per_user(self):
        c = self.session()
        self.assertReply(submit(self, c, sample_message(body=GTUBE + b"\r\n")),
                         "550 5.7.1")
        self.assertReply(submit(self, c, sample_message(subject="FORCE-SOFT")),
                         "451 4.7.1")
        self.assertReply(submit(self, c, sample_message(subject="FORCE-HEADER")),
                         "250 2.0.0")
        self.assertReply(submit(self, c, sample_message()), "250 2.0.0")
        p = subprocess.run([harness.SUBMITCTL, "-s", self.control_sock, "show",
                            "filter", "--json"], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = json.loads(p.stdout)
        self.assertTrue(got["filter"])
        self.assertEqual(got["users"], [{
            "user": USER, "scanned": 4, "rejected": 1, "tempfailed": 1,
            "headers": 1, "errors": 0}])
        p = subprocess.run([harness.SUBMITCTL, "-s", self.control_sock, "show",
                            "filter"], capture_output=True, text=True,
                           timeout=20)
        self.assertRegex(p.stdout, r"(?m)^alice@example\.org +4 +1 +1 +1 +0$")
        # the metrics endpoint (issue 15) carries the same counts
        text = harness.wait_for(lambda: self.scrape(), 20, what="a scrape")
        self.assertIn('submitd_filter_messages_total{result="rejected"} 1', text)
        self.assertIn('submitd_filter_messages_total{result="scanned"} 4', text)
        self.assertIn('submitd_filter_rejected_by_user_total{user="%s"} 1'
                      % USER, text)
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def scrape(self):
        import urllib.request
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics"
                                        % self.metrics_port, timeout=10) as r:
                return r.read().decode()
        except OSError:
            return None

    def test_large_message_scanned_or_refused_whole(self):
        # 25 MB, in lines of 76: scanned within the timeout, or refused by
        # the on-error rule; never a crash, never a partial message
        line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\r\n"
        body = line * (25 * 1024 * 1024 // len(line))
        original = sample_message(body=body)
        c = self.session()
        c.sock.settimeout(180)
        r = submit(self, c, original)
        self.assertReply(r, ("250 2.0.0", "451 4.7.1"))
        if r.text.startswith("250"):
            # a 250 under on-error tempfail means rspamd gave a verdict
            self.assertIn("event=filter action=", self.submitd.log_text())
            m = self.smarthost.wait_messages(1, timeout=120)[0]
            self.assertEqual(harness.split_message(m["data"])[1], body)
        else:
            self.assertNothingQueued()
        self.assertTrue(self.submitd.alive())

    MESSAGE_SIZE = "30M"


class FilterRspamdUnix(FilterRspamd):
    """Every test of FilterRspamd with rspamd's normal worker on a unix
    socket only (filter rspamd "/path/rspamd.sock", no TCP port to fall
    back on); and the filter role is chrooted in the socket's directory."""

    UNIX = True

    @unittest.skipUnless(test_privsep.IS_ROOT, "privilege separation needs root")
    def test_filter_role_chrooted_in_socket_dir(self):
        c = self.session()
        self.assertReply(submit(self, c, sample_message()), "250 2.0.0")
        roles = harness.wait_for(
            lambda: (lambda r: r if "filter" in r else None)(
                test_privsep.children(self.submitd.proc.pid)), 10,
            what="the filter role")
        pid = roles["filter"]
        self.assertEqual(test_privsep.status(pid)["Seccomp"], "2")
        want = os.path.dirname(self.rspamd.sock)
        if test_privsep.SANITIZED:      # ASan: chdir, no chroot
            self.assertEqual(os.readlink("/proc/%d/cwd" % pid), want)
        else:
            self.assertEqual(os.readlink("/proc/%d/root" % pid), want)


class FilterDown(harness.SubmitdTest):
    """rspamd not running: a closed loopback port."""

    ON_ERROR = ""

    def setUp(self):
        self.closed_port = harness.free_port()
        self.EXTRA_CONF = ('filter rspamd "http://127.0.0.1:%d" timeout 5s%s'
                           % (self.closed_port, self.ON_ERROR),)
        super().setUp()

    def test_tempfail_by_default(self):
        c = self.session()
        r = submit(self, c, sample_message())
        self.assertEqual(r.text, "451 4.7.1 Content filter unavailable, "
                         "try again later")
        self.assertNothingQueued()
        harness.wait_for(lambda: "event=alert kind=filter-down" in
                         self.submitd.log_text(), 10, what="alert line")
        p = subprocess.run([harness.SUBMITCTL, "-s", self.control_sock, "show",
                            "filter", "--json"], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(json.loads(p.stdout)["users"], [{
            "user": USER, "scanned": 0, "rejected": 0, "tempfailed": 0,
            "headers": 0, "errors": 1}])


    def test_reload_applies_on_error(self):
        # tempfail now; a reload to on-error accept lets mail through
        c = self.session()
        self.assertReply(submit(self, c, sample_message()), "451 4.7.1")
        text = open(self.submitd.conf).read().replace(
            "timeout 5s", "timeout 5s on-error accept")
        harness.write_file(self.submitd.conf, text)
        harness.wait_for(lambda: os.path.exists(self.control_sock), 20,
                         what="the control socket")
        r = subprocess.run([harness.SUBMITCTL, "-s", self.control_sock,
                            "reload"], capture_output=True, text=True,
                           timeout=60 * harness.SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        original = sample_message()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], original)


    def reload(self, old, new):
        """The config with OLD replaced by NEW, reloaded; submitctl's
        answer."""
        text = open(self.submitd.conf).read()
        self.assertIn(old, text)
        harness.write_file(self.submitd.conf, text.replace(old, new))
        return subprocess.run([harness.SUBMITCTL, "-s", self.control_sock,
                               "reload"], capture_output=True, text=True,
                              timeout=60 * harness.SLOW)

    def test_reload_applies_address_and_settings(self):
        # the filter role reloads live: a new address, settings-id and
        # timeout take effect for the next message, no restart
        http = rspamd_util.SlowHttp(delay=0)
        self.addCleanup(http.stop)
        r = self.reload('"http://127.0.0.1:%d" timeout 5s' % self.closed_port,
                        '"%s" timeout 7s settings-id outbound' % http.url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.log_has_reload(http.url, 7)
        original = sample_message()
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], original)
        self.assertEqual(len(http.requests), 1)
        self.assertIn(b"\r\nSettings-Id: outbound\r\n", http.requests[0][1])

    def log_has_reload(self, url, timeout):
        harness.wait_for(lambda: "event=filter-reload url=%s timeout=%d"
                         % (url, timeout) in self.submitd.log_text(), 20,
                         what="the filter role's reload")


class FilterDownUnix(FilterDown):
    """rspamd's unix socket missing (its directory there, nobody
    listening): the same on-error rules as a closed port."""

    def setUp(self):
        self.sockdir = tempfile.mkdtemp(prefix="submitd-nosock-")
        os.chmod(self.sockdir, 0o755)
        self.addCleanup(shutil.rmtree, self.sockdir, True)
        self.EXTRA_CONF = ('filter rspamd "%s/rspamd.sock" timeout 5s%s'
                           % (self.sockdir, self.ON_ERROR),)
        harness.SubmitdTest.setUp(self)

    def test_tempfail_by_default(self):
        super().test_tempfail_by_default()
        self.assertRegex(self.submitd.log_text(),
                         r'event=filter-connect socket=\S+/rspamd\.sock '
                         r'reason="No such file or directory"')

    def test_reload_applies_address_and_settings(self):
        # another name in the same directory reloads; a TCP address or
        # another directory (the role's chroot, its seccomp) takes a restart
        old = '"%s/rspamd.sock" timeout 5s' % self.sockdir
        r = self.reload(old, '"%s/other.sock" timeout 6s' % self.sockdir)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.log_has_reload(self.sockdir + "/other.sock", 6)
        for bad in ('"http://127.0.0.1:11333"',
                    '"%s/x/other.sock"' % self.sockdir):
            r = self.reload('"%s/other.sock"' % self.sockdir, bad)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("filter changed: restart submitd", r.stdout + r.stderr)
            harness.write_file(self.submitd.conf, open(
                self.submitd.conf).read().replace(bad, '"%s/other.sock"'
                                                  % self.sockdir))

    def test_socket_dir_removed_says_restart(self):
        # the filter role is chrooted in the directory: once it is gone
        # (rspamd's RuntimeDirectory when rspamd stops), the log says why
        # nothing connects any more
        os.rmdir(self.sockdir)
        c = self.session()
        self.assertReply(submit(self, c, sample_message()), "451 4.7.1")
        self.assertNothingQueued()
        harness.wait_for(lambda: "its directory was removed since submitd "
                         "started: restart submitd" in self.submitd.log_text(),
                         10, what="the filter-connect line")


class FilterDownAccept(FilterDown):
    ON_ERROR = " on-error accept"

    def test_tempfail_by_default(self):
        self.skipTest("on-error accept: the default's test is FilterDown's")

    def test_reload_applies_on_error(self):
        self.skipTest("on-error accept: FilterDown reloads from tempfail")

    def test_accept_delivers(self):
        original = sample_message()
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], original)
        self.assertIn("event=alert kind=filter-down", self.submitd.log_text())
        self.assertIn("on-error=accept", self.submitd.log_text())


class FilterHangs(harness.SubmitdTest):
    """A filter that accepts the request and never answers."""

    def setUp(self):
        self.http = harness_http = rspamd_util.SlowHttp(hang=True)
        self.addCleanup(harness_http.stop)
        self.EXTRA_CONF = ('filter rspamd "%s" timeout 2s' % harness_http.url,)
        super().setUp()

    def test_timeout_is_451(self):
        c = self.session()
        t0 = time.time()
        r = submit(self, c, sample_message())
        took = time.time() - t0
        self.assertEqual(r.text, "451 4.7.1 Content filter unavailable, "
                         "try again later")
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 30 * harness.SLOW)
        self.assertEqual(len(self.http.requests), 1)
        self.assertIn("reason=\"timeout\"", self.submitd.log_text())
        self.assertNothingQueued()


class FilterSlow(harness.SubmitdTest):
    """A filter that takes 2 s for one message: only its session waits."""

    def setUp(self):
        self.http = rspamd_util.SlowHttp(delay=2.0)
        self.addCleanup(self.http.stop)
        self.EXTRA_CONF = ('filter rspamd "%s" timeout 20s' % self.http.url,)
        super().setUp()

    def test_slow_filter_stalls_only_its_session(self):
        slow = self.session()
        fast = self.session()
        result = {}

        def run_slow():
            t0 = time.time()
            result["reply"] = submit(self, slow, sample_message(subject="SLOW one"))
            result["took"] = time.time() - t0

        th = threading.Thread(target=run_slow)
        th.start()
        # the slow message is at the filter before the fast ones start
        harness.wait_for(lambda: len(self.http.requests) >= 1, 10,
                         what="the slow request")
        fast_times = []
        for _ in range(3):
            t0 = time.time()
            self.assertReply(submit(self, fast, sample_message()), "250 2.0.0")
            fast_times.append(time.time() - t0)
        th.join(30)
        self.assertReply(result["reply"], "250 2.0.0")
        self.assertGreaterEqual(result["took"], 1.9)
        # the three fast messages together took less than the slow one
        self.assertLess(sum(fast_times), 1.9, fast_times)
        # the stand-in saw what rspamd's protocol names, for each message
        head = self.http.requests[0][1].decode()
        for h in ("POST /checkv2 HTTP/1.1", "User: alice@example.org",
                  "IP: 127.0.0.1", "From: <alice@example.org>",
                  "Rcpt: <carol@example.com>", "Helo: client.test",
                  "Queue-Id: ", "MTA-Name: relay.test"):
            self.assertIn(h, head)
        self.smarthost.wait_messages(4)


@unittest.skipUnless(test_privsep.IS_ROOT, "privilege separation needs root")
class FilterConfined(harness.SubmitdTest):
    """The filter role: unprivileged, chrooted in /var/empty, under
    seccomp, holding no file, no password hash, no upstream secret."""

    def setUp(self):
        self.http = rspamd_util.SlowHttp(delay=0)
        self.addCleanup(self.http.stop)
        self.EXTRA_CONF = ('filter rspamd "%s"' % self.http.url,)
        super().setUp()

    def test_filter_role_confined(self):
        original = sample_message()
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        self.smarthost.wait_messages(1)
        want = set(test_privsep.ROLES) | {"filter"}
        roles = harness.wait_for(
            lambda: (lambda r: r if set(r) == want else None)(
                test_privsep.children(self.submitd.proc.pid)), 10,
            what="every role and the filter")
        pid = roles["filter"]
        pw = test_privsep.pwd.getpwnam("_submitd")
        st = test_privsep.status(pid)
        self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["CapEff"], "0000000000000000")
        if not test_privsep.SANITIZED:
            self.assertEqual(os.readlink("/proc/%d/root" % pid), "/var/empty")
        for fd, target in test_privsep.fd_targets(pid).items():
            if fd <= 2:
                continue
            self.assertFalse(target.startswith("/") and not target.startswith("/dev/"),
                             "filter role has a file open: fd %d -> %s" % (fd, target))
        mem = test_privsep.read_memory(pid)
        with open(self.users_file) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    self.assertNotIn(line.split(":")[1].encode(), mem)
        self.assertNotIn(harness.UP_PASSWORD.encode(), mem)


if __name__ == "__main__":
    unittest.main()
