"""Issue 13 item 6: SMTPUTF8 (RFC 6531) offered only while the smarthost
offers it (learned from its EHLO, as its SIZE), UTF-8 addresses taken with
MAIL ... SMTPUTF8 (well-formed UTF-8 only), the flag kept in the queue
envelope and passed on to the smarthost's MAIL FROM, such a message
signed so that dkimpy verifies it, and never relayed (553 5.6.7, a
bounce) to a smarthost that no longer offers SMTPUTF8."""
import glob
import os
import shutil
import smtplib
import ssl
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "dkim"))

import harness                                  # noqa: E402
import verifiers                                # noqa: E402
from harness import USER, PASSWORD, RCPT, dot_data  # noqa: E402

FROM = "\u00e4lice@sales.example.org"           # älice: *@sales.example.org
TO = "k\u00e4rol@example.com"                   # kärol


def utf8_message():
    return ("From: \u00c4lice M\u00fcller <%s>\r\n"
            "To: K\u00e4rol <%s>\r\n"
            "Subject: Gr\u00fc\u00dfe aus K\u00f6ln\r\n"
            "Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
            "Message-ID: <utf8-%s@client.test>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Hallo K\u00e4rol,\r\n\r\nsch\u00f6ne Gr\u00fc\u00dfe.\r\n"
            % (FROM, TO, os.urandom(6).hex())).encode("utf-8")


