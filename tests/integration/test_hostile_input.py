"""Hostile input found by a review of the daemon, each fixed, each here:
a From: header that a mail reader reads as another address than the check
did; NUL octets in DATA; an AUTH LOGIN user name over the limit (an
out-of-bounds read); an overlong command swallowing the commands after
it; a client that sends without reading (unbounded reply buffer); more
recipient octets than one IPC packet carries (the smtp role died)."""
import base64
import glob
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, RCPT, dot_data        # noqa: E402


def msg_with_from(frm):
    return (b"From: " + frm + b"\r\nTo: <carol@example.com>\r\n"
            b"Subject: from test\r\nDate: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
            b"\r\nbody\r\n")


class FromHeader(harness.SubmitdTest):

    def data(self, message):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("DATA"), "354")
        c.send(dot_data(message))
        return c, c.reply()

    def test_tricks_refused(self):
        for frm in (b"mallory@evil.com:alice@example.org;",
                    b"mallory@evil.com\r\n :alice@example.org",
                    b"<mallory@evil.com<alice@example.org>",
                    b"<alice@example.org> mallory@evil.com"):
            with self.subTest(frm=frm):
                c, r = self.data(msg_with_from(frm))
                self.assertReply(r, ("550 5.6.0", "550 5.7.1"))
                self.assertReply(c.cmd("NOOP"), "250")
        self.assertNothingQueued()

    def test_nul_in_from_or_body_refused(self):
        for m in (msg_with_from(b"<alice@example.org\x00mallory@evil.com>"),
                  msg_with_from(b"<alice@example.org>").replace(b"body", b"b\x00dy")):
            with self.subTest(m=m[:60]):
                c, r = self.data(m)
                self.assertReply(r, "550 5.6.0")
                self.assertIn("NUL", r.text)
        self.assertNothingQueued()

    def test_legitimate_forms_accepted(self):
        for frm in (b'"Smith, Alice" <alice@example.org>',
                    b"=?utf-8?q?Al=C3=AFce?= <alice@example.org> (home)",
                    b"team: alice@example.org, x@sales.example.org;"):
            with self.subTest(frm=frm):
                c, r = self.data(msg_with_from(frm))
                self.assertReply(r, "250 2.0.0")
        self.assertEqual(len(self.smarthost.wait_messages(3)), 3)


class Commands(harness.SubmitdTest):

    def smtp_role_pid(self):
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                with open(stat.replace("stat", "comm")) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if int(rest[1]) == self.submitd.proc.pid and comm == "submitd: smtp":
                return int(stat.split("/")[2])
        self.fail("no smtp role")

    def rss_kb(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def test_auth_login_user_too_long(self):
        c = self.session(user=None)
        r = c.cmd("AUTH LOGIN " + base64.b64encode(b"a" * 257).decode())
        self.assertReply(r, "501 5.5.2")
        self.assertReply(c.cmd("NOOP"), "250")
        self.assertTrue(self.submitd.alive())

    def test_overlong_line_keeps_what_follows(self):
        c = self.connect()
        self.assertReply(c.reply(), "220 ")
        c.send(b"A" * 5000 + b"\r\nNOOP\r\n")
        self.assertReply(c.reply(), "500 5.5.2")
        self.assertReply(c.reply(), "250")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_client_that_does_not_read(self):
        pid = self.smtp_role_pid()
        before = self.rss_kb(pid)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.P1))
        s.settimeout(0.5)
        sent = 0
        chunk = b"EHLO x\r\n" * 8192
        deadline = time.monotonic() + 15
        while sent < 40 << 20 and time.monotonic() < deadline:
            try:
                sent += s.send(chunk)
            except socket.timeout:
                break               # the server stopped reading: good
        grown = self.rss_kb(pid) - before
        s.close()
        self.assertLess(sent, 20 << 20, "the server kept reading")
        self.assertLess(grown, 16 * 1024, "smtp role grew %d kB" % grown)
        self.assertTrue(self.submitd.alive())


class ManyRecipients(harness.SubmitdTest):
    EXTRA_CONF = ("limit recipients 1000 per message",)

    def test_envelope_bounded_for_ipc(self):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        ok = refused = 0
        for i in range(600):
            rcpt = "r%03d%s@%s.%s.example.com" % (i, "x" * 59, "d" * 60, "e" * 60)
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            if r.code == 250:
                ok += 1
            else:
                self.assertReply(r, "452 4.5.3")
                refused += 1
        self.assertGreater(ok, 100)
        self.assertGreater(refused, 0)
        self.assertReply(c.cmd("DATA"), "354")
        c.send(dot_data(harness.sample_message()))
        self.assertReply(c.reply(), "250 2.0.0")
        self.assertTrue(self.submitd.alive())
        self.assertNotIn("role-died", self.submitd.log_text())


if __name__ == "__main__":
    unittest.main()
