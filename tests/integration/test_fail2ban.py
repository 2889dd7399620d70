"""The fail2ban filter and jail in contrib/fail2ban (issue 15 section 2):
Debian's fail2ban-regex, run over the log of a real submitd that saw known
failures, matches exactly the failing addresses, as many times as they
failed: no successful login, no line of another role, no address that a
client wrote into its login; IPv6 included.  Both the -d (standard error)
form and the syslog form (a real rsyslogd, on a socket bound over /dev/log
in a mount namespace of submitd's own) are read."""

import collections
import os
import shutil
import subprocess
import unittest

import harness
from harness import SubmitdTest, USER, PASSWORD, have_ipv6, wait_for
from policy_util import auth_after_delay, connect_from, login_from, mail

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILTER = os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "submitd.conf")
JAIL = os.path.join(ROOT, "contrib", "fail2ban", "jail.d", "submitd.conf")
F2B_REGEX = shutil.which("fail2ban-regex")

# In a private mount namespace: a /dev of the few nodes submitd opens, with
# DEV/log the syslog socket of the test's rsyslogd; then submitd -F (syslog)
# in place of -d.
NS_SCRIPT = r"""
set -e
sock=$1; dev=$2; shift 2
mount -t tmpfs -o mode=755 none "$dev"
for n in null zero full random urandom tty; do
    [ -e /dev/$n ] || continue
    touch "$dev/$n"; mount --bind /dev/$n "$dev/$n"
done
touch "$dev/log"; mount --bind "$sock" "$dev/log"
mount --rbind "$dev" /dev
for a do shift; [ "$a" = -d ] && a=-F; set -- "$@" "$a"; done
exec "$@"
"""

RSYSLOG_CONF = """
global(workDirectory="{d}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" CreatePath="on")
mail.*  action(type="omfile" file="{log}" template="RSYSLOG_TraditionalFileFormat")
"""

FORGED = "mallory ip=127.0.0.9"