class Smtputf8(harness.SubmitdTest):

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="submitd-smtputf8-")
        cls.keys = {}
        conf = []
        for alg, sel in (("rsa", "u2026r"), ("ed25519", "u2026e")):
            path = os.path.join(cls.keydir, "sales.%s.key" % sel)
            name, record, _ = verifiers.keygen(alg, "sales.example.org",
                                               sel, path)
            cls.keys[name] = record
            conf.append('dkim domain sales.example.org selector %s %s '
                        'key "%s"' % (sel, alg, path))
        cls.EXTRA_CONF = tuple(conf)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keydir, True)

    def smtp_role_learned(self, yes):
        """Waits for the smtp role's line on the smarthost's EHLO."""
        want = "smtputf8=%s" % ("yes" if yes else "no")
        harness.wait_for(
            lambda: any("event=upstream-size" in l and "limit=" in l and
                        want in l
                        for l in self.submitd.log_text().splitlines()),
            timeout=30, what="the smtp role to learn " + want)

    def learn(self, n=1):
        """One ASCII message through the relay: its EHLO is what the smtp
        role then offers."""
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ssl.create_default_context(
                cafile=self.certs["ca"]))
            s.login(USER, PASSWORD)
            s.sendmail(USER, [RCPT], harness.sample_message())
        self.smarthost.wait_messages(n)

    def send_utf8(self, c, msg):
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8" % FROM).text,
                         "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO).text, "250 2.1.5 Ok")
        self.assertReply(c.cmd("DATA"), "354 ")
        c.send(dot_data(msg))
        r = c.reply()
        self.assertReply(r, "250 2.0.0 ")
        return r

    def test_not_offered_until_the_smarthost_offers_it(self):
        # the smarthost does not offer it: neither do we
        c = self.session()
        self.assertNotIn("SMTPUTF8", c.ehlo().keywords)
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8" % USER).text,
                         "555 5.5.4 Unsupported MAIL parameter")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM).text,
                         "553 5.6.7 Non-ASCII sender address needs SMTPUTF8, "
                         "which is not offered")
        self.learn()
        self.smtp_role_learned(False)
        self.assertNotIn("SMTPUTF8", self.session().ehlo().keywords)

    def test_offered_relayed_and_signed(self):
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        c = self.session()
        self.assertIn("SMTPUTF8", c.ehlo().keywords)
        # 8-bit addresses still need the parameter
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM).text,
                         "553 5.6.7 Non-ASCII sender address needs the "
                         "SMTPUTF8 parameter")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % USER).text, "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO).text,
                         "553 5.6.7 Non-ASCII recipient address needs MAIL "
                         "FROM with SMTPUTF8")
        self.assertEqual(c.cmd("RSET").text, "250 2.0.0 Ok")
        # with it, only well-formed UTF-8 (here Latin-1 ä, overlong, cut)
        for bad in (b"\xe4lice", b"\xc0\xa0lice", b"alice\xc3"):
            c.send(b"MAIL FROM:<" + bad + b"@sales.example.org> SMTPUTF8\r\n")
            self.assertEqual(c.reply().text, "501 5.1.7 Bad sender address "
                             "syntax (not UTF-8)")
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8=YES" % FROM).text,
                         "501 5.5.4 Bad MAIL parameter syntax")
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8" % FROM).text,
                         "250 2.1.0 Ok")
        c.send(b"RCPT TO:<k\xe4rol@example.com>\r\n")
        self.assertEqual(c.reply().text, "501 5.1.3 Bad recipient address "
                         "syntax (not UTF-8)")
        self.assertEqual(c.cmd("RSET").text, "250 2.0.0 Ok")

        msg = utf8_message()
        self.send_utf8(c, msg)
        m = self.smarthost.wait_messages(2)[1]
        self.assertEqual(m["mail_from"], FROM)
        self.assertEqual(m["rcpt_tos"], [TO])
        self.assertIn("SMTPUTF8", m["mail_options"])
        mail = [e for e in self.smarthost.events("mail")
                if e["mail_from"] == FROM]
        self.assertEqual(len(mail), 1, mail)
        self.assertIn("SMTPUTF8", mail[0]["options"])
        data = m["data"]
        # exactly the submitted octets, after our fields: two signatures
        # and the Received: line (protocol UTF8SMTPSA, RFC 6531 3.7.3)
        self.assertTrue(data.endswith(msg), data[:3000])
        prefix = data[:len(data) - len(msg)]
        names = [n for n, _ in harness.header_fields(
            prefix[:-2].split(b"\r\n"))]
        self.assertEqual(names, [b"dkim-signature", b"dkim-signature",
                                 b"received"], prefix)
        self.assertIn(b" with UTF8SMTPSA id ", prefix)
        self.assertIn(("for <%s>" % TO).encode(), prefix)
        for s in harness.header_fields(prefix[:-2].split(b"\r\n"))[:2]:
            self.assertIn(b"d=sales.example.org;", s[1])
        self.assertEqual([ok for ok, _ in
                          verifiers.dkimpy_verify(data, self.keys)],
                         [True, True])
        # a changed UTF-8 header octet breaks both
        bad = data.replace("Gr\u00fc\u00dfe aus".encode(),
                           "Gr\u00fc\u00dfe von".encode())
        self.assertEqual([ok for ok, _ in
                          verifiers.dkimpy_verify(bad, self.keys)],
                         [False, False])

    def test_queue_envelope_keeps_the_flag(self):
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        self.smarthost.set_control({"smtputf8": True,
                                    "mail": "451 4.3.0 try later"})
        c = self.session()
        r = self.send_utf8(c, utf8_message())
        qid = r.text.split()[-1]

        def env():
            p = os.path.join(self.spool, "queue", qid + ".env")
            if not os.path.exists(p):
                return None
            with open(p, "rb") as f:
                return f.read()
        text = harness.wait_for(env, what="the envelope file")
        lines = text.split(b"\n")
        self.assertIn(b"smtputf8: yes", lines)
        self.assertIn(("reverse-path: %s" % FROM).encode(), lines)
        self.assertIn(("rcpt: pending %s" % TO).encode(), lines)

    def test_refused_when_the_smarthost_stops_offering_it(self):
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        c = self.session()
        self.assertIn("SMTPUTF8", c.ehlo().keywords)
        # the smarthost changes its mind; its old connection goes
        self.smarthost.stop()
        self.smarthost.set_control({})
        self.smarthost.start()
        self.send_utf8(c, utf8_message())
        harness.wait_for(
            lambda: any("event=relay result=bounced" in l and
                        "553 5.6.7 The smarthost does not offer SMTPUTF8" in l
                        for l in self.submitd.log_text().splitlines()),
            timeout=30, what="the recipient to fail with 553 5.6.7")
        self.smtp_role_learned(False)
        self.assertNotIn("SMTPUTF8", self.session().ehlo().keywords)
        # nothing with a UTF-8 address reached the smarthost
        self.assertEqual([e for e in self.smarthost.events("mail")
                          if e.get("mail_from") not in (USER, "")], [])
        self.assertEqual(len(self.smarthost.messages()), 1)

    def test_dsn_to_an_ascii_sender_stays_7bit(self):
        # an ASCII sender's message to a UTF-8 recipient fails (the
        # smarthost stopped offering SMTPUTF8): the DSN goes back without
        # SMTPUTF8, so its addresses are RFC 6533 utf-8 xtext and it is
        # 7-bit or sent as BODY=8BITMIME (the quoted UTF-8 headers)
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        c = self.session()
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8" % USER).text,
                         "250 2.1.0 Ok")
        self.smarthost.stop()
        self.smarthost.set_control({})
        self.smarthost.start()
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO).text, "250 2.1.5 Ok")
        self.assertReply(c.cmd("DATA"), "354 ")
        c.send(dot_data(utf8_message()))
        self.assertReply(c.reply(), "250 2.0.0 ")
        self.smarthost.wait_messages(2)
        dsn = self.smarthost.messages()[1]
        self.assertIn(b"Final-Recipient: utf-8; k\\x{E4}rol@example.com\r\n",
                      dsn["data"])
        self.assertIn(b"<k\\x{E4}rol@example.com>: 553 5.6.7 ", dsn["data"])
        mail = [e for e in self.smarthost.events("mail")
                if e.get("mail_from") in ("", "<>")]
        self.assertEqual(len(mail), 1, self.smarthost.events("mail"))
        self.assertNotIn("SMTPUTF8", mail[0]["options"])
        if any(b > 127 for b in dsn["data"]):
            self.assertIn("BODY=8BITMIME", mail[0]["options"])

    def test_dsn_to_a_utf8_sender_is_global(self):
        # RFC 6533: the smarthost offers SMTPUTF8 and refuses kärol; the
        # DSN to älice goes with SMTPUTF8 and is a global one
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        self.smarthost.set_control({"smtputf8": True, "rcpt": {
            TO: "550 5.1.1 No such user"}})
        msg = utf8_message()
        r = self.send_utf8(self.session(), msg)
        qid = r.text.split()[-1]
        dsn = self.smarthost.wait_messages(2)[1]
        self.assertIn(dsn["mail_from"], ("", "<>"))
        self.assertEqual(dsn["rcpt_tos"], [FROM])
        mail = [e for e in self.smarthost.events("mail")
                if e.get("mail_from") in ("", "<>")]
        self.assertEqual(len(mail), 1, self.smarthost.events("mail"))
        self.assertIn("SMTPUTF8", mail[0]["options"])
        self.assertIn("BODY=8BITMIME", mail[0]["options"])
        data = dsn["data"]
        for want in (
                "To: <%s>\r\n" % FROM,
                "Content-Type: multipart/report; "
                "report-type=global-delivery-status;\r\n",
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n",
                "Your message %s could not be delivered" % qid,
                "\r\n<%s>: 550 5.1.1 No such user\r\n" % TO,
                "Content-Type: message/global-delivery-status\r\n"
                "Content-Transfer-Encoding: 8bit\r\n",
                "X-Submitd-Queue-ID: %s\r\n" % qid,
                "\r\n\r\nFinal-Recipient: utf-8; %s\r\nAction: failed\r\n"
                "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 No such "
                "user\r\n" % TO,
                "Content-Type: message/global-headers\r\n"
                "Content-Transfer-Encoding: 8bit\r\n"):
            self.assertIn(want.encode(), data)
        self.assertNotIn(b"\\x{", data)
        self.assertNotIn(b"rfc822", data)
        # the original header section, byte for byte, ends the last part
        head = msg[:msg.index(b"\r\n\r\n") + 2]
        part = data[data.index(b"Content-Type: message/global-headers"):]
        self.assertIn(b"\r\n\r\nReceived: from ", part)  # ours, then theirs
        self.assertIn(b"\r\n" + head + b"\r\n--", part)
        self.assertTrue(data.endswith(b"--\r\n"), data[-200:])
        # and Python's email package reads it as such (as text: its bytes
        # parser takes 8-bit header octets as unknown, not RFC 6532 UTF-8)
        import email
        import email.policy
        m = email.message_from_string(data.decode("utf-8"),
                                      policy=email.policy.default)
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "global-delivery-status")
        self.assertEqual(m["To"].addresses[0].addr_spec, FROM)
        parts = m.get_payload()
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/global-delivery-status",
                          "message/global-headers"])
        self.assertIn("<%s>: 550 5.1.1" % TO, parts[0].get_payload())
        self.assertEqual(parts[0].get_content_charset(), "utf-8")
        self.assertEqual(m.defects, [])
        self.assertEqual([p.defects for p in parts], [[], [], []])
        quoted = parts[2].get_payload()[0]
        self.assertEqual(quoted["Subject"],
                         "Gr\u00fc\u00dfe aus K\u00f6ln")
        self.assertEqual(quoted["To"], "K\u00e4rol <%s>" % TO)

    def test_dsn_to_a_utf8_sender_without_smtputf8_double_bounces(self):
        # SMTPUTF8 offered at submission, then no longer: the message
        # bounces (553 5.6.7), its DSN to älice cannot go either (553
        # 5.6.7): one event=double-bounce line with the DSN's queue ID
        self.smarthost.set_control({"smtputf8": True})
        self.learn()
        self.smtp_role_learned(True)
        c = self.session()
        self.assertIn("SMTPUTF8", c.ehlo().keywords)
        self.smarthost.stop()
        self.smarthost.set_control({})
        self.smarthost.start()
        qid = self.send_utf8(c, utf8_message()).text.split()[-1]

        def dsn_id():
            for l in self.submitd.log_text().splitlines():
                if ("msgid=%s event=dsn " % qid) in l:
                    return l.split(" dsn=")[1].split()[0]
            return None
        dsn = harness.wait_for(dsn_id, timeout=30, what="the DSN")
        line = harness.wait_for(
            lambda: [l for l in self.submitd.log_text().splitlines()
                     if "event=double-bounce" in l],
            timeout=30, what="the double bounce")
        self.assertEqual(len(line), 1, line)
        self.assertIn("msgid=%s event=double-bounce to=" % dsn, line[0])
        self.assertIn("553 5.6.7 The smarthost does not offer SMTPUTF8",
                      line[0])
        self.assertNotIn("event=bounce-dropped", self.submitd.log_text())
        # gone from the queue, and nothing UTF-8 reached the smarthost
        harness.wait_for(
            lambda: not glob.glob(os.path.join(self.spool, "queue", "*.env")),
            timeout=30, what="an empty queue")
        self.assertEqual(len(self.smarthost.messages()), 1)


