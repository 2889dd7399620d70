"""Issue 14 section 1: submitd -n loads everything the config points at
(certificates and keys, DKIM keys, users, secrets, CA), each error with
the file:line: of the statement that named the file; live reload
(SIGHUP, submitctl reload)."""

import os
import re
import subprocess

import harness
from harness import SubmitdTest, conf_text, write_file


def openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_leaf(d, name, days=30, start=None, ca=None):
    """A certificate for localhost signed by the test CA, valid DAYS days
    (negative: expired), key unencrypted.  Returns (crt, key)."""
    ca = ca or harness.certs()
    crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    ext = os.path.join(d, name + ".ext")
    write_file(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    csr = os.path.join(d, name + ".csr")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=" + name)
    if days > 0:
        openssl("x509", "-req", "-in", csr, "-CA", ca["ca"], "-CAkey",
                os.path.join(ca["dir"], "ca.key"), "-CAcreateserial",
                "-days", str(days), "-out", crt, "-extfile", ext)
    else:
        # expired: valid from two days ago until yesterday (openssl ca
        # -startdate/-enddate would need a CA database; x509 -not_before
        # is OpenSSL 3.4+, so use the test CA's `openssl ca`-free path:
        # a self-made validity through faketime is not available either)
        openssl("x509", "-req", "-in", csr, "-CA", ca["ca"], "-CAkey",
                os.path.join(ca["dir"], "ca.key"), "-CAcreateserial",
                "-days", "1", "-out", crt, "-extfile", ext,
                "-preserve_dates")
    os.chmod(key, 0o600)
    return crt, key


class CheckFiles(SubmitdTest):
    """-n on a config whose files are wrong: refused, file:line:."""
    START_SMARTHOST = False
    START_SUBMITD = False

    def check(self, text):
        p = os.path.join(self.dir, "check.conf")
        write_file(p, text)
        r = subprocess.run([harness.SUBMITD, "-n", "-f", p],
                           capture_output=True, text=True, timeout=60)
        return p, r

    def line_of(self, text, prefix):
        for i, line in enumerate(text.splitlines(), 1):
            if line.startswith(prefix):
                return i
        raise AssertionError(prefix)

    def pki(self, crt, key):
        text = conf_text(self)
        return re.sub(r'(?m)^pki .*$', 'pki localhost cert "%s" key "%s"'
                      % (crt, key), text)

    def refused(self, text, prefix, what):
        p, r = self.check(text)
        self.assertEqual(r.returncode, 1, r.stderr)
        n = self.line_of(text, prefix)
        self.assertRegex(r.stderr, re.escape("%s:%d: " % (p, n)) + ".*" + what)
        return r

    def test_good(self):
        p, r = self.check(conf_text(self))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("expires", r.stderr)

    def test_garbage_cert(self):
        bad = os.path.join(self.dir, "garbage.crt")
        write_file(bad, "this is not a certificate\n")
        self.refused(self.pki(bad, self.certs["key"]), "pki ",
                     "no PEM certificate")

    def test_missing_key(self):
        self.refused(self.pki(self.certs["crt"],
                              os.path.join(self.dir, "nope.key")),
                     "pki ", "No such file")

    def test_garbage_key(self):
        bad = os.path.join(self.dir, "garbage.key")
        write_file(bad, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                   "-----END PRIVATE KEY-----\n", 0o600)
        self.refused(self.pki(self.certs["crt"], bad), "pki ",
                     "not a private key")

    def test_mismatched_key(self):
        self.refused(self.pki(self.certs["crt"], self.certs["wrong_key"]),
                     "pki ", "does not match")

    def test_expired_cert(self):
        crt = os.path.join(self.dir, "expired.crt")
        key = self.certs["key"]
        # the localhost key, a certificate that ended in 2001
        openssl("req", "-new", "-key", key, "-out",
                os.path.join(self.dir, "e.csr"), "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", os.path.join(self.dir, "e.csr"),
                "-signkey", key, "-out", crt, "-not_before",
                "20000101000000Z", "-not_after", "20010101000000Z") \
            if _has_not_after() else _expired_by_faketime(self, key, crt)
        self.refused(self.pki(crt, key), "pki ", "expired on 2001-01-01")

    def test_expiring_soon_warns(self):
        crt, key = make_leaf(self.dir, "soon", days=5)
        p, r = self.check(self.pki(crt, key))
        self.assertEqual(r.returncode, 0, r.stderr)
        n = self.line_of(self.pki(crt, key), "pki ")
        self.assertRegex(r.stderr, re.escape("%s:%d: warning: " % (p, n)) +
                         ".*expires on .* in [45] days")

    def test_missing_dkim_key(self):
        text = conf_text(self) + (
            'dkim domain example.org selector s1 ed25519 key "%s"\n'
            % os.path.join(self.dir, "nope.key"))
        self.refused(text, "dkim ", "No such file")

    def test_wrong_dkim_key(self):
        bad = os.path.join(self.dir, "bad.dkim")
        write_file(bad, "garbage\n", 0o600)
        text = conf_text(self) + (
            'dkim domain example.org selector s1 ed25519 key "%s"\n' % bad)
        self.refused(text, "dkim ", "s1")

    def test_bad_users_file(self):
        write_file(self.users_file, "nonsense line\n", 0o600)
        r = self.refused(conf_text(self), "users ", "users: ")
        self.assertIn(self.users_file + ":1:", r.stderr)

    def test_missing_secrets(self):
        os.unlink(self.secrets_file)
        self.refused(conf_text(self), "relay smtp", "relay secrets: ")

    def test_garbage_ca(self):
        bad = os.path.join(self.dir, "garbage.ca")
        write_file(bad, "nope\n")
        text = re.sub(r'(?m)^relay ca .*$', 'relay ca "%s"' % bad,
                      conf_text(self))
        self.refused(text, "relay ca ", "no PEM certificate")


def _has_not_after():
    r = subprocess.run(["openssl", "x509", "-help"], capture_output=True,
                       text=True)
    return "-not_after" in (r.stdout + r.stderr)


def _expired_by_faketime(t, key, crt):
    """OpenSSL 3.0 (Debian 12): a CA database lets `openssl ca` set
    -startdate/-enddate in the past."""
    d = os.path.join(t.dir, "expca")
    os.makedirs(d)
    write_file(os.path.join(d, "index.txt"), "")
    write_file(os.path.join(d, "serial"), "01\n")
    write_file(os.path.join(d, "ca.cnf"),
               "[ca]\ndefault_ca=x\n[x]\ndatabase=%s/index.txt\n"
               "serial=%s/serial\nnew_certs_dir=%s\ndefault_md=sha256\n"
               "policy=p\n[p]\ncommonName=supplied\n" % (d, d, d))
    csr = os.path.join(t.dir, "e.csr")
    openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=localhost")
    openssl("ca", "-batch", "-config", os.path.join(d, "ca.cnf"),
            "-selfsign", "-keyfile", key, "-in", csr, "-out", crt,
            "-startdate", "20000101000000Z", "-enddate", "20010101000000Z")


import signal
import smtplib
import ssl
import threading
import time

from harness import (SUBMITCTL, USER, PASSWORD, RCPT, USER2, PASSWORD2,
                     hash_password, port_open, free_port, wait_for,
                     sample_message)


class ReloadBase(SubmitdTest):
    """A running submitd reloaded by SIGHUP and submitctl reload."""

    def setUp(self):
        super().setUp()
        # the control role answers, and the parent handles signals
        wait_for(lambda: os.path.exists(self.control_sock) and
                 "event=started" in self.submitd.log_text() and
                 self.ctl("show", "queue").returncode == 0, 20,
                 what="submitd to start")

    def ctl(self, *args):
        return subprocess.run([SUBMITCTL, "-s", self.control_sock] +
                              list(args), capture_output=True, text=True,
                              timeout=60 * harness.SLOW)

    def reload(self):
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("reloaded", r.stdout)
        return r

    def rewrite(self, text):
        write_file(self.submitd.conf, text)

    def ssl_ctx(self):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        return ctx

    def submit(self, subject, port=None, user=USER, password=PASSWORD):
        with smtplib.SMTP("127.0.0.1", port or self.P1,
                          timeout=30 * harness.SLOW) as s:
            s.ehlo("client.test")
            s.starttls(context=self.ssl_ctx())
            s.ehlo("client.test")
            s.login(user, password)
            s.sendmail(user, [RCPT], sample_message(frm=user, subject=subject))


class Reload(ReloadBase):
    EXTRA_CONF = ("limit messages 3 per 1h per user",)

    def test_reload_unchanged(self):
        self.reload()
        self.submit("after reload")
        self.smarthost.wait_messages(1)

    def test_bad_config_refused_old_stays(self):
        good = conf_text(self)
        lines = good.splitlines()
        lines.insert(2, "frobnicate yes")
        self.rewrite("\n".join(lines) + "\n")
        r = self.ctl("reload")
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        self.assertIn(self.submitd.conf + ":3: ", out)
        self.assertIn("refused", out)
        wait_for(lambda: (self.submitd.conf + ":3: ") in
                 self.submitd.log_text(), what="the error in the log")
        # a bad pki: refused with its line, the old certificate still served
        text = re.sub(r'(?m)^pki .*$', 'pki localhost cert "%s" key "%s"'
                      % (self.certs["crt"], self.certs["wrong_key"]), good)
        self.rewrite(text)
        r = self.ctl("reload")
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        self.assertRegex(out, re.escape(self.submitd.conf) +
                         r":4: pki localhost: .*does not match")
        self.submit("old config in force")
        self.smarthost.wait_messages(1)
        self.assertTrue(self.submitd.alive())

    def test_listener_added_and_removed(self):
        p5 = free_port()
        good = conf_text(self)
        self.rewrite(good + "listen on 127.0.0.1 port %d starttls pki "
                     "localhost\n" % p5)
        self.reload()
        self.assertTrue(port_open("127.0.0.1", p5))
        self.submit("on the new port", port=p5)
        self.smarthost.wait_messages(1)
        # remove it, and the implicit-TLS one
        text = re.sub(r'(?m)^listen on 127.0.0.1 port %d tls.*\n' % self.P2,
                      "", good)
        self.rewrite(text)
        self.reload()
        wait_for(lambda: not port_open("127.0.0.1", p5) and
                 not port_open("127.0.0.1", self.P2),
                 what="the removed listeners to close")
        self.submit("kept port")
        self.smarthost.wait_messages(2)

    def test_new_certificate_next_handshake(self):
        def served():
            with socket_tls("127.0.0.1", self.P2, self.certs["ca"]) as t:
                return t.getpeercert(binary_form=True)
        before = served()
        crt, key = make_leaf(self.dir, "rotated", days=20)
        der = pem_to_der(crt)
        self.assertNotEqual(before, der)
        self.rewrite(re.sub(r'(?m)^pki .*$', 'pki localhost cert "%s" key '
                            '"%s"' % (crt, key), conf_text(self)))
        os.kill(self.submitd.proc.pid, signal.SIGHUP)
        wait_for(lambda: served() == der, what="the new certificate")

    def test_users_reloaded(self):
        extra = "carl@example.org:%s:carl@example.org\n" % hash_password(
            "carl-pw-123")
        with open(self.users_file, "a") as f:
            f.write(extra)
        self.reload()
        self.submit("new user", user="carl@example.org",
                    password="carl-pw-123")
        self.smarthost.wait_messages(1)

    def test_counters_survive(self):
        self.submit("one")
        self.submit("two")
        self.reload()
        self.submit("three")
        with self.assertRaises(smtplib.SMTPException):
            self.submit("four: over the quota")
        self.smarthost.wait_messages(3)


class ReloadLoop(ReloadBase):
    """Issue 14's test: a client loop across 20 reloads (no quota here)."""
    EXTRA_CONF = ()

    def test_submitting_across_20_reloads(self):
        sent, errors, stop = [], [], threading.Event()

        def loop():
            n = 0
            while not stop.is_set() or n < 5:
                subject = "loop %d" % n
                try:
                    self.submit(subject)
                    sent.append(subject)
                except Exception as e:      # noqa: BLE001
                    errors.append("%s: %r" % (subject, e))
                n += 1
        t = threading.Thread(target=loop)
        t.start()
        try:
            for i in range(20):
                if i % 2:
                    os.kill(self.submitd.proc.pid, signal.SIGHUP)
                    wait_for(lambda: self.submitd.log_text().count(
                        ": reloaded") >= i + 1, what="reload %d" % i)
                else:
                    self.reload()
        finally:
            stop.set()
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(self.submitd.log_text().count(": reloaded"), 20)
        msgs = self.smarthost.wait_messages(len(sent), timeout=60)
        subjects = [re.search(rb"(?m)^Subject: (.*?)\r?$", m["data"]).group(1)
                    .decode() for m in msgs]
        self.assertEqual(sorted(subjects), sorted(sent))   # each once


def socket_tls(host, port, ca):
    import socket
    ctx = ssl.create_default_context(cafile=ca)
    s = socket.create_connection((host, port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="localhost")


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())
