"""End to end with DKIM: what the smarthost receives carries valid
rsa-sha256 and ed25519-sha256 signatures for the From: domain, checked by
independent verifiers fed the public keys offline (issue 3)."""
import os
import re
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
from harness import USER, PASSWORD, RCPT, sample_message  # noqa: E402


class DkimEndToEnd(harness.SubmitdTest):

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="submitd-dkim-e2e-")
        cls.keys = {}
        conf = []
        for alg, sel in (("rsa", "s2026r"), ("ed25519", "s2026e")):
            path = os.path.join(cls.keydir, "example.org.%s.key" % sel)
            name, record, _ = verifiers.keygen(alg, "example.org", sel, path)
            cls.keys[name] = record
            conf.append('dkim domain example.org selector %s %s key "%s"'
                        % (sel, alg, path))
        cls.EXTRA_CONF = tuple(conf)
        cls.keysfile = os.path.join(cls.keydir, "keys.txt")
        verifiers.write_keys(cls.keysfile, cls.keys)
        cls.opendkim = verifiers.build_opendkim(cls.keydir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keydir, True)

    def submit(self, msg, frm=USER):
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ssl.create_default_context(cafile=self.certs["ca"]))
            s.login(USER, PASSWORD)
            s.sendmail(frm, [RCPT], msg)
        return self.smarthost.wait_messages(1)[0]

    def signatures(self, data):
        return re.findall(rb"(?mi)^DKIM-Signature:.*(?:\r\n[ \t].*)*", data)

    def test_both_signatures_verify_everywhere(self):
        original = sample_message()
        m = self.submit(original)
        self.assertDelivered(m, original)
        data = m["data"]
        sigs = self.signatures(data)
        self.assertEqual(len(sigs), 2, data[:2000])
        algs = sorted(re.search(rb"a=([a-z0-9-]+)", s).group(1) for s in sigs)
        self.assertEqual(algs, [b"ed25519-sha256", b"rsa-sha256"])
        for s in sigs:
            self.assertIn(b"d=example.org", s)
            self.assertNotIn(b"l=", re.sub(rb"\s", b"", s).replace(b"bl=", b""))
        # the signatures come first, before our Received: line
        self.assertTrue(data.startswith(b"DKIM-Signature:"), data[:200])

        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(data, self.keys)],
                         [True, True])
        path = os.path.join(self.dir, "delivered.eml")
        with open(path, "wb") as f:
            f.write(data)
        od = verifiers.opendkim_verify(self.opendkim, self.keysfile, [path])
        self.assertEqual(len(od.get(path, [])), 2, od)
        for _, res in od[path]:
            self.assertIn(" pass", res, od)
        md = verifiers.maildkim_verify(self.keysfile, [path])
        rsa = [r for _, r in md[path] if "a=rsa-sha256" in r]
        self.assertEqual(len(rsa), 1, md)
        self.assertIn(" pass", rsa[0], md)
        args = ["dkim", "verify"]
        for rec in self.keys.values():
            args += ["--txt", rec]
        p = verifiers.ctl(*args, data=data)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        # one changed body byte breaks both, for every verifier
        bad = data.replace(b"Hello Carol", b"Hello Carel")
        self.assertEqual([ok for ok, _ in verifiers.dkimpy_verify(bad, self.keys)],
                         [False, False])

    def test_domain_without_key_is_relayed_unsigned(self):
        frm = "news@sales.example.org"
        original = sample_message(frm=frm)
        m = self.submit(original, frm=frm)
        self.assertDelivered(m, original, mail_from=frm)
        self.assertEqual(self.signatures(m["data"]), [])


if __name__ == "__main__":
    unittest.main()
