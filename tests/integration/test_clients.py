"""The client matrix (issue 10, item 7): besides swaks, curl and smtplib
(test_e2e.py), msmtp and Node's nodemailer, each over 587-style STARTTLS
and 465-style implicit TLS, each verifying the server certificate against
the test CA (and refusing it without that CA), each message checked at the
smarthost: once, body byte-exact, envelope, upstream login.

nodemailer is Debian's node-nodemailer (debian/control), not a copy from
the npm registry: the tests talk to loopback only (BRIEF, "Never send
traffic anywhere but loopback"), and a package from the one dependency list
is there on every machine make check installs.
"""

import json
import os
import shutil
import subprocess
import unittest

import harness
from harness import PASSWORD, RCPT, USER, SubmitdTest, sample_message, write_file

NODE_PATH = "/usr/share/nodejs"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=90 * harness.SLOW, **kw)


class Clients(SubmitdTest):

    def deliver_one(self, original):
        msgs = self.smarthost.wait_messages(1)
        self.assertEqual(len(msgs), 1, "delivered more than once")
        self.assertDelivered(msgs[0], original)
        self.assertNoPlaintext()
        self.assertSpoolEmpty()
        return msgs[0]

    # --- msmtp ---------------------------------------------------------------

    def msmtp(self, port, starttls, ca=True):
        conf = os.path.join(self.dir, "msmtprc")
        write_file(conf, "\n".join([
            "defaults",
            "logfile %s" % os.path.join(self.dir, "msmtp.log"),
            "account submitd",
            "host 127.0.0.1",
            "port %d" % port,
            "tls on",
            "tls_starttls %s" % ("on" if starttls else "off"),
            "tls_trust_file %s" % (self.certs["ca"] if ca is True else ca),
            "auth plain",
            "user %s" % USER,
            "password %s" % PASSWORD,
            "from %s" % USER,
            "account default : submitd", ""]).encode(), 0o600)
        original = sample_message(subject="msmtp %s" % ("starttls" if starttls else "tls"))
        # msmtp reads the message with LF or CRLF line ends and sends CRLF
        r = run(["msmtp", "-C", conf, "-f", USER, RCPT], input=original)
        return r, original

    def test_msmtp_starttls(self):
        r, original = self.msmtp(self.P1, True)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.deliver_one(original)

    def test_msmtp_implicit_tls(self):
        r, original = self.msmtp(self.P2, False)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.deliver_one(original)

    def test_msmtp_refuses_unknown_ca(self):
        # its trust file is empty: the certificate cannot verify, nothing sent
        empty = os.path.join(self.dir, "empty-ca.pem")
        write_file(empty, b"# no CA\n")
        r, _ = self.msmtp(self.P1, True, ca=empty)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.smarthost.messages(), [])

    # --- nodemailer ------------------------------------------------------------

    SCRIPT = r"""
const fs = require('fs');
const nodemailer = require('nodemailer');
const a = JSON.parse(process.argv[2]);
const t = nodemailer.createTransport({
  host: '127.0.0.1', port: a.port, secure: a.secure, requireTLS: !a.secure,
  auth: { user: a.user, pass: a.pass },
  tls: { ca: a.ca ? [fs.readFileSync(a.ca)] : [], rejectUnauthorized: true,
         minVersion: 'TLSv1.2' },
  connectionTimeout: 30000, greetingTimeout: 30000, socketTimeout: 60000,
});
t.sendMail({ envelope: { from: a.user, to: [a.rcpt] },
             raw: fs.readFileSync(a.msg) }, (err, info) => {
  if (err) { console.error('ERROR ' + err.message); process.exit(1); }
  console.log(info.response);
  process.exit(0);
});
"""

    def nodemailer(self, port, secure, ca=True):
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            self.fail("node is not installed (debian/control lists nodejs)")
        if not os.path.isdir(os.path.join(NODE_PATH, "nodemailer")):
            self.fail("nodemailer is not installed (debian/control lists "
                      "node-nodemailer)")
        js = os.path.join(self.dir, "send.js")
        write_file(js, self.SCRIPT.encode())
        original = sample_message(subject="nodemailer %s" % ("tls" if secure else "starttls"))
        msg = os.path.join(self.dir, "node.eml")
        write_file(msg, original)
        args = {"port": port, "secure": secure, "user": USER, "pass": PASSWORD,
                "rcpt": RCPT, "msg": msg, "ca": self.certs["ca"] if ca else None}
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        r = run([node, js, json.dumps(args)], env=env)
        return r, original

    def test_nodemailer_starttls(self):
        r, original = self.nodemailer(self.P1, False)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertRegex(r.stdout.decode(), r"^250 2\.0\.0 Ok: queued as \S+")
        self.deliver_one(original)

    def test_nodemailer_implicit_tls(self):
        r, original = self.nodemailer(self.P2, True)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertRegex(r.stdout.decode(), r"^250 2\.0\.0 Ok: queued as \S+")
        self.deliver_one(original)

    def test_nodemailer_refuses_unknown_ca(self):
        r, _ = self.nodemailer(self.P2, True, ca=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"ERROR .*(self.signed|certificate|issuer)")
        self.assertEqual(self.smarthost.messages(), [])


if __name__ == "__main__":
    unittest.main()
