"""DKIM: submitctl dkim keygen|sign|verify, offline.

First the worked example of RFC 8463 Appendix A (tests/testdata/rfc8463,
or $SUBMITD_TESTDATA/rfc8463): both signatures pass with the RFC's keys, fail
after one changed byte of the body or of a signed header, the un-hashed
Ed25519 value fails, and signing the message reproduces the RFC's bh=.
Then keygen (mode 0600, the TXT record in 255-octet strings), sign and
verify's refusals, and signatures made by dkimpy checked by submitctl.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "dkim"))
import verifiers as V  # noqa: E402

RFC = os.path.join(V.testdata_dir(), "rfc8463")
RFC_BH = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
RFC_BH_SIMPLE = "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="
WRONG_ED25519 = ("QGeDV9CRdXSybek0z54GoycZ4/kl1PsNnGoOsCZ0ZOOwiGYFE8Ft0SZpy1XLW/fwlwNF"
                 "C1k6VaxsnQAH8+9cAA==")
MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
       b"Subject: hello\r\nDate: Sun, 29 Nov 2026 14:00:00 +0000\r\n\r\nHi Bob.\r\n")


def rfc(name, mode="rb"):
    with open(os.path.join(RFC, name), mode) as f:
        return f.read()


def unfold_tag(field, tag):
    m = re.search(rb"[;\s]" + tag + rb"=([^;]*)", field)
    return re.sub(rb"\s", b"", m.group(1)).decode()


class Rfc8463(unittest.TestCase):
    """RFC 8463 Appendix A through submitctl."""

    def setUp(self):
        if not os.path.isdir(RFC):
            self.fail("no RFC 8463 test data at %s (set SUBMITD_TESTDATA)" % RFC)
        self.msg = rfc("signed.eml")
        self.txt = [rfc("brisbane._domainkey.football.example.com.txt", "r").strip(),
                    rfc("test._domainkey.football.example.com.txt", "r").strip()]

    def verify(self, msg, *keys):
        args = ["dkim", "verify"]
        for k in keys:
            args += ["-k", k] if os.path.exists(k) else ["--txt", k]
        p = V.ctl(*args, data=msg)
        return p.returncode, p.stdout.decode().splitlines()

    def test_both_pass_with_rfc_records(self):
        rc, out = self.verify(self.msg, *self.txt)
        self.assertEqual(out, [
            "signature 1: d=football.example.com s=brisbane a=ed25519-sha256: pass",
            "signature 2: d=football.example.com s=test a=rsa-sha256: pass"])
        self.assertEqual(rc, 0)

    def test_both_pass_with_private_key_files(self):
        rc, out = self.verify(self.msg, os.path.join(RFC, "ed25519.seed.b64"),
                              os.path.join(RFC, "rsa.key.pem"))
        self.assertEqual(rc, 0, out)

    def test_one_key_only(self):
        rc, out = self.verify(self.msg, self.txt[0])
        self.assertEqual(rc, 1)
        self.assertTrue(out[0].endswith(": pass"))
        self.assertTrue(out[1].endswith(": fail (no rsa key given)"))

    def test_body_byte_changed(self):
        for old, new in ((b"We lost", b"We lest"), (b"game.  Are", b"game.  Arf"),
                         (b"Joe.\r\n", b"Joe!\r\n")):
            rc, out = self.verify(self.msg.replace(old, new), *self.txt)
            self.assertEqual(rc, 1)
            self.assertEqual([o.rsplit(": ", 1)[1] for o in out],
                             ["fail (body hash mismatch)"] * 2, old)

    def test_signed_header_byte_changed(self):
        for old, new in ((b"dinner", b"dinnar"), (b"Joe SixPack", b"Joe SixPacj"),
                         (b"suzie@", b"suzia@"), (b"21:00:37", b"21:00:38"),
                         (b"<20030712040037", b"<20030712040038")):
            rc, out = self.verify(self.msg.replace(old, new), *self.txt)
            self.assertEqual(rc, 1)
            self.assertEqual([o.rsplit(": ", 1)[1] for o in out],
                             ["fail (signature does not verify)"] * 2, old)

    def test_unhashed_ed25519_value_fails(self):
        b = re.search(rb"b=(/gCrinpc[^;]*?==)\r\n", self.msg).group(1)
        rc, out = self.verify(self.msg.replace(b, WRONG_ED25519.encode()), *self.txt)
        self.assertEqual(rc, 1)
        self.assertTrue(out[0].endswith("fail (signature does not verify)"), out)
        self.assertTrue(out[1].endswith(": pass"), out)

    def test_sign_reproduces_bh(self):
        body_start = self.msg.index(b"From: ")
        plain = self.msg[body_start:]
        for canon, bh in (("relaxed", RFC_BH), ("simple", RFC_BH_SIMPLE)):
            out = V.sign(plain, "football.example.com", "brisbane",
                         os.path.join(RFC, "ed25519.seed.b64"), canon, t=1528637909)
            self.assertEqual(unfold_tag(out, b"bh"), bh)
            self.assertTrue(out.endswith(plain))
            rc, res = self.verify(out, self.txt[0])
            self.assertEqual(rc, 0, res)

    def test_dkimpy_agrees(self):
        res = V.dkimpy_verify(self.msg, {
            "brisbane._domainkey.football.example.com": self.txt[0],
            "test._domainkey.football.example.com": self.txt[1]})
        self.assertEqual([ok for ok, why in res], [True, True], res)


class Cli(unittest.TestCase):
    def setUp(self):
        if not os.access(V.SUBMITCTL, os.X_OK):
            self.skipTest("no %s: run make first" % V.SUBMITCTL)
        self.dir = tempfile.mkdtemp(prefix="dkim-cli.")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_keygen_rsa(self):
        p = V.ctl("dkim", "keygen", "-a", "rsa", "-d", "example.org", "-s", "s2026r",
                  "-o", self.path("r.key"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("r.key")).st_mode), 0o600)
        with open(self.path("r.key")) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PRIVATE KEY-----\n"))
        out = p.stdout.decode()
        self.assertEqual(out.count("\n"), 1)
        name, rec, strings = V.parse_txt(out)
        self.assertEqual(name, "s2026r._domainkey.example.org")
        self.assertTrue(rec.startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC"))
        self.assertEqual(len(strings), 2)
        self.assertEqual(len(strings[0]), 255)
        self.assertLessEqual(len(strings[1]), 255)
        # the record published as printed verifies what the key signs
        signed = V.sign(MSG, "example.org", "s2026r", self.path("r.key"))
        res = V.dkimpy_verify(signed, {name: rec})
        self.assertEqual(res, [(True, "")])
        p = V.ctl("dkim", "verify", "--txt", rec, data=signed)
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_keygen_ed25519(self):
        p = V.ctl("dkim", "keygen", "-a", "ed25519", "-d", "example.org", "-s", "e",
                  "-o", self.path("e.key"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("e.key")).st_mode), 0o600)
        with open(self.path("e.key")) as f:
            self.assertRegex(f.read(), r"^[A-Za-z0-9+/]{43}=\n$")
        name, rec, strings = V.parse_txt(p.stdout.decode())
        self.assertRegex(rec, r"^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$")
        self.assertEqual(len(strings), 1)
        signed = V.sign(MSG, "example.org", "e", self.path("e.key"))
        self.assertEqual(V.dkimpy_verify(signed, {name: rec}), [(True, "")])

    def test_keygen_refusals(self):
        p = V.ctl("dkim", "keygen", "-a", "rsa", "-b", "768", "-d", "example.org",
                  "-s", "s", "-o", self.path("small.key"))
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.path("small.key")))
        p = V.ctl("dkim", "keygen", "-a", "rsa", "-b", "1024", "-d", "example.org",
                  "-s", "s", "-o", self.path("weak.key"))
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"weak", p.stderr)
        with open(self.path("weak.key"), "rb") as f:
            before = f.read()
        p = V.ctl("dkim", "keygen", "-a", "ed25519", "-d", "example.org", "-s", "s",
                  "-o", self.path("weak.key"))
        self.assertNotEqual(p.returncode, 0)     # never over an existing file
        with open(self.path("weak.key"), "rb") as f:
            self.assertEqual(f.read(), before)
        for args in (["-a", "rsa-sha1"], ["-a", "rsa", "-d", "exa mple.org"],
                     ["-a", "rsa", "-s", "a;b"], []):
            full = {"-a": None, "-d": "example.org", "-s": "s", "-o": self.path("x.key")}
            argv = ["dkim", "keygen"]
            for k, v in full.items():
                if k in args:
                    v = args[args.index(k) + 1]
                if v is not None:
                    argv += [k, v]
            p = V.ctl(*argv)
            self.assertNotEqual(p.returncode, 0, argv)
            self.assertFalse(os.path.exists(self.path("x.key")))

    def test_sign_refusals(self):
        V.keygen("ed25519", "example.org", "e", self.path("e.key"))
        two = b"From: a@example.org\r\nFrom: b@example.org\r\n\r\nx\r\n"
        none = b"To: a@example.org\r\n\r\nx\r\n"
        for msg in (two, none):
            p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-k",
                      self.path("e.key"), data=msg)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"From:", p.stderr)
            self.assertEqual(p.stdout, b"")
        p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-a", "rsa", "-k",
                  self.path("e.key"), data=MSG)
        self.assertNotEqual(p.returncode, 0)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:768", "-out", self.path("small.pem")],
                       check=True, capture_output=True)
        p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-k",
                  self.path("small.pem"), data=MSG)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"768 bits refused", p.stderr)
        # the RFC's 1024-bit key signs, with a warning
        p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-k",
                  os.path.join(RFC, "rsa.key.pem"), data=MSG)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"weak-key bits=1024", p.stderr)

    def test_lf_input_and_expiry(self):
        name, rec, _ = V.keygen("ed25519", "example.org", "e", self.path("e.key"))
        now = int(time.time())
        lf = MSG.replace(b"\r\n", b"\n")
        p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-k", self.path("e.key"),
                  "-x", str(now + 3600), data=lf)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn(b"\n", p.stdout.replace(b"\r\n", b""))
        self.assertIn(b"x=%d;" % (now + 3600), p.stdout)
        self.assertNotIn(b" l=", p.stdout)
        self.assertEqual(V.dkimpy_verify(p.stdout, {name: rec}), [(True, "")])
        p = V.ctl("dkim", "sign", "-d", "example.org", "-s", "e", "-k", self.path("e.key"),
                  "-t", str(now - 100), "-x", str(now - 10), data=lf)
        v = V.ctl("dkim", "verify", "--txt", rec, data=p.stdout)
        self.assertEqual(v.returncode, 1)
        self.assertIn(b"fail (signature expired (x=))", v.stdout)

    def test_verify_other_signers(self):
        """dkimpy signs; submitctl checks: rsa/ed25519 pass, rsa-sha1 and l= fail."""
        import dkim
        rn, rrec, _ = V.keygen("rsa", "example.org", "r", self.path("r.key"))
        en, erec, _ = V.keygen("ed25519", "example.org", "e", self.path("e.key"))
        with open(self.path("r.key"), "rb") as f:
            rkey = f.read()
        with open(self.path("e.key"), "rb") as f:
            ekey = f.read()
        cases = [
            (dict(selector=b"r", privkey=rkey), "pass"),
            (dict(selector=b"r", privkey=rkey, canonicalize=(b"simple", b"relaxed")), "pass"),
            (dict(selector=b"e", privkey=ekey, signature_algorithm=b"ed25519-sha256"), "pass"),
            (dict(selector=b"r", privkey=rkey, signature_algorithm=b"rsa-sha1"),
             "fail (rsa-sha1 refused (RFC 8301))"),
            (dict(selector=b"r", privkey=rkey, length=True),
             "fail (l= refused: part of the body is unsigned)"),
            (dict(selector=b"r", privkey=rkey, unsign_from=True),
             "fail (h= does not sign From)"),
        ]
        for kw, want in cases:
            unsign_from = kw.pop("unsign_from", False)
            sig = dkim.sign(MSG, domain=b"example.org", **kw)
            if unsign_from:     # dkimpy will not sign without From
                sig = re.sub(rb"h=[^;]*;", b"h=to : subject;", sig)
            p = V.ctl("dkim", "verify", "--txt", rrec, "--txt", erec, data=sig + MSG)
            out = p.stdout.decode().strip()
            self.assertTrue(out.endswith(": " + want), "%s: %s" % (kw, out))
            self.assertEqual(p.returncode, 0 if want == "pass" else 1)

    def test_verify_refusals(self):
        name, rec, _ = V.keygen("ed25519", "example.org", "e", self.path("e.key"))
        p = V.ctl("dkim", "verify", "--txt", rec, data=MSG)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"no DKIM-Signature", p.stdout)
        p = V.ctl("dkim", "verify", data=MSG)
        self.assertNotEqual(p.returncode, 0)
        p = V.ctl("dkim", "verify", "--txt", "v=DKIM1; k=ed25519; p=", data=MSG)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"revoked", p.stderr)
        # a mangled field is a failure with a reason, not a crash
        bad = b"DKIM-Signature: v=1; a=ed25519-sha256; d=example.org; d=x\r\n" + MSG
        p = V.ctl("dkim", "verify", "--txt", rec, data=bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"fail (bad tag list: tag d twice)", p.stdout)


if __name__ == "__main__":
    unittest.main()
