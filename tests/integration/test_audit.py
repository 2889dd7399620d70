"""submitctl audit against a real authoritative DNS server (nsd on a
loopback port, tests/integration/nsd.py): one good setup that passes with
no WARN and no FAIL, and one test per rule that breaks exactly that rule
and asserts exactly the findings it provokes (level, check, subject); the
good setup is the one that clears each of them.  Also: conf/ovh.conf.example
with a zone matching it passes."""

import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from harness import REPO, SUBMITCTL, free_port, hash_password, write_file
from nsd import Nsd, txt

HOST = "relay.good.example"
PUBLIC_IP = "192.0.2.25"
OVH_SPF = "v=spf1 include:mx.ovh.com -all"


def make_cert(d, name, sans, days=90, key=None, past=False):
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
    if past:
        start, end = now - datetime.timedelta(days=60), now - datetime.timedelta(days=2)
    subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])])
    cert = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(s) for s in sans]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, kf = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    write_file(crt, cert.public_bytes(serialization.Encoding.PEM))
    write_file(kf, key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()), 0o600)
    return crt, kf


def keygen(d, name, alg="rsa", bits=None, domain="x.example", sel="s1"):
    """A DKIM key from submitctl; returns (file, the TXT record's value)."""
    path = os.path.join(d, name)
    cmd = [SUBMITCTL, "dkim", "keygen", "-a", alg, "-d", domain, "-s", sel,
           "-o", path]
    if bits:
        cmd[5:5] = ["-b", str(bits)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    data = r.stdout.split(" IN TXT ", 1)[1]
    return path, "".join(re.findall(r'"([^"]*)"', data))


# Every broken domain, relative to the zone "example": records besides the
# good SPF/DKIM/DMARC/MX that good() adds unless told otherwise.
class Audit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="submitd-audit-")
        d = cls.d
        cls.key, cls.key_txt = keygen(d, "dkim-rsa")
        cls.key2, cls.key2_txt = keygen(d, "dkim-other")
        cls.ed, cls.ed_txt = keygen(d, "dkim-ed", alg="ed25519")
        cls.weak, cls.weak_txt = keygen(d, "dkim-1024", bits=1024)
        cls.crt, cls.crtkey = make_cert(d, "good", [HOST])
        cls.users = os.path.join(d, "users")
        cls.h1 = hash_password("audit-one-Pa55")
        cls.h2 = hash_password("audit-two-Pa55")
        write_file(cls.users, "alice@good.example:%s:alice@good.example\n"
                   "bob@good.example:%s:*@good.example\n"
                   % (cls.h1, cls.h2), 0o640)
        cls.secrets = os.path.join(d, "upstream.secrets")
        write_file(cls.secrets, "* relay@good.example secret\n", 0o600)
        zone = []

        def domain(rel, spf=OVH_SPF, dkim=True, dmarc="v=DMARC1; p=reject",
                   mx=True, sel="s1", keytxt=None):
            if spf is not None:
                zone.append("%s TXT %s" % (rel, txt(spf)))
            if dkim:
                zone.append("%s._domainkey.%s TXT %s"
                            % (sel, rel, txt(keytxt or cls.key_txt)))
            if dmarc is not None:
                zone.append("_dmarc.%s TXT %s" % (rel, txt(dmarc)))
            if mx:
                zone.append("%s MX 10 mx1.mail.ovh.net." % rel)

        domain("good")
        zone += ["relay.good A " + PUBLIC_IP, "other.good A 192.0.2.27",
                 "nofwd.good A 192.0.2.99"]
        domain("nospf", spf=None)
        domain("twospf")
        zone.append("twospf TXT %s" % txt("v=spf1 a -all"))
        domain("plusall", spf="v=spf1 include:mx.ovh.com +all")
        domain("qall", spf="v=spf1 include:mx.ovh.com ?all")
        domain("noall", spf="v=spf1 include:mx.ovh.com")
        domain("noovh", spf="v=spf1 a mx -all")
        domain("many", spf="v=spf1 include:mx.ovh.com a mx a:a.many "
               "a:b.many mx:c.many exists:d.many ptr a:e.many a:f.many a:g.many -all")
        domain("badinc", spf="v=spf1 include:mx.ovh.com "
               "include:nothing.example -all")
        domain("nodkim", dkim=False)
        domain("mismatch", keytxt=cls.key2_txt)
        domain("revoked", keytxt="v=DKIM1; k=rsa; p=")
        domain("kwrong", keytxt=cls.key_txt.replace("k=rsa", "k=ed25519"))
        domain("testing", keytxt=cls.key_txt.replace("k=rsa;",
                                                      "k=rsa; t=y;"))
        domain("ed", keytxt=cls.ed_txt)
        domain("weak", keytxt=cls.weak_txt)
        domain("ovhsel", sel="ovhmo1")
        domain("twokeys")
        zone.append("s1._domainkey.twokeys TXT %s" % txt(cls.key2_txt))
        domain("nodmarc", dmarc=None)
        domain("pnone", dmarc="v=DMARC1; p=none")
        domain("nop", dmarc="v=DMARC1; rua=mailto:x@nop.example")
        domain("twodmarc")
        zone.append("_dmarc.twodmarc TXT %s" % txt("v=DMARC1; p=none"))
        domain("nomx", mx=False)
        rev = ["25 PTR relay.good.example.", "27 PTR other.good.example.",
               "28 PTR nofwd.good.example."]
        ovh = ["mx TXT " + txt("v=spf1 ip4:192.0.2.128/25 ~all")]
        cls.nsd = Nsd(os.path.join(d, "nsd"), {
            "example": zone, "ovh.com": ovh, "2.0.192.in-addr.arpa": rev})
        cls.nsd.start()

    @classmethod
    def tearDownClass(cls):
        cls.nsd.stop()
        shutil.rmtree(cls.d, True)

    def conf(self, **kw):
        v = dict(hostname=HOST, cert=self.crt, certkey=self.crtkey,
                 listen="listen on 127.0.0.1 port 587 starttls pki relay",
                 allow="allow from 192.0.2.0/24", users=self.users,
                 dkim='dkim domain good.example selector s1 rsa key "%s"'
                 % self.key,
                 relay="relay smtps://ssl0.ovh.net:465 secrets \"%s\""
                 % self.secrets,
                 limit="relay limit messages 190 per hour")
        v.update(kw)
        text = "\n".join([
            "hostname %(hostname)s",
            'pki relay cert "%(cert)s" key "%(certkey)s"',
            "%(listen)s", "%(allow)s", 'users "%(users)s"', "%(dkim)s",
            "%(relay)s", "%(limit)s"]) % v + "\n"
        path = os.path.join(self.d, "submitd.conf")
        write_file(path, text)
        return path

    def audit(self, public_ip=PUBLIC_IP, conf=None, **kw):
        cmd = [SUBMITCTL, "audit", "-f", conf or self.conf(**kw),
               "--resolver", "127.0.0.1:%d" % self.nsd.port, "--json"]
        if public_ip:
            cmd += ["--public-ip", public_ip]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        try:
            out = json.loads(r.stdout)
        except ValueError:
            self.fail("audit printed no JSON (exit %d): %r %r"
                      % (r.returncode, r.stdout, r.stderr))
        self.assertEqual(out["fail"], sum(f["level"] == "FAIL"
                                          for f in out["findings"]))
        return r.returncode, out["findings"]

    def problems(self, findings):
        return {(f["level"], f["check"], f["subject"]) for f in findings
                if f["level"] != "PASS"}

    def assertFindings(self, expected, **kw):
        rc, findings = self.audit(**kw)
        self.assertEqual(self.problems(findings), set(expected),
                         json.dumps(findings, indent=1))
        self.assertEqual(rc, 1 if any(e[0] == "FAIL" for e in expected)
                         else 0)
        for f in findings:
            if f["level"] != "PASS":
                self.assertTrue(f["fix"], f)
        return findings

    def dkim(self, dom, key=None, sel="s1", alg="rsa"):
        return 'dkim domain %s.example selector %s %s key "%s"' % (
            dom, sel, alg, key or self.key)

    # --- the good setup clears every rule --------------------------------

    def test_good_setup_passes(self):
        findings = self.assertFindings([], dkim=self.dkim("good"))
        checks = {f["check"] for f in findings}
        for c in ("listen.port", "tls.versions", "tls.expiry", "tls.names", "tls.key",
                  "tls.keyfile", "relay.port", "relay.host", "relay.secrets",
                  "relay.limit", "users.mode", "users.hash", "allow", "spf",
                  "dkim", "dmarc", "mx", "hostname", "rdns"):
            self.assertIn(c, checks)

    def test_text_output(self):
        r = subprocess.run([SUBMITCTL, "audit", "-f",
                            self.conf(dkim=self.dkim("nospf")), "--resolver",
                            "127.0.0.1:%d" % self.nsd.port, "--public-ip",
                            PUBLIC_IP], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"(?m)^FAIL spf.missing nospf.example: "
                         r"no SPF record.* -- fix: publish one TXT record at "
                         r"nospf.example: \"v=spf1 include:mx.ovh.com -all\"$")
        self.assertRegex(r.stdout, r"(?m)^PASS dmarc _dmarc.nospf.example: ")
        self.assertRegex(r.stdout, r"(?m)^audit: \d+ pass, 0 warn, 1 fail$")

    # --- listeners and TLS --------------------------------------------------

    def test_listen_ports(self):
        self.assertFindings(
            [("FAIL", "listen.port", "listen 127.0.0.1 port 465"),
             ("WARN", "listen.port", "listen 127.0.0.1 port 2525")],
            dkim=self.dkim("good"),
            listen="listen on 127.0.0.1 port 465 starttls pki relay\n"
                   "listen on 127.0.0.1 port 2525 tls pki relay")

    def test_tls_versions(self):
        self.assertFindings([("WARN", "tls.versions", "config")],
                            dkim=self.dkim("good"),
                            allow='allow from 192.0.2.0/24\n'
                                  'tls protocols "all"')
        self.assertFindings([], dkim=self.dkim("good"),
                            allow='allow from 192.0.2.0/24\n'
                                  'tls protocols "tlsv1.3"')

    def test_cert_expiring_expired_names_key(self):
        crt, key = make_cert(self.d, "soon", [HOST], days=10)
        self.assertFindings([("WARN", "tls.expiry", "pki relay")],
                            dkim=self.dkim("good"), cert=crt, certkey=key)
        crt, key = make_cert(self.d, "old", [HOST], past=True)
        self.assertFindings([("FAIL", "tls.expiry", "pki relay")],
                            dkim=self.dkim("good"), cert=crt, certkey=key)
        crt, key = make_cert(self.d, "other", ["other.example"])
        self.assertFindings([("WARN", "tls.names", "pki relay")],
                            dkim=self.dkim("good"), cert=crt, certkey=key)
        crt, key = make_cert(self.d, "rsa1024", [HOST], key=rsa.generate_private_key(65537, 1024))
        self.assertFindings([("FAIL", "tls.key", "pki relay")],
                            dkim=self.dkim("good"), cert=crt, certkey=key)
        _, otherkey = make_cert(self.d, "k2", [HOST])
        self.assertFindings([("FAIL", "tls.keyfile", "pki relay")],
                            dkim=self.dkim("good"), certkey=otherkey)
        os.chmod(self.crtkey, 0o644)
        try:
            self.assertFindings([("FAIL", "tls.keyfile", "pki relay")],
                                dkim=self.dkim("good"))
        finally:
            os.chmod(self.crtkey, 0o600)
        self.assertFindings([("FAIL", "tls.cert", "pki relay")],
                            dkim=self.dkim("good"),
                            cert=os.path.join(self.d, "missing.crt"))

    # --- upstream -----------------------------------------------------------

    def test_relay_mode_port(self):
        subj = "relay ssl0.ovh.net:587"
        self.assertFindings([("FAIL", "relay.port", subj)],
                            dkim=self.dkim("good"),
                            relay='relay smtps://ssl0.ovh.net:587 secrets "%s"'
                            % self.secrets)
        self.assertFindings([], dkim=self.dkim("good"),
                            relay='relay smtp+tls://ssl0.ovh.net:587 secrets '
                            '"%s"' % self.secrets)
        self.assertFindings([("FAIL", "relay.port", "relay ssl0.ovh.net:465")],
                            dkim=self.dkim("good"),
                            relay='relay smtp+tls://ssl0.ovh.net:465 secrets '
                            '"%s"' % self.secrets)

    def test_relay_hosts(self):
        for host in ("pro1.mail.ovh.net", "ex3.mail.ovh.net",
                     "smtp.mail.ovh.ca"):
            self.assertFindings([], dkim=self.dkim("good"),
                                relay='relay smtps://%s:465 secrets "%s"'
                                % (host, self.secrets))
        self.assertFindings(
            [("WARN", "relay.host", "relay smtp.ovh.net:465")],
            dkim=self.dkim("good"),
            relay='relay smtps://smtp.ovh.net:465 secrets "%s"' % self.secrets)

    def test_relay_limit(self):
        subj = "relay ssl0.ovh.net:465"
        self.assertFindings([("FAIL", "relay.limit", subj)],
                            dkim=self.dkim("good"), limit="")
        self.assertFindings([("WARN", "relay.limit", subj)],
                            dkim=self.dkim("good"),
                            limit="relay limit messages 195 per hour")
        self.assertFindings([("FAIL", "relay.limit", subj)],
                            dkim=self.dkim("good"),
                            limit="relay limit messages 10 per minute")
        # not OVH: no limit is fine, and SPF need not include OVH
        self.assertFindings([], dkim=self.dkim("noovh"), limit="",
                            relay='relay smtps://smtp.example.net:465 '
                            'secrets "%s"' % self.secrets)

    def test_secrets_file(self):
        os.chmod(self.secrets, 0o644)
        try:
            self.assertFindings(
                [("FAIL", "relay.secrets-mode", self.secrets)],
                dkim=self.dkim("good"))
        finally:
            os.chmod(self.secrets, 0o600)
        os.chown(self.secrets, 65534, -1)
        try:
            self.assertFindings(
                [("FAIL", "relay.secrets-owner", self.secrets)],
                dkim=self.dkim("good"))
        finally:
            os.chown(self.secrets, 0, -1)
        missing = os.path.join(self.d, "nosecrets")
        self.assertFindings([("FAIL", "relay.secrets", missing)],
                            dkim=self.dkim("good"),
                            relay='relay smtps://ssl0.ovh.net:465 secrets "%s"'
                            % missing)

    # --- users --------------------------------------------------------------

    def users_file(self, text, mode=0o640):
        p = os.path.join(self.d, "users-case")
        write_file(p, text, mode)
        return p

    def test_users(self):
        weak = "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43
        f = self.users_file("a@good.example:%s:a@good.example\n" % weak)
        self.assertFindings([("WARN", "users.hash", "a@good.example")],
                            dkim=self.dkim("good"), users=f)
        f = self.users_file("a@good.example:%s:a@good.example\n"
                            "b@good.example:%s:b@good.example\n"
                            % (self.h1, self.h1))
        self.assertFindings([("FAIL", "users.shared", "b@good.example")],
                            dkim=self.dkim("good"), users=f)
        salt = self.h1.rsplit("$", 1)[0]
        f = self.users_file("a@good.example:%s:a@good.example\n"
                            "b@good.example:%s$%s:b@good.example\n"
                            % (self.h1, salt, "B" * 43))
        self.assertFindings([("FAIL", "users.shared", "b@good.example")],
                            dkim=self.dkim("good"), users=f)
        f = self.users_file("a@good.example:%s:a@good.example\n" % self.h1,
                            0o644)
        self.assertFindings([("WARN", "users.mode", f)],
                            dkim=self.dkim("good"), users=f)
        f = self.users_file("a@good.example:%s:a@good.example\n" % self.h1,
                            0o666)
        self.assertFindings([("FAIL", "users.mode", f)],
                            dkim=self.dkim("good"), users=f)

    # --- allowlist ----------------------------------------------------------

    def test_allowlist(self):
        self.assertFindings([("WARN", "allow", "config")],
                            dkim=self.dkim("good"), allow="")
        self.assertFindings([("WARN", "allow.any", "0.0.0.0/0"),
                             ("WARN", "allow.overlap", "192.0.2.0/24")],
                            dkim=self.dkim("good"),
                            allow="allow from 0.0.0.0/0\n"
                                  "allow from 192.0.2.0/24")
        self.assertFindings([("WARN", "allow.any", "::/0")],
                            dkim=self.dkim("good"), allow="allow from ::/0")
        self.assertFindings([("WARN", "allow.duplicate", "192.0.2.0/24")],
                            dkim=self.dkim("good"),
                            allow="allow from 192.0.2.0/24\n"
                                  "allow from 192.0.2.0/24")
        self.assertFindings([("WARN", "allow.overlap", "192.0.2.128/25")],
                            dkim=self.dkim("good"),
                            allow="allow from 192.0.2.0/24\n"
                                  "allow from 192.0.2.128/25")
        # a private range: fine on a loopback listener, not on a public one
        self.assertFindings([], dkim=self.dkim("good"),
                            allow="allow from 10.0.0.0/8")
        self.assertFindings([("WARN", "allow.private", "10.0.0.0/8")],
                            dkim=self.dkim("good"),
                            listen="listen on 0.0.0.0 port 587 starttls "
                                   "pki relay",
                            allow="allow from 10.0.0.0/8")

    # --- SPF -------------------------------------------------------------

    def test_spf(self):
        cases = [
            ("nospf", "FAIL", "spf.missing"),
            ("twospf", "FAIL", "spf.multiple"),
            ("plusall", "FAIL", "spf.all"),
            ("qall", "FAIL", "spf.all"),
            ("noall", "WARN", "spf.all"),
            ("noovh", "FAIL", "spf.smarthost"),
            ("many", "FAIL", "spf.lookups"),
            ("badinc", "WARN", "spf.include"),
        ]
        for dom, level, check in cases:
            with self.subTest(dom=dom):
                self.assertFindings([(level, check, dom + ".example")],
                                    dkim=self.dkim(dom))

    # --- DKIM ------------------------------------------------------------

    def test_dkim(self):
        name = "s1._domainkey.%s.example"
        for dom, level, check in [("nodkim", "FAIL", "dkim.missing"),
                                  ("mismatch", "FAIL", "dkim.mismatch"),
                                  ("revoked", "FAIL", "dkim.revoked"),
                                  ("kwrong", "FAIL", "dkim.k"),
                                  ("testing", "WARN", "dkim.testing")]:
            with self.subTest(dom=dom):
                self.assertFindings([(level, check, name % dom)],
                                    dkim=self.dkim(dom))
        # the ed25519 record with an ed25519 key passes; with the RSA key
        # it is the wrong key and the wrong k=
        self.assertFindings([], dkim=self.dkim("ed", key=self.ed,
                                               alg="ed25519"))
        self.assertFindings([("FAIL", "dkim.mismatch", name % "ed"),
                             ("FAIL", "dkim.k", name % "ed")],
                            dkim=self.dkim("ed"))
        self.assertFindings([("FAIL", "dkim.key", name % "weak")],
                            dkim=self.dkim("weak", key=self.weak))
        self.assertFindings([("WARN", "dkim.selector",
                              "ovhmo1._domainkey.ovhsel.example")],
                            dkim=self.dkim("ovhsel", sel="ovhmo1"))
        self.assertFindings([("FAIL", "dkim.key", name % "good")],
                            dkim=self.dkim("good", key=os.path.join(
                                self.d, "nokey")))
        self.assertFindings([("FAIL", "dkim.multiple", name % "twokeys")],
                            dkim=self.dkim("twokeys"))
        self.assertFindings([("FAIL", "dkim", "config")], dkim="")

    # --- what cannot be checked is a FAIL, not a PASS ---------------------

    def test_unanswered_dns_fails(self):
        conf = self.conf(dkim=self.dkim("good"))
        r = subprocess.run([SUBMITCTL, "audit", "-f", conf, "--resolver",
                            "127.0.0.1:%d" % free_port(), "--public-ip",
                            PUBLIC_IP, "--json"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 1)
        got = self.problems(json.loads(r.stdout)["findings"])
        self.assertEqual(got, {
            ("FAIL", "spf", "good.example"),
            ("FAIL", "dmarc", "_dmarc.good.example"),
            ("FAIL", "mx", "good.example"),
            ("FAIL", "dkim", "s1._domainkey.good.example"),
            ("FAIL", "hostname", HOST), ("FAIL", "rdns", PUBLIC_IP)})

    def test_config_users_relay_missing(self):
        bad = os.path.join(self.d, "bad.conf")
        write_file(bad, "hostname relay.good.example\nnonsense here\n")
        self.assertFindings([("FAIL", "config", bad)], conf=bad)
        # submitd refuses a config without relay: so does the audit
        self.assertFindings([("FAIL", "config",
                              os.path.join(self.d, "submitd.conf"))],
                            dkim=self.dkim("good"), relay="", limit="")
        missing = os.path.join(self.d, "nousers")
        self.assertFindings([("FAIL", "users", missing)],
                            dkim=self.dkim("good"), users=missing)
        f = self.users_file("a@good.example:$2y$10$abcdefghijklmnopqrstuv"
                            "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012:"
                            "a@good.example\n")
        # the daemon refuses a non-Argon2id hash: the users file fails
        self.assertFindings([("FAIL", "users", f)],
                            dkim=self.dkim("good"), users=f)

    # --- DMARC, MX -------------------------------------------------------

    def test_dmarc_mx(self):
        for dom, level, check in [("nodmarc", "FAIL", "dmarc.missing"),
                                  ("pnone", "WARN", "dmarc.none"),
                                  ("nop", "FAIL", "dmarc.policy"),
                                  ("twodmarc", "FAIL", "dmarc.multiple")]:
            with self.subTest(dom=dom):
                self.assertFindings([(level, check, "_dmarc.%s.example" % dom)],
                                    dkim=self.dkim(dom))
        self.assertFindings([("WARN", "mx.missing", "nomx.example")],
                            dkim=self.dkim("nomx"))

    # --- reverse DNS -----------------------------------------------------

    def test_reverse_dns(self):
        self.assertFindings([("FAIL", "rdns.ptr", "192.0.2.26"),
                             ("WARN", "hostname", HOST)],
                            dkim=self.dkim("good"), public_ip="192.0.2.26")
        self.assertFindings([("WARN", "rdns.hostname", "192.0.2.27"),
                             ("WARN", "hostname", HOST)],
                            dkim=self.dkim("good"), public_ip="192.0.2.27")
        self.assertFindings([("FAIL", "rdns.fcrdns", "192.0.2.28"),
                             ("WARN", "hostname", HOST)],
                            dkim=self.dkim("good"), public_ip="192.0.2.28")
        self.assertFindings([("FAIL", "hostname", "nowhere.good.example"),
                             ("WARN", "rdns.hostname", PUBLIC_IP),
                             ("WARN", "tls.names", "pki relay")],
                            dkim=self.dkim("good"),
                            hostname="nowhere.good.example")
        # a listener on a public address is checked without --public-ip
        self.assertFindings([("FAIL", "rdns.ptr", "192.0.2.26")],
                            dkim=self.dkim("good"), public_ip=None,
                            listen="listen on 192.0.2.26 port 587 "
                                   "starttls pki relay")
        self.assertFindings([("WARN", "rdns", "listen")],
                            dkim=self.dkim("good"), public_ip=None)

    # --- the example config --------------------------------------------

    def test_ovh_example_passes(self):
        """conf/ovh.conf.example with its files made and a zone for
        example.org that matches it: no FAIL, no WARN."""
        d = tempfile.mkdtemp(dir=self.d)
        with open(os.path.join(REPO, "conf", "ovh.conf.example")) as f:
            text = f.read()
        key, keytxt = keygen(d, "example.org.s2026r.key",
                             domain="example.org", sel="s2026r")
        crt, ckey = make_cert(d, "relay", ["relay.example.org"])
        users = os.path.join(d, "users")
        write_file(users, "alice@example.org:%s:alice@example.org\n"
                   % self.h1, 0o640)
        secrets = os.path.join(d, "upstream.secrets")
        write_file(secrets, "* postmaster@example.org secret\n", 0o600)
        for old, new in [("/etc/submitd/tls/fullchain.pem", crt),
                         ("/etc/submitd/tls/privkey.pem", ckey),
                         ("/etc/submitd/users", users),
                         ("/etc/submitd/dkim/example.org.s2026r.key", key),
                         ("/etc/submitd/upstream.secrets", secrets)]:
            self.assertIn('"%s"' % old, text)
            text = text.replace('"%s"' % old, '"%s"' % new)
        self.assertNotIn("/etc/", text)
        conf = os.path.join(d, "submitd.conf")
        write_file(conf, text)
        zone = ["@ TXT " + txt(OVH_SPF),
                "s2026r._domainkey TXT " + txt(keytxt),
                "_dmarc TXT " + txt("v=DMARC1; p=quarantine"),
                "@ MX 10 mx1.mail.ovh.net.", "relay A " + PUBLIC_IP]
        rev = ["25 PTR relay.example.org."]
        ovh = ["mx TXT " + txt("v=spf1 ip4:192.0.2.128/25 ~all")]
        with Nsd(os.path.join(d, "nsd"), {"example.org": zone,
                                          "ovh.com": ovh,
                                          "2.0.192.in-addr.arpa": rev}) as ns:
            r = subprocess.run([SUBMITCTL, "audit", "-f", conf, "--resolver",
                                "127.0.0.1:%d" % ns.port, "--public-ip",
                                PUBLIC_IP, "--json"],
                               capture_output=True, text=True, timeout=120)
        out = json.loads(r.stdout)
        self.assertEqual(self.problems(out["findings"]), set(),
                         json.dumps(out, indent=1))
        self.assertEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
