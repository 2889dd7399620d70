"""Outbound spam filtering with a real rspamd, decided before the 250
(issue 16).  Debian's rspamd runs on loopback high ports with a minimal
configuration in a temp dir (rspamd_util.py); the stand-in HTTP servers
for a slow or silent filter are SlowHttp.

Asserted: GTUBE and a Lua reject -> 550 5.7.1 with rspamd's text, nothing
at the smarthost nor in the spool; soft reject -> 451 4.7.1; greylist by
rspamd's score threshold -> 451 4.7.1; add header -> delivered with
rspamd's fields added and removed, the DKIM signatures verifying over
them; rewrite subject by score -> rspamd's Subject:, signed; a removal
of From, Date, Message-ID or Received is ignored (one log line), the rest
applies; a NUL in a field rspamd adds drops that field only (its reject,
or its other fields, apply); no action -> delivered as sent; rspamd down
-> 451 4.7.1 (on-error tempfail, the default) or delivered (on-error
accept), with event=alert kind=filter-down; a filter that never answers
-> 451 4.7.1 after the timeout; a 2 s filter delays its own session only;
25 MB under rspamd's max_message -> scanned, 250, delivered whole; over
it (max_message 10 MiB) -> exactly the on-error rule (451 and nothing
queued, or delivered whole); the filter role runs unprivileged,
chrooted, under seccomp, holding no file nor secret.  FilterRspamdUnix runs them all again with rspamd on a unix
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
        conf.append('filter rspamd "%s" timeout %ds'
                    % (cls.rspamd.url, LARGE_TIMEOUT))
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

    def msgid_of(self, reply):
        """The queue ID a 250 names, else the last one the log names."""
        m = re.search(r"queued as (\S+)", reply.text)
        if m:
            return m.group(1)
        return re.findall(r"msgid=(\S+) event=filter ",
                          self.submitd.log_text())[-1]

    def test_kept_fields_not_removed(self):
        # review of issue 16: rspamd asking to remove From: (milter
        # remove_headers) made the queue refuse the message, 451 at every
        # retry.  From, Date, Message-ID, Received stay as they are (and
        # no second Date: is added), the rest of the reply applies, and
        # one line per message says which were kept
        original = sample_message(subject="FORCE-KEPT",
                                  extra=b"X-Remove-Me: secret\r\n")
        c = self.session()
        r = submit(self, c, original)
        self.assertReply(r, "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        fields = self.assertDelivered(
            m, original.replace(b"X-Remove-Me: secret\r\n", b""))
        names = [n for n, _ in fields]
        self.assertEqual(names.count(b"from"), 1)
        self.assertNotIn(b"x-remove-me", names)
        self.assertIn(b"X-Submitd-Test: rspamd was here",
                      harness.split_message(m["data"])[0])
        self.assertFalse([l for l in harness.split_message(m["data"])[0]
                          if b"1970" in l])
        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(
            m["data"], self.keys)], [True, True])
        qid = self.msgid_of(r)
        self.log_has(r"msgid=%s event=filter-headers-kept " % qid)
        lines = re.findall(r"msgid=%s event=filter-headers-kept .*" % qid,
                           self.submitd.log_text())
        self.assertEqual(lines, [
            'msgid=%s event=filter-headers-kept count=5 '
            'fields="From,Date,Message-ID,Received" reason="a filter may not '
            'remove or add them"' % qid])

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

    def test_large_message_scanned(self):
        # 25 MB, in lines of 76, under rspamd's max_message (50 MiB by
        # default) and well within the filter's timeout (10m) and rspamd's
        # task_timeout (10m): rspamd scans it and says "no action", the
        # client gets 250, the smarthost the whole message
        body = large_body()
        original = sample_message(body=body)
        c = self.session()
        c.sock.settimeout(LARGE_TIMEOUT)
        r = submit(self, c, original)
        self.assertReply(r, "250 2.0.0")
        qid = self.msgid_of(r)
        self.assertRegex(self.submitd.log_text(),
                         r'msgid=%s event=filter action="no action" ' % qid)
        self.assertNotIn("kind=filter-down", self.submitd.log_text())
        m = self.smarthost.wait_messages(1, timeout=LARGE_TIMEOUT)[0]
        self.assertEqual(harness.split_message(m["data"])[1], body)
        self.assertTrue(self.submitd.alive())

    def test_rewrite_subject_by_score(self):
        # a real score past rspamd's rewrite_subject threshold (8.5 >= 8):
        # rspamd's own subject ("[SPAM-TEST] %s") replaces the Subject:,
        # once, before signing
        original = sample_message(subject="SCORE-REWRITE hello")
        c = self.session()
        r = submit(self, c, original)
        self.assertReply(r, "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        hdr, body = harness.split_message(m["data"])
        subjects = [t for n, t in harness.header_fields(hdr)
                    if n == b"subject"]
        self.assertEqual(subjects,
                         [b"Subject: [SPAM-TEST] SCORE-REWRITE hello"])
        self.assertEqual(body, harness.split_message(original)[1])
        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(
            m["data"], self.keys)], [True, True])
        self.log_has(r'msgid=%s event=filter action="rewrite subject" '
                     r'score=8\.50 required=15\.00 ' % self.msgid_of(r))

    def test_greylist_by_score(self):
        # a real score past rspamd's greylist threshold (4.5 >= 4), no
        # greylist module (it needs Redis): rspamd answers greylist at
        # every try; 451 4.7.1 with our text (rspamd gives none), nothing
        # queued
        c = self.session()
        r = submit(self, c, sample_message(subject="SCORE-GREYLIST hello"))
        self.assertEqual(r.text, "451 4.7.1 Try again later")
        self.assertNothingQueued()
        self.log_has(r'event=filter action="greylist" score=4\.50 ')

    def test_nul_in_a_field_dropped_reject_applies(self):
        # review of issue 16: a NUL in a field rspamd asks to add made the
        # whole reply fail (451 by on-error); now that field is dropped
        # and rspamd's reject applies
        c = self.session()
        r = submit(self, c, sample_message(subject="FORCE-NUL-REJECT"))
        self.assertEqual(r.text, "550 5.7.1 Test says no")
        self.assertNothingQueued()
        self.log_has(r'event=filter-headers-dropped count=1 '
                     r'fields="X-Submitd-Nul" reason="not writable safely"')
        self.assertNotIn("kind=filter-down", self.submitd.log_text())

    def test_nul_in_a_field_dropped_rest_applies(self):
        original = sample_message(subject="FORCE-NUL-HEADER")
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        hdr = harness.split_message(m["data"])[0]
        self.assertDelivered(m, original)
        self.assertIn(b"X-Submitd-Test: rspamd was here", hdr)
        self.assertNotIn(b"X-Submitd-Nul", m["data"])
        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(
            m["data"], self.keys)], [True, True])
        self.log_has(r'event=filter-headers-dropped count=1 '
                     r'fields="X-Submitd-Nul"')

    MESSAGE_SIZE = "30M"


LARGE_TIMEOUT = 600     # the filter's timeout for 25 MB, and the client's


def large_body():
    """25 MiB in lines of 76 octets."""
    line = (b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
            b"KLMNOPQRSTUVWXYZ0123\r\n")
    return line * (25 * 1024 * 1024 // len(line))


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


class FilterRspamdTooLarge(harness.SubmitdTest):
    """rspamd's max_message set to 10 MiB: a 25 MB message is refused by
    rspamd before it reads the body (HTTP 413, or the connection closed
    under curl's upload), a filter error whatever the machine's speed:
    the on-error rule decides, exactly."""

    ON_ERROR = ""
    MESSAGE_SIZE = "30M"

    @classmethod
    def setUpClass(cls):
        cls.rspamd = rspamd_util.Rspamd(max_message=10 * 1024 * 1024)
        try:
            cls.rspamd.start()
        except BaseException:
            cls.rspamd.stop()
            raise
        cls.EXTRA_CONF = ('filter rspamd "%s" timeout %ds%s'
                          % (cls.rspamd.url, LARGE_TIMEOUT, cls.ON_ERROR),)

    @classmethod
    def tearDownClass(cls):
        cls.rspamd.stop()

    def send_large(self):
        body = large_body()
        c = self.session()
        c.sock.settimeout(LARGE_TIMEOUT)
        return submit(self, c, sample_message(body=body)), body

    def alert(self):
        return harness.wait_for(lambda: re.search(
            r"event=alert kind=filter-down on-error=(\S+) ms=\d+ "
            r"ip=127\.0\.0\.1 reason=(\"[^\"]*\")",
            self.submitd.log_text()), 20, what="the filter-down line")

    def test_over_rspamds_limit_is_451(self):
        r, _ = self.send_large()
        self.assertEqual(r.text, "451 4.7.1 Content filter unavailable, "
                         "try again later")
        self.assertNothingQueued()
        a = self.alert()
        self.assertEqual(a.group(1), "tempfail")
        self.assertIn(a.group(2), ('"HTTP status 413"', '"connection closed"'))
        self.assertNotIn("event=filter action=", self.submitd.log_text())
        self.assertTrue(self.submitd.alive())


class FilterRspamdTooLargeAccept(FilterRspamdTooLarge):
    """The same with on-error accept: delivered whole, unscanned."""

    ON_ERROR = " on-error accept"

    def test_over_rspamds_limit_is_451(self):
        self.skipTest("on-error accept: FilterRspamdTooLarge's test")

    def test_over_rspamds_limit_delivered_whole(self):
        r, body = self.send_large()
        self.assertReply(r, "250 2.0.0")
        m = self.smarthost.wait_messages(1, timeout=LARGE_TIMEOUT)[0]
        self.assertEqual(harness.split_message(m["data"])[1], body)
        self.assertEqual(self.alert().group(1), "accept")


class FilterNulReply(harness.SubmitdTest):
    """A stand-in filter whose reply holds "\\u0000" in a field's name
    and in another's value, exactly as the review found it: the reply's
    action and its other fields apply, the two fields are dropped."""

    REPLY = (b'{"action":"add header","score":7.0,"required_score":15.0,'
             b'"milter":{"add_headers":{"X-Bad\\u0000Name":"v",'
             b'"X-Bad-Value":"a\\u0000\\r\\nBcc: mallory@example.net",'
             b'"X-Good":"kept"},"remove_headers":{"X-Remove-Me":0}}}')

    def setUp(self):
        self.http = rspamd_util.SlowHttp(delay=0, reply=self.REPLY)
        self.addCleanup(self.http.stop)
        self.EXTRA_CONF = ('filter rspamd "%s"' % self.http.url,)
        super().setUp()

    def test_fields_dropped_action_applies(self):
        original = sample_message(extra=b"X-Remove-Me: secret\r\n")
        c = self.session()
        self.assertReply(submit(self, c, original), "250 2.0.0")
        m = self.smarthost.wait_messages(1)[0]
        self.assertDelivered(m, original.replace(b"X-Remove-Me: secret\r\n",
                                                 b""))
        hdr = harness.split_message(m["data"])[0]
        self.assertIn(b"X-Good: kept", hdr)
        self.assertNotIn(b"X-Bad", m["data"])
        self.assertNotIn(b"mallory", m["data"])
        self.assertEqual(m["rcpt_tos"], [RCPT])
        log = self.submitd.log_text()
        self.assertRegex(log, r'event=filter-headers-dropped count=2 '
                         r'fields="X-Bad\\x01Name,X-Bad-Value" '
                         r'reason="not writable safely"')
        self.assertRegex(log, r'event=filter action="add header" score=7\.00')
        self.assertNotIn("kind=filter-down", log)


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
        # the other directory exists (since 8bd22ef a missing one is
        # refused at load, before the reload compares)
        os.mkdir(os.path.join(self.sockdir, "x"))
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
