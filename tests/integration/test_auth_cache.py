"""The auth role remembers a successful Argon2id check for a few minutes
(auth/auth_cache.h): the same login and password pass again without it,
while a wrong password after a good one still fails (and still counts
toward the lockout), and a good one is still accepted after that.

Identical logins in flight share one verification (issue 18): N sessions
sending the same AUTH at once cost one Argon2id when the password is
right (the followers of the first, then the cache), and each is still
answered, counted and locked out as if verified alone."""
import os
import sys
import threading
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, PASSWORD, free_port, wait_for   # noqa: E402


class AuthCache(harness.SubmitdTest):

    def login(self, password):
        c = self.session(user=None)
        return c.auth_plain(USER, password)

    def test_wrong_password_after_a_good_one_fails(self):
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        r = self.login(PASSWORD + "x")
        self.assertReply(r, "535 5.7.8")
        r = self.login(PASSWORD[:-1])
        self.assertReply(r, "535 5.7.8")
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        r = self.login("")
        self.assertNotEqual(r.code, 235)

    def test_other_user_with_the_same_password_is_not_let_in(self):
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        c = self.session(user=None)
        self.assertReply(c.auth_plain(harness.USER2, PASSWORD), "535 5.7.8")


class AuthShared(harness.SubmitdTest):
    """N logins sent together, while the first is still being verified."""

    N = 20

    def setUp(self):
        self.MPORT = free_port()
        # every failure counts: the lockout starts at the Nth, not before;
        # no progressive delay (a straggler would get 454 instead of 535)
        self.EXTRA_CONF = (
            "metrics listen on 127.0.0.1 port %d" % self.MPORT,
            "limit sessions 100 per ip",
            "limit auth-failures %d per 15m per ip" % self.N,
            "limit auth-delay off")
        super().setUp()
        wait_for(lambda: harness.port_open("127.0.0.1", self.MPORT), 20,
                 what="the metrics listener")

    def metric(self, name):
        url = "http://127.0.0.1:%d/metrics" % self.MPORT
        with urllib.request.urlopen(url, timeout=30) as r:
            text = r.read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[-1]))
        raise AssertionError("no sample %s in:\n%s" % (name, text))

    def logins_at_once(self, user, password):
        """N sessions ready for AUTH, then N AUTH lines at once."""
        clients = [self.session(user=None) for _ in range(self.N)]
        self.assertEqual(self.metric("submitd_auth_verifications_total"), 0)
        go = threading.Barrier(self.N)
        replies = [None] * self.N

        def login(i):
            clients[i].sock.settimeout(300)    # N Argon2id under load
            go.wait()
            try:
                replies[i] = clients[i].auth_plain(user, password)
            except Exception as e:          # reported below
                replies[i] = e
        threads = [threading.Thread(target=login, args=(i,))
                   for i in range(self.N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(400)
        return [r.text if isinstance(r, harness.Reply) else repr(r)
                for r in replies]

    def lockouts(self):
        return [l for l in self.submitd.log_text().splitlines()
                if "event=lockout " in l]

    def test_right_password_one_verification(self):
        replies = self.logins_at_once(USER, PASSWORD)
        self.assertEqual([r[:9] for r in replies], ["235 2.7.0"] * self.N,
                         replies)
        # the first is verified; every other one either waited on it or
        # came after its result and found the login cache
        self.assertEqual(self.metric("submitd_auth_verifications_total"), 1)
        self.assertEqual(self.metric('submitd_auth_total{result="ok"}'),
                         self.N)

    def test_wrong_password_each_failure_counted(self):
        replies = self.logins_at_once(USER, PASSWORD + "x")
        self.assertEqual([r[:9] for r in replies], ["535 5.7.8"] * self.N,
                         replies)
        self.assertEqual(
            self.metric('submitd_auth_total{result="bad-password"}'), self.N)
        # failures are not cached: a login after a result is verified
        # again; at most one verification each, as before the sharing
        v = self.metric("submitd_auth_verifications_total")
        self.assertTrue(1 <= v <= self.N, v)
        # each follower's failure counted: the lockout starts at the Nth
        wait_for(lambda: self.lockouts(), 30, what="the lockout")
        lines = self.lockouts()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("failures=%d " % self.N, lines[0])
        self.assertIn("scope=ip,user", lines[0])
        self.assertEqual(self.metric("submitd_lockouts_total"), 1)
        c = self.connect()
        self.assertReply(c.reply(), "554 5.7.1")

    def test_unknown_user_shares_alike(self):
        replies = self.logins_at_once("nobody@example.org", PASSWORD)
        self.assertEqual([r[:9] for r in replies], ["535 5.7.8"] * self.N,
                         replies)
        self.assertEqual(
            self.metric('submitd_auth_total{result="unknown-user"}'), self.N)
        v = self.metric("submitd_auth_verifications_total")
        self.assertTrue(1 <= v <= self.N, v)
        wait_for(lambda: self.lockouts(), 30, what="the lockout")
        self.assertIn("failures=%d " % self.N, self.lockouts()[0])


if __name__ == "__main__":
    unittest.main()
