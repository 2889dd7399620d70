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

    def check_extra(self, *extra):
        """The test's config and EXTRA lines; (path, result, the number
        of the first extra line)."""
        lines = conf_text(self).splitlines()
        p, r = self.check("\n".join(lines + list(extra)) + "\n")
        return p, r, len(lines) + 1

    def test_proxy_from_everyone_refused(self):
        """Review of issue 17: a proxy-from of 0.0.0.0/0 (or ::/0) lets
        any client claim any address in a PROXY header: refused."""
        port = harness.free_port()
        for block in ("0.0.0.0/0", "::/0", "::/64"):
            p, r, n = self.check_extra(
                "listen on 127.0.0.1 port %d tls pki localhost "
                "proxy-from %s" % (port, block))
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertRegex(r.stderr, re.escape(
                "%s:%d: listen: proxy-from %s refused: every host could "
                "claim any client address" % (p, n, block)))
            self.assertIn("name the load balancers only", r.stderr)
        p, r, n = self.check_extra(
            "listen on 127.0.0.1 port %d tls pki localhost "
            "proxy-from 127.0.0.1/32" % port)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_state_twice(self):
        """Review of issue 17: 'state DIR' and 'state redis' in one file
        (the last silently won): an error at the second."""
        lines = conf_text(self).splitlines()
        first = [i for i, l in enumerate(lines, 1) if l.startswith("state ")]
        self.assertEqual(len(first), 1, lines)
        p, r, n = self.check_extra('state redis "redis://127.0.0.1:6379/0"')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:%d: 'state' given twice (first on line %d)"
                      % (p, n, first[0]), r.stderr)

    def test_no_listen_has_no_line(self):
        """A statement missing is about the whole file: 'file: message',
        not the number of its last line."""
        text = "".join(l + "\n" for l in conf_text(self).splitlines()
                       if not l.startswith("listen "))
        p, r = self.check(text)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s: no 'listen' statement\n" % p, r.stderr)
        self.assertNotRegex(r.stderr, re.escape(p) + r":\d+: no 'listen'")

    def test_named_files_checked(self):
        """Review of issues 16 and 17: -n reads the files state redis and
        filter name, as it does the users, secrets and pki files: a
        missing or unusable one is 'file:line: what: path: reason'."""
        d = self.dir
        missing = os.path.join(d, "missing")
        pw = os.path.join(d, "redis.pw")
        write_file(pw, "hunter2\n", 0o600)
        empty = os.path.join(d, "empty.pw")
        write_file(empty, "\nsecond line\n", 0o600)
        garbage = os.path.join(d, "garbage.pem")
        write_file(garbage, "not a certificate\n")
        sockdir = os.path.join(d, "redis-run")
        os.mkdir(sockdir)
        cases = [
            ('state redis "redis://127.0.0.1:6379/0" user u '
             'password-file "%s"' % missing,
             "state redis password-file: %s: No such file or directory"
             % missing),
            ('state redis "redis://127.0.0.1:6379/0" password-file "%s"'
             % d, "state redis password-file: %s: not a regular file" % d),
            ('state redis "redis://127.0.0.1:6379/0" password-file "%s"'
             % empty, "state redis password-file: %s: its first line "
             "(the password) is empty" % empty),
            ('state redis "rediss://127.0.0.1:6380/0" ca "%s"' % missing,
             "state redis ca: %s: No such file or directory" % missing),
            ('state redis "rediss://127.0.0.1:6380/0" ca "%s"' % garbage,
             "state redis ca: %s: no PEM certificate in it" % garbage),
            ('state redis "unix:%s/redis.sock"' % missing,
             "state redis: socket directory %s: No such file or directory"
             % missing),
            ('state redis "unix:%s/redis.sock"' % pw,
             "state redis: socket directory %s: not a directory" % pw),
            ('filter rspamd "%s/rspamd.sock"' % missing,
             "filter: socket directory %s: No such file or directory"
             % missing),
        ]
        for line, msg in cases:
            text = "".join(l + "\n" for l in conf_text(self).splitlines()
                           if not l.startswith("state "))
            lines = text.splitlines() + [line]
            p, r = self.check("\n".join(lines) + "\n")
            self.assertEqual(r.returncode, 1, line + "\n" + r.stderr)
            self.assertIn("%s:%d: %s\n" % (p, len(lines), msg), r.stderr)
        # all there: good; a password file others may read is a warning
        os.chmod(pw, 0o644)
        text = "".join(l + "\n" for l in conf_text(self).splitlines()
                       if not l.startswith("state "))
        lines = text.splitlines() + [
            'state redis "rediss://127.0.0.1:6380/0" ca "%s" user u '
            'password-file "%s"' % (self.certs["ca"], pw),
            'filter rspamd "%s/rspamd.sock"' % sockdir]
        p, r = self.check("\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%s:%d: warning: state redis password-file: %s: mode "
                      "0644 lets group or others read it (chmod 600)"
                      % (p, len(lines) - 1, pw), r.stderr)
        lines[-2] = 'state redis "unix:%s/redis.sock"' % sockdir
        p, r = self.check("\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)

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
