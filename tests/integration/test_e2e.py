"""End to end: real clients submit to submitd, which relays to the smarthost.

Issue 2, "What it must show": swaks over STARTTLS and implicit TLS, curl
--ssl-reqd (smtp:// and smtps://), Python's smtplib (starttls + login, and
SMTP_SSL), IPv6 ::1; each message arrives once, byte-exact in body, with the
right envelope, logged in upstream with the configured secret.
"""

import os
import smtplib
import ssl
import subprocess
import unittest

import harness
from harness import (PASSWORD, RCPT, USER, SubmitdTest, sample_message,
                     split_message, header_fields, write_file)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, timeout=60 * harness.SLOW,
                       **kw)
    return r


class E2E(SubmitdTest):

    def msgfile(self, data, name="msg.eml"):
        p = os.path.join(self.dir, name)
        write_file(p, data)
        return p

    def swaks_file(self, data):
        """swaks sends CRLF . CRLF after the file even when it ends with
        CRLF: give it the message without its last CRLF."""
        assert data.endswith(b"\r\n")
        return self.msgfile(data[:-2], "swaks.eml")

    def deliver_one(self, original, **kw):
        msgs = self.smarthost.wait_messages(1)
        self.assertEqual(len(msgs), 1, "delivered more than once")
        self.assertDelivered(msgs[0], original, **kw)
        self.assertNoPlaintext()
        self.assertSpoolEmpty()
        return msgs[0]

    def swaks(self, port, *extra):
        original = sample_message(subject="swaks %d" % port)
        cmd = ["swaks", "--server", "127.0.0.1", "--port", str(port),
               "--from", USER, "--to", RCPT,
               "--auth", "PLAIN", "--auth-user", USER,
               "--auth-password", PASSWORD,
               "--data", self.swaks_file(original)] + list(extra)
        r = run(cmd)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertRegex(out, r"<~  250 2\.0\.0 Ok: queued as \S+")
        self.deliver_one(original)

    def test_swaks_starttls(self):
        self.swaks(self.P1, "--tls")

    def test_swaks_starttls_auth_login(self):
        original = sample_message(subject="swaks login")
        r = run(["swaks", "-s", "127.0.0.1", "-p", str(self.P1), "--tls",
                 "-f", USER, "-t", RCPT, "-a", "LOGIN", "-au", USER,
                 "-ap", PASSWORD, "--data", self.swaks_file(original)])
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
        self.deliver_one(original)

    def test_swaks_implicit_tls(self):
        self.swaks(self.P2, "--tlsc")

    def curl(self, url):
        original = sample_message(subject="curl")
        r = run(["curl", "--silent", "--show-error", "--ssl-reqd", url,
                 "--mail-from", USER, "--mail-rcpt", RCPT,
                 "--upload-file", self.msgfile(original),
                 "--user", "%s:%s" % (USER, PASSWORD),
                 "--cacert", self.certs["ca"]])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.deliver_one(original)

    def test_curl_starttls(self):
        self.curl("smtp://127.0.0.1:%d" % self.P1)

    def test_curl_smtps(self):
        self.curl("smtps://127.0.0.1:%d" % self.P2)

    def ctx(self):
        return ssl.create_default_context(cafile=self.certs["ca"])

    def test_smtplib_starttls(self):
        original = sample_message(subject="smtplib starttls")
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"), "AUTH offered before TLS")
            s.starttls(context=self.ctx())
            s.ehlo("client.test")
            s.login(USER, PASSWORD)
            code, resp = s.mail(USER)
            self.assertEqual(code, 250)
            self.assertEqual(s.rcpt(RCPT)[0], 250)
            code, resp = s.data(original)
            self.assertEqual(code, 250)
            self.assertRegex(resp.decode(), r"^2\.0\.0 Ok: queued as \S+")
        self.deliver_one(original)

    def test_smtplib_smtps_8bit(self):
        body = ("Grüße aus Köln — ünïcödé body\r\n"
                ".dot\r\n").encode("utf-8")
        original = sample_message(subject="smtplib smtps", body=body,
                                  extra=b"Content-Transfer-Encoding: 8bit\r\n")
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=self.ctx()) as s:
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("8bitmime"))
            s.login(USER, PASSWORD)
            refused = s.sendmail(USER, [RCPT], original,
                                 mail_options=["BODY=8BITMIME"])
            self.assertEqual(refused, {})
        self.deliver_one(original)

    def test_smtplib_two_recipients_two_messages_one_session(self):
        o1 = sample_message(subject="first", to="x@example.com")
        o2 = sample_message(frm="team@sales.example.org", subject="second",
                            to="y@example.com, z@example.com")
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=self.ctx())
            s.login(USER, PASSWORD)
            self.assertEqual(s.sendmail(USER, ["x@example.com"], o1), {})
            self.assertEqual(s.sendmail("team@sales.example.org",
                                        ["y@example.com", "z@example.com"],
                                        o2), {})
        msgs = self.smarthost.wait_messages(2)
        self.assertEqual(len(msgs), 2)
        by_from = {m["mail_from"]: m for m in msgs}
        self.assertDelivered(by_from[USER], o1, rcpts=["x@example.com"])
        self.assertDelivered(by_from["team@sales.example.org"], o2,
                             mail_from="team@sales.example.org",
                             rcpts=["y@example.com", "z@example.com"])
        self.assertNoPlaintext()

    @unittest.skipUnless(harness.have_ipv6(), "no IPv6 loopback")
    def test_ipv6(self):
        original = sample_message(subject="ipv6")
        with smtplib.SMTP("::1", self.P3, timeout=30) as s:
            s.starttls(context=self.ctx())
            s.login(USER, PASSWORD)
            self.assertEqual(s.sendmail(USER, [RCPT], original), {})
        self.deliver_one(original)

    def test_adds_date_and_message_id_when_missing(self):
        original = sample_message(subject="bare", date=False, msgid=False)
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=self.ctx()) as s:
            s.login(USER, PASSWORD)
            s.sendmail(USER, [RCPT], original)
        m = self.deliver_one(original)
        fields = dict(header_fields(split_message(m["data"])[0]))
        self.assertRegex(fields[b"date"].decode(),
                         r"^Date: (\w{3}, )?\d{1,2} \w{3} \d{4} "
                         r"\d\d:\d\d(:\d\d)? [+-]\d{4}")
        self.assertRegex(fields[b"message-id"].decode(),
                         r"^Message-I[Dd]: <[^<>@\s]+@[^<>@\s]+>$")

    def test_keeps_date_and_message_id_when_present(self):
        original = sample_message(subject="full")
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=self.ctx()) as s:
            s.login(USER, PASSWORD)
            s.sendmail(USER, [RCPT], original)
        m = self.deliver_one(original)
        got = dict(header_fields(split_message(m["data"])[0]))
        orig = dict(header_fields(split_message(original)[0]))
        self.assertEqual(got[b"date"], orig[b"date"])
        self.assertEqual(got[b"message-id"], orig[b"message-id"])
        first = split_message(m["data"])[0][0]
        self.assertTrue(first.startswith(b"Received:")
                        or first.startswith(b"DKIM-Signature:"),
                        "first header line is %r" % first)