def regex_ips(logfile):
    """fail2ban-regex over LOGFILE with the shipped filter: address -> count."""
    p = subprocess.run([F2B_REGEX, "-o", "ip", logfile, FILTER],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("fail2ban-regex: %s%s" % (p.stdout, p.stderr))
    return collections.Counter(l.strip() for l in p.stdout.splitlines()
                               if l.strip())


@unittest.skipUnless(F2B_REGEX, "fail2ban-regex (Debian fail2ban) missing")
class Fail2ban(SubmitdTest):
    EXTRA_CONF = ("limit auth-failures 50 per hour per ip",
                  "allow from 127.0.0.0/29", "allow from ::1/128")

    def provoke(self):
        """The known failures; returns the matches expected."""
        want = collections.Counter()
        # one failure per connection (the third in a session closes it);
        # after each, limit auth-delay (on by default) holds the next try
        # from the address back with 454 4.7.0 (logged result=locked, no
        # verification): not a failure, the filter passes over them
        for i in range(3):
            auth_after_delay(self, "127.0.0.2", password="wrong-%d" % i)
        want["127.0.0.2"] += 3
        for login in (FORGED, "nobody@example.org"):
            auth_after_delay(self, "127.0.0.3", user=login, password="x")
        want["127.0.0.3"] += 2
        for _ in range(2):      # successful logins, and a message
            c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        self.smarthost.wait_messages(1, timeout=30)
        for _ in range(2):      # refused by the allowlist
            d = connect_from(self, "127.0.0.10")
            self.assertReply(d.reply(), "554 5.7.1")
        want["127.0.0.10"] += 2
        if self.P3:
            d = connect_from(self, "::1", port=self.P3, host="::1")
            self.assertReply(d.reply(), "220 ")
            self.assertReply(d.ehlo(), "250")
            d.starttls()
            self.assertReply(d.ehlo(), "250")
            # the login first: a failure holds the address back a second
            self.assertReply(d.auth_plain(USER, PASSWORD), "235 2.7.0")
            d = connect_from(self, "::1", port=self.P3, host="::1")
            self.assertReply(d.reply(), "220 ")
            self.assertReply(d.ehlo(), "250")
            d.starttls()
            self.assertReply(d.ehlo(), "250")
            self.assertReply(d.auth_plain(USER, "bad"), "535 5.7.8")
            want["::1"] += 1
        return want

    def settle(self, read_log, want):
        n = sum(want.values())
        wait_for(lambda: read_log().count("event=auth result=fail") +
                 read_log().count("reason=allowlist") >= n and
                 "event=relay" in read_log(), 30, what="the lines logged")

    def check(self, logfile, want):
        got = regex_ips(logfile)
        self.assertEqual(got, want)
        self.assertNotIn("127.0.0.9", got)
        self.assertNotIn("127.0.0.1", got)

    def test_stderr_log(self):
        want = self.provoke()
        self.settle(self.submitd.log_text, want)
        text = self.submitd.log_text()
        # the lines the filter must pass over are there
        self.assertIn("event=auth result=ok", text)
        self.assertIn('user="%s"' % FORGED, text)
        self.check(self.submitd.log, want)

    @unittest.skipUnless(shutil.which("rsyslogd") and os.geteuid() == 0 and
                         shutil.which("unshare"),
                         "needs root, unshare and rsyslogd")
    def test_syslog(self):
        # a container or chroot may refuse a private mount namespace
        probe = subprocess.run(["unshare", "-m", "--propagation", "private",
                                "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("unshare -m refused here (%s): the syslog form "
                          "is not tested" % probe.stderr.strip())
        self.submitd.stop()
        sock = os.path.join(self.dir, "syslog.sock")
        log = os.path.join(self.dir, "mail.log")
        conf = os.path.join(self.dir, "rsyslog.conf")
        harness.write_file(conf, RSYSLOG_CONF.format(d=self.dir, sock=sock,
                                                     log=log))
        rs = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i",
                               os.path.join(self.dir, "rsyslog.pid")],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.dir,
                                                       "rsyslog.err"), "w"))

        def stop_rs():
            rs.terminate()
            try:
                rs.wait(10)
            except subprocess.TimeoutExpired:
                rs.kill()
                rs.wait()
        self.addCleanup(stop_rs)
        wait_for(lambda: os.path.exists(sock), 20, what="rsyslogd's socket")
        dev = os.path.join(self.dir, "dev")
        os.mkdir(dev)
        script = os.path.join(self.dir, "ns.sh")
        harness.write_file(script, NS_SCRIPT)
        saved = harness.WRAPPER
        harness.WRAPPER = ["unshare", "-m", "--propagation", "private",
                           "/bin/sh", script, sock, dev] + saved
        self.submitd.wait_ready = False     # event=ready goes to syslog
        try:
            self.submitd.start()
        finally:
            harness.WRAPPER = saved

        def stop_submitd():     # before rsyslogd (cleanups run last first)
            rc = self.submitd.stop()
            self.assertIn(rc, (0, -15), "submitd's exit status")
        self.addCleanup(stop_submitd)

        def read_log():
            try:
                with open(log, errors="replace") as f:
                    return f.read()
            except OSError:
                return ""
        wait_for(lambda: "event=started" in read_log(), 20,
                 what="submitd's first line in syslog")
        want = self.provoke()
        self.settle(read_log, want)
        self.assertIn("submitd[", read_log())
        self.check(log, want)

    def test_jail(self):
        import configparser
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(JAIL)
        self.assertEqual(cp["submitd"]["filter"], "submitd")
        self.assertEqual(cp["submitd"]["enabled"], "true")
        self.assertIn("submission", cp["submitd"]["port"])
        self.assertTrue(int(cp["submitd"]["maxretry"]) > 0)


if __name__ == "__main__":
    unittest.main()
