"""submitd -n: check the config and exit (0 good, 1 bad, errors as
file:line: message); submitctl passwd."""

import os
import re
import subprocess
import unittest

import harness
from harness import SubmitdTest, conf_text, write_file


class ConfigCheck(SubmitdTest):
    START_SMARTHOST = False
    START_SUBMITD = False

    def check(self, text):
        p = os.path.join(self.dir, "check.conf")
        write_file(p, text)
        r = subprocess.run([harness.SUBMITD, "-n", "-f", p],
                           capture_output=True, text=True, timeout=30)
        return p, r

    def test_good_config(self):
        p, r = self.check(conf_text(self))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_line_reports_file_and_line(self):
        lines = conf_text(self).splitlines()
        lines.insert(3, "listen on 127.0.0.1 port 99999 starttls pki localhost")
        p, r = self.check("\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, re.escape(p) + r":4: \S")

    def test_unknown_keyword(self):
        lines = conf_text(self).splitlines()
        lines.append("frobnicate yes")
        p, r = self.check("\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, re.escape(p) + r":%d: \S" % len(lines))

    def test_plaintext_relay_refused(self):
        text = conf_text(self).replace("relay smtps://", "relay smtp://")
        p, r = self.check(text)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(p + ":", r.stderr)

    def test_missing_file(self):
        r = subprocess.run([harness.SUBMITD, "-n", "-f",
                            os.path.join(self.dir, "nope.conf")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)


class Passwd(unittest.TestCase):

    def test_passwd_makes_argon2id(self):
        h1 = subprocess.run([harness.SUBMITCTL, "passwd"], input="secret\n",
                            capture_output=True, text=True, timeout=60)
        h2 = subprocess.run([harness.SUBMITCTL, "passwd"], input="secret\n",
                            capture_output=True, text=True, timeout=60)
        self.assertEqual(h1.returncode, 0, h1.stderr)
        self.assertRegex(h1.stdout.strip(), r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$")
        self.assertNotEqual(h1.stdout, h2.stdout, "salt not random")
        self.assertNotIn("secret", h1.stdout)

    def test_passwd_empty_input_fails(self):
        r = subprocess.run([harness.SUBMITCTL, "passwd"], input="",
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
