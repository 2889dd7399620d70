"""submitctl check-upstream against the stand-in smarthost
(tests/integration/smarthost.py): success with implicit TLS and with
STARTTLS, and each failure mode named with the setting to change: wrong
password (535), implicit TLS spoken to a STARTTLS port and the reverse,
a certificate for another name, a closed port, a sender the login may
not use."""

import os
import re
import subprocess
import tempfile
import unittest

from harness import (SUBMITCTL, UP_LOGIN, UP_PASSWORD, Smarthost, certs,
                     free_port, session_dir, write_file)


class CheckUpstream(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(dir=session_dir())
        self.certs = certs()
        self.hosts = []

    def tearDown(self):
        for h in self.hosts:
            h.stop()

    def smarthost(self, mode):
        h = Smarthost(os.path.join(self.d, "sh-" + mode), free_port(),
                      self.certs, mode=mode)
        self.hosts.append(h)
        return h.start()

    def run_check(self, mode, port, password=UP_PASSWORD, args=(),
                  host="localhost"):
        secrets = os.path.join(self.d, "secrets")
        write_file(secrets, "*@bad.example nobody@example.net x\n"
                   "* %s %s\n" % (UP_LOGIN, password), 0o600)
        conf = os.path.join(self.d, "submitd.conf")
        write_file(conf, "\n".join([
            "hostname relay.test",
            'pki localhost cert "%s" key "%s"' % (self.certs["crt"],
                                                  self.certs["key"]),
            "listen on 127.0.0.1 port %d starttls pki localhost"
            % free_port(),
            'users "%s"' % os.path.join(self.d, "users"),
            'relay %s://%s:%d secrets "%s"' % (mode, host, port, secrets),
            'relay ca "%s"' % self.certs["ca"]]) + "\n")
        write_file(os.path.join(self.d, "users"), "")
        r = subprocess.run([SUBMITCTL, "check-upstream", "-f", conf]
                           + list(args), capture_output=True, text=True,
                           timeout=120)
        return r.returncode, r.stdout + r.stderr

    def steps(self, out):
        return [(m.group(1), m.group(2)) for m in
                re.finditer(r"(?m)^(OK|FAIL|--) +(\S+)", out)]

    def test_smtps_ok(self):
        sh = self.smarthost("smtps")
        rc, out = self.run_check("smtps", sh.port,
                                 args=["--as", "alice@example.org"])
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.steps(out)[1:], [
            ("OK", "dns"), ("OK", "tcp"), ("OK", "tls"), ("OK", "banner"),
            ("OK", "ehlo"), ("OK", "auth"), ("OK", "mail"), ("--", "quit")])
        self.assertRegex(out, r"(?m)^OK   tls +TLSv1\.[23] \S+, certificate "
                         r"names localhost, issuer .*submitd test CA.*"
                         r"verified for localhost")
        self.assertRegex(out, r"(?m)^OK   ehlo +SIZE \d+, AUTH .*PLAIN")
        self.assertRegex(out, r"(?m)^OK   auth +logged in as %s: 235"
                         % re.escape(UP_LOGIN))
        self.assertIn("sender <alice@example.org> accepted: 250", out)
        self.assertEqual([e["login"] for e in sh.events("auth")], [UP_LOGIN])
        self.assertEqual(sh.messages(), [], "check-upstream sent mail")
        self.assertEqual(sh.events("violation"), [])

    def test_starttls_ok(self):
        sh = self.smarthost("starttls")
        rc, out = self.run_check("smtp+tls", sh.port)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.steps(out)[1:], [
            ("OK", "dns"), ("OK", "tcp"), ("OK", "banner"),
            ("OK", "starttls"), ("OK", "tls"), ("OK", "ehlo"),
            ("OK", "auth"), ("--", "quit")])
        self.assertEqual(sh.events("violation"), [])

    def test_wrong_password(self):
        sh = self.smarthost("smtps")
        rc, out = self.run_check("smtps", sh.port, password="wrong")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL auth +login refused for %s: 535.*: "
                         r"wrong password, or OVH blocked the account for "
                         r"spam \(see the runbook" % re.escape(UP_LOGIN))
        self.assertNotIn("wrong\n", out.replace("password, or", ""))

    def test_implicit_tls_to_starttls_port(self):
        sh = self.smarthost("starttls")
        rc, out = self.run_check("smtps", sh.port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL tls +implicit TLS, but "
                         r"localhost:%d answered in plaintext SMTP "
                         r"\(\"220 .*this port speaks STARTTLS; use relay "
                         r"smtp\+tls://localhost:%d" % (sh.port, sh.port))
        self.assertEqual(sh.events("auth"), [])

    def test_starttls_to_implicit_tls_port(self):
        sh = self.smarthost("smtps")
        rc, out = self.run_check("smtp+tls", sh.port,
                                 args=["--timeout", "3"])
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL banner +no greeting in 3 s, and "
                         r"localhost:%d completes a TLS handshake at once: "
                         r"this port speaks implicit TLS; use relay "
                         r"smtps://localhost:%d" % (sh.port, sh.port))
        self.assertEqual(sh.events("auth"), [])

    def test_wrong_certificate_name(self):
        sh = self.smarthost("smtps")
        sh.set_control({"tls": "wrongcert"})
        rc, out = self.run_check("smtps", sh.port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL tls +handshake or certificate "
                         r"check failed: .*localhost.*; the server presents "
                         r"certificate names wrong\.example")
        self.assertEqual(sh.events("auth"), [])

    def test_wrong_certificate_name_starttls(self):
        sh = self.smarthost("starttls")
        sh.set_control({"tls": "wrongcert"})
        rc, out = self.run_check("smtp+tls", sh.port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL tls +handshake or certificate "
                         r"check failed: .*; the server presents "
                         r"certificate names wrong\.example")
        self.assertEqual(sh.events("auth"), [])
        self.assertEqual(sh.events("violation"), [])

    def test_tls_refused(self):
        sh = self.smarthost("smtps")
        sh.set_control({"tls": "refuse"})
        rc, out = self.run_check("smtps", sh.port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL tls +handshake or certificate "
                         r"check failed: ")

    def test_starttls_refused(self):
        sh = self.smarthost("starttls")
        sh.set_control({"starttls": "454 4.7.0 TLS not available"})
        rc, out = self.run_check("smtp+tls", sh.port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL starttls +STARTTLS refused: "
                         r"454 4.7.0 TLS not available$")
        self.assertEqual(sh.events("auth"), [])
        self.assertEqual(sh.events("violation"), [])

    def test_port_closed(self):
        port = free_port()
        rc, out = self.run_check("smtps", port)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL tcp +cannot connect to "
                         r"localhost:%d \(.*Connection refused.*\): the port "
                         r"is closed" % port)

    def test_sender_refused(self):
        sh = self.smarthost("smtps")
        sh.set_control({"mail": "550 5.7.60 not your sender"})
        rc, out = self.run_check("smtps", sh.port,
                                 args=["--as", "other@example.org"])
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^FAIL mail +sender <other@example.org> "
                         r"refused for login %s: 550 5.7.60 not your sender"
                         % re.escape(UP_LOGIN))

    def test_login_chosen_by_sender(self):
        sh = self.smarthost("smtps")
        rc, out = self.run_check("smtps", sh.port,
                                 args=["--as", "x@bad.example"])
        self.assertEqual(rc, 1, out)
        self.assertIn("login nobody@example.net for <x@bad.example>", out)
        self.assertRegex(out, r"(?m)^FAIL auth +login refused for "
                         r"nobody@example.net")


if __name__ == "__main__":
    unittest.main()