UFROM = "user@b\u00fccher.example"             # user@bücher.example
ALABEL = "xn--bcher-kva.example"                # its A-labels (RFC 3492)


class ULabelFrom(harness.SubmitdTest):
    """A From: with a U-label domain, a DKIM key configured for its
    A-labels: signed with d= the A-label domain (RFC 8616 4.1: d= is
    A-labels), delivered, and dkimpy verifies it."""

    START_SUBMITD = False

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="submitd-ulabel-")
        path = os.path.join(cls.keydir, "bucher.key")
        name, record, _ = verifiers.keygen("ed25519", ALABEL, "u2026", path)
        cls.keys = {name: record}
        cls.EXTRA_CONF = ('dkim domain %s selector u2026 ed25519 key "%s"'
                          % (ALABEL, path),)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keydir, True)

    def setUp(self):
        super().setUp()
        harness.write_file(self.users_file, "%s:%s:%s,%s\n" % (
            USER, harness.hash_password(PASSWORD), harness.SENDERS,
            "user@" + ALABEL),      # the users file is ASCII: A-labels
            0o600)
        self.submitd.start()
        self.spool_baseline = self.spool_files()

    def test_signed_with_the_alabel_domain(self):
        self.assertEqual(list(self.keys), ["u2026._domainkey." + ALABEL])
        self.smarthost.set_control({"smtputf8": True})
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ssl.create_default_context(
                cafile=self.certs["ca"]))
            s.login(USER, PASSWORD)
            s.sendmail(USER, [RCPT], harness.sample_message())
        self.smarthost.wait_messages(1)
        harness.wait_for(
            lambda: "smtputf8=yes" in self.submitd.log_text(),
            timeout=30, what="the smtp role to learn SMTPUTF8")
        msg = ("From: User <%s>\r\nTo: <%s>\r\n"
               "Subject: B\u00fccher\r\n"
               "Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
               "Message-ID: <ulabel-%s@client.test>\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\n"
               "Sch\u00f6ne B\u00fccher.\r\n"
               % (UFROM, RCPT, os.urandom(6).hex())).encode("utf-8")
        c = self.session()
        self.assertIn("SMTPUTF8", c.ehlo().keywords)
        self.assertEqual(c.cmd("MAIL FROM:<%s> SMTPUTF8" % UFROM).text,
                         "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT).text, "250 2.1.5 Ok")
        self.assertReply(c.cmd("DATA"), "354 ")
        c.send(dot_data(msg))
        self.assertReply(c.reply(), "250 2.0.0 ")
        m = self.smarthost.wait_messages(2)[1]
        self.assertEqual(m["mail_from"], UFROM)
        self.assertIn("SMTPUTF8", m["mail_options"])
        data = m["data"]
        self.assertTrue(data.endswith(msg), data[:2000])
        sigs = [v for n, v in harness.header_fields(
            data[:len(data) - len(msg)][:-2].split(b"\r\n"))
            if n == b"dkim-signature"]
        self.assertEqual(len(sigs), 1, data[:2000])
        self.assertIn(("d=%s;" % ALABEL).encode(), sigs[0])
        self.assertNotIn(b"i=", sigs[0])
        self.assertTrue(all(b < 128 for b in sigs[0]), sigs[0])
        self.assertEqual(verifiers.dkimpy_verify(data, self.keys),
                         [(True, "")])
        # the body changed: no longer
        bad = data.replace("Sch\u00f6ne".encode(), "Gute".encode())
        self.assertEqual([ok for ok, _ in
                          verifiers.dkimpy_verify(bad, self.keys)], [False])


if __name__ == "__main__":
    unittest.main()