class Banner(SubmitdTest):
    START_SMARTHOST = False

    def test_banner_and_ehlo_before_and_after_tls(self):
        c = self.connect(self.P1)
        banner = c.reply()
        self.assertEqual(banner.code, 220)
        self.assertRegex(banner.text, r"^220 \S+.* ESMTP")
        r = c.ehlo()
        self.assertEqual(r.code, 250)
        self.assertIn("STARTTLS", r.keywords)
        self.assertNotIn("AUTH", r.keywords)
        c.starttls()
        r = c.ehlo()
        self.assertEqual(r.code, 250)
        self.assertNotIn("STARTTLS", r.keywords)
        for kw in ("AUTH", "PIPELINING", "SIZE", "8BITMIME",
                   "ENHANCEDSTATUSCODES"):
            self.assertIn(kw, r.keywords, r)
        auth = [l for l in r.lines if l[4:].upper().startswith("AUTH")][0]
        self.assertIn("PLAIN", auth.upper().split())
        self.assertIn("LOGIN", auth.upper().split())
        size = [l for l in r.lines if l[4:].upper().startswith("SIZE")][0]
        self.assertIn(size[4:].split()[1], (str(1024 * 1024), "1000000"), size)

    def test_implicit_tls_banner_and_ehlo(self):
        c = self.connect(self.P2, tls=True)
        self.assertRegex(c.reply().text, r"^220 \S+.* ESMTP")
        r = c.ehlo()
        self.assertNotIn("STARTTLS", r.keywords)
        for kw in ("AUTH", "PIPELINING", "SIZE", "8BITMIME",
                   "ENHANCEDSTATUSCODES"):
            self.assertIn(kw, r.keywords, r)

    def test_helo_rset_noop_help_quit(self):
        c = self.connect(self.P2, tls=True)
        c.reply()
        self.assertReply(c.cmd("HELO client.test"), "250")
        self.assertReply(c.cmd("NOOP"), "250")
        self.assertReply(c.cmd("RSET"), "250")
        self.assertReply(c.cmd("HELP"), ("214", "250"))
        self.assertReply(c.cmd("QUIT"), "221")
        self.assertTrue(c.closed())


if __name__ == "__main__":
    unittest.main()
