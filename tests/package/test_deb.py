"""The Debian package and the systemd unit (issue 10, items 4 and 5).

`make check-deb` runs this (about a minute, so not part of make check):
builds the .deb with `make deb` (dpkg-buildpackage -us -uc -b in a copy of
the tree), then checks its contents (dpkg-deb -c), its metadata and
maintainer scripts (dpkg-deb -I/-e), lintian (no error, no warning), and
the unit (systemd-analyze verify; security exposure under 3).

Installing and purging it needs a Debian system to spoil: set
SUBMITD_DEB_CHROOT to a debootstrapped Debian 12 root (with /proc mounted
and a working apt) and the last test installs it there with apt, checks
the user, folders and modes and `submitd -n`, and purges it.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
UNIT = os.path.join(ROOT, "debian", "submitd.service")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=900, **kw)


class Deb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build = tempfile.mkdtemp(prefix="submitd-deb-")
        r = run(["make", "--no-print-directory", "-C", ROOT, "deb",
                 "BUILD=" + cls.build])
        if r.returncode != 0:
            raise AssertionError("make deb failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        debs = [f for f in os.listdir(os.path.join(cls.build, "deb"))
                if re.fullmatch(r"submitd_[^_]+_[a-z0-9]+\.deb", f)]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.build, "deb", debs[0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.build, True)

    def test_contents(self):
        r = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = {}
        for line in r.stdout.splitlines():
            f = line.split()
            files[f[-1].lstrip(".").rstrip("/") or "/"] = (f[0], f[1])
        for path, mode in [("/usr/sbin/submitd", "-rwxr-xr-x"),
                           ("/usr/sbin/submitctl", "-rwxr-xr-x"),
                           ("/usr/share/man/man8/submitd.8.gz", "-rw-r--r--"),
                           ("/usr/share/man/man8/submitctl.8.gz", "-rw-r--r--"),
                           ("/usr/share/man/man5/submitd.conf.5.gz", "-rw-r--r--"),
                           ("/lib/systemd/system/submitd.service", "-rw-r--r--"),
                           ("/etc/submitd/submitd.conf.example", "-rw-r--r--"),
                           ("/etc/submitd/ovh.conf.example", "-rw-r--r--"),
                           ("/etc/submitd/users.example", "-rw-r--r--"),
                           ("/etc/submitd/upstream.secrets.example", "-rw-r--r--"),
                           ("/usr/share/doc/submitd/copyright", "-rw-r--r--")]:
            self.assertIn(path, files)
            self.assertEqual(files[path], (mode, "root/root"), path)
        # no real config (no daemon starts), and the admin's data is not
        # the package's (postinst makes it, purge removes it)
        for path in ("/etc/submitd/submitd.conf", "/var/spool/submitd",
                     "/var/lib/submitd", "/var/empty"):
            self.assertNotIn(path, files)
        self.assertFalse([p for p in files if not p.startswith(
            ("/usr/", "/etc/submitd", "/lib/systemd")) and p not in
            ("/", "/etc", "/lib", "/usr")], files)

    def test_metadata_and_maintainer_scripts(self):
        r = run(["dpkg-deb", "-f", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^Package: submitd$")
        self.assertRegex(r.stdout, r"(?m)^Section: mail$")
        dep = re.search(r"(?m)^Depends: (.*)$", r.stdout).group(1)
        for p in ("libtls26", "libevent-2.1-7", "libsodium23", "libseccomp2",
                  "liblmdb0", "adduser", "ca-certificates", "libcurl4"):
            self.assertIn(p, dep)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        self.assertEqual(run(["dpkg-deb", "-e", self.deb, d]).returncode, 0)
        with open(os.path.join(d, "postinst")) as f:
            post = f.read()
        self.assertIn("adduser --system", post)
        for want in ("root:_submitd 0750 /etc/submitd",
                     "_submitd:_submitd 0700 /var/spool/submitd",
                     "_submitd:_submitd 0700 /var/lib/submitd"):
            self.assertIn(want, post)
        with open(os.path.join(d, "postrm")) as f:
            postrm = f.read()
        self.assertRegex(postrm, r"purge\)\n\s*rm -rf /etc/submitd /var/spool/submitd "
                         r"/var/lib/submitd")
        self.assertIn("deluser", postrm)
        with open(os.path.join(d, "conffiles")) as f:
            self.assertEqual(sorted(f.read().split()),
                             ["/etc/submitd/ovh.conf.example",
                              "/etc/submitd/submitd.conf.example",
                              "/etc/submitd/upstream.secrets.example",
                              "/etc/submitd/users.example"])

    def test_lintian_clean(self):
        if shutil.which("lintian") is None:
            self.fail("lintian is not installed (debian/control lists it)")
        r = run(["lintian", "--no-tag-display-limit", self.deb])
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
        self.assertEqual(tags, [], r.stdout)

    @unittest.skipUnless(os.environ.get("SUBMITD_DEB_CHROOT"), "SUBMITD_DEB_CHROOT not set")
    def test_install_and_purge_in_chroot(self):
        R = os.environ["SUBMITD_DEB_CHROOT"]
        shutil.copy(self.deb, os.path.join(R, "tmp", "submitd.deb"))

        def ch(cmd):
            return run(["chroot", R, "/bin/sh", "-c",
                        "export DEBIAN_FRONTEND=noninteractive; " + cmd])
        r = ch("apt-get install -y -q /tmp/submitd.deb")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = ch("id -un _submitd; stat -c '%a %U:%G %n' /etc/submitd "
               "/var/spool/submitd /var/lib/submitd")
        self.assertEqual(r.stdout.split("\n")[:4],
                         ["_submitd", "750 root:_submitd /etc/submitd",
                          "700 _submitd:_submitd /var/spool/submitd",
                          "700 _submitd:_submitd /var/lib/submitd"])
        r = ch("submitd -n -f /etc/submitd/submitd.conf.example")
        self.assertEqual(r.returncode, 1)
        for what in ("/etc/submitd/tls/fullchain.pem", "/etc/submitd/users",
                     "/etc/submitd/upstream.secrets"):
            self.assertIn(what + ": No such file or directory", r.stderr)
        r = ch("apt-get purge -y -q submitd")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = ch("ls -d /etc/submitd /var/spool/submitd /var/lib/submitd; "
               "getent passwd _submitd; getent group _submitd")
        self.assertEqual(r.stdout, "")


class Unit(unittest.TestCase):
    def test_verify(self):
        r = run(["systemd-analyze", "verify", UNIT])
        # without the package installed, its programs and man pages are not
        # there: those complaints only
        other = [l for l in (r.stdout + r.stderr).splitlines() if l.strip() and not
                 re.search(r"is not executable: No such file|Command 'man .*' failed", l)]
        self.assertEqual(other, [])

    def test_hardening(self):
        with open(UNIT) as f:
            text = f.read()
        for want in ("Type=notify", "ExecStartPre=/usr/sbin/submitd -n",
                     "ExecStart=/usr/sbin/submitd -F", "Restart=on-failure",
                     "ProtectSystem=strict",
                     "ReadWritePaths=/var/spool/submitd /var/lib/submitd",
                     "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                     "NoNewPrivileges=yes",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                     "ConditionPathExists=/etc/submitd/submitd.conf"):
            self.assertIn("\n" + want + "\n", text)
        caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", text).group(1).split()
        self.assertEqual(sorted(caps), sorted([
            "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_SYS_CHROOT",
            "CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE"]))
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        shutil.copy(UNIT, d)
        r = run(["systemd-analyze", "security", "--offline=true", "submitd.service"],
                cwd=d)
        m = re.search(r"Overall exposure level for submitd.service: (\d+\.\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLess(float(m.group(1)), 3.0, r.stdout)
        with open(os.path.join(ROOT, "README.md")) as f:
            self.assertIn("exposure %s" % m.group(1), f.read())


if __name__ == "__main__":
    unittest.main()
