"""DKIM: messages signed by submitctl pass independent verifiers.

A corpus of awkward messages (tests/dkim/make_corpus.py: folded and long
headers, tabs, trailing spaces, empty and blank bodies, UTF-8, MIME with
attachments, 998-octet lines, upper-case and repeated headers, dot lines, a
20 MB message, ...) is signed four times, rsa-sha256 and ed25519-sha256 each
with relaxed and simple canonicalization, then checked offline by dkimpy
(both algorithms), OpenDKIM's library (both) and Perl Mail::DKIM (rsa-sha256
only in Debian 12), and by submitctl dkim verify.  One byte changed in the
body must make every verifier fail every signature.

Verifiers get each message as SMTP transmits it: a message whose body lacks a
final CRLF gets one (DATA always ends with CRLF "." CRLF).  RFC 6376 3.4.3
and 3.4.4 add that CRLF before hashing, so signatures survive it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "dkim"))
import verifiers as V  # noqa: E402

DOMAIN = "example.org"
# dkimpy refuses obsolete header syntax (WSP before ':', RFC 5322 4.5)
# when it parses the message, before any DKIM check.
DKIMPY_UNPARSEABLE = {"header-wsp-before-colon"}
TAMPERED = ["01-plain", "11-utf8-headers", "14-multipart-attachment",
            "15-line-998", "07-empty-body"]


def transmitted(msg):
    return msg if msg.endswith(b"\r\n") else msg + b"\r\n"


def flip_body_byte(msg):
    i = msg.index(b"\r\n\r\n") + 4
    if i >= len(msg) - 2:        # empty body: add a line instead
        return msg + b"x\r\n"
    j = i + (len(msg) - i) // 2
    while msg[j:j + 1] in (b"\r", b"\n", b" ", b"\t"):
        j += 1
    return msg[:j] + bytes([msg[j] ^ 0x01]) + msg[j + 1:]


class DkimVerifiers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(V.SUBMITCTL, os.X_OK):
            raise unittest.SkipTest("no %s: run make first" % V.SUBMITCTL)
        cls.dir = tempfile.mkdtemp(prefix="dkim-verifiers.")
        corpus = os.path.join(cls.dir, "corpus")
        subprocess.run([V.PY, os.path.join(V.HERE, "make_corpus.py"), corpus, "--big"],
                       check=True, timeout=120)
        cls.keys = {}
        cls.keyfiles = {}
        for alg, sel in (("rsa", "r2048"), ("ed25519", "ed")):
            path = os.path.join(cls.dir, sel + ".key")
            name, rec, _ = V.keygen(alg, DOMAIN, sel, path,
                                    bits=2048 if alg == "rsa" else None)
            cls.keys[name] = rec
            cls.keyfiles[alg] = path
        cls.keysfile = os.path.join(cls.dir, "keys.txt")
        V.write_keys(cls.keysfile, cls.keys)
        cls.signed = {}         # name -> file of the signed message
        cls.tampered = {}
        os.makedirs(os.path.join(cls.dir, "signed"))
        for f in sorted(os.listdir(corpus)):
            name = f[:-4]
            with open(os.path.join(corpus, f), "rb") as fp:
                msg = fp.read()
            for sel, alg in (("r2048", "rsa"), ("ed", "ed25519")):
                for canon in ("relaxed", "simple"):
                    msg = V.sign(msg, DOMAIN, sel, cls.keyfiles[alg], canon)
            path = os.path.join(cls.dir, "signed", f)
            with open(path, "wb") as fp:
                fp.write(transmitted(msg))
            cls.signed[name] = path
            if name in TAMPERED:
                path = os.path.join(cls.dir, "signed", "tampered-" + f)
                with open(path, "wb") as fp:
                    fp.write(flip_body_byte(transmitted(msg)))
                cls.tampered[name] = path
        cls.opendkim = V.build_opendkim(cls.dir)

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(cls.dir, ignore_errors=True)

    def test_corpus(self):
        self.assertGreaterEqual(len(self.signed), 31)
        big = [p for n, p in self.signed.items() if n.startswith("99-")]
        self.assertEqual(len(big), 1)
        self.assertGreaterEqual(os.path.getsize(big[0]), 20 * 1000 * 1000)
        self.assertEqual(sorted(self.tampered), sorted(TAMPERED))

    def test_submitctl_verify(self):
        for name, path in sorted(self.signed.items()):
            with open(path, "rb") as fp:
                p = V.ctl("dkim", "verify", "-k", self.keyfiles["rsa"],
                          "-k", self.keyfiles["ed25519"], data=fp.read())
            out = p.stdout.decode()
            self.assertEqual(p.returncode, 0, "%s:\n%s" % (name, out))
            self.assertEqual(out.count(": pass\n"), 4, name)

    def test_dkimpy(self):
        for name, path in sorted(self.signed.items()):
            with open(path, "rb") as fp:
                msg = fp.read()
            if name[3:] in DKIMPY_UNPARSEABLE:
                continue
            res = V.dkimpy_verify(msg, self.keys)
            self.assertEqual(len(res), 4, name)
            for i, (ok, why) in enumerate(res):
                self.assertTrue(ok, "%s signature %d: %s" % (name, i + 1, why))

    def test_opendkim(self):
        res = V.opendkim_verify(self.opendkim, self.keysfile, self.signed.values())
        for name, path in sorted(self.signed.items()):
            lines = res.get(path, [])
            self.assertEqual(len(lines), 4, "%s: %s" % (name, lines))
            for n, line in lines:
                self.assertTrue(line.endswith(" pass"), "%s %d: %s" % (name, n, line))
        algs = [line.split()[1] for n, line in res[self.signed["01-plain"]]]
        self.assertEqual(sorted(algs), ["s=ed", "s=ed", "s=r2048", "s=r2048"])

    def test_mail_dkim(self):
        res = V.maildkim_verify(self.keysfile, self.signed.values())
        for name, path in sorted(self.signed.items()):
            lines = res.get(path, [])
            rsa = [line for n, line in lines if " a=rsa-sha256 " in line]
            self.assertEqual(len(rsa), 2, "%s: %s" % (name, lines))
            for line in rsa:
                self.assertIn(" pass ", line, name)

    def test_tampered_fail_everywhere(self):
        files = list(self.tampered.values())
        od = V.opendkim_verify(self.opendkim, self.keysfile, files)
        md = V.maildkim_verify(self.keysfile, files)
        for name, path in sorted(self.tampered.items()):
            with open(path, "rb") as fp:
                msg = fp.read()
            p = V.ctl("dkim", "verify", "-k", self.keyfiles["rsa"],
                      "-k", self.keyfiles["ed25519"], data=msg)
            self.assertNotEqual(p.returncode, 0, name)
            self.assertEqual(p.stdout.decode().count("fail (body hash mismatch)"), 4,
                             name)
            res = V.dkimpy_verify(msg, self.keys)
            self.assertEqual([ok for ok, why in res], [False] * 4, name)
            self.assertEqual(len(od[path]), 4, name)
            for n, line in od[path]:
                self.assertIn(" fail", line, name)
            rsa = [line for n, line in md[path] if " a=rsa-sha256 " in line]
            self.assertEqual(len(rsa), 2, name)
            for line in rsa:
                self.assertIn(" fail ", line, name)


if __name__ == "__main__":
    unittest.main()
