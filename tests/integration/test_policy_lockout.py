"""Brute-force lockout (issue 5): after N failed logins from one address
(or for one login name) within the window, logins are refused with
454 4.7.0 and new connections from the address with 554 5.7.1, until the
window passes; each lockout is logged once."""

import re
import time
import unittest

from harness import SubmitdTest, USER, PASSWORD, USER2, PASSWORD2, wait_for
from policy_util import DELAYED, auth_after_delay, connect_from, login_from


class Lockout(SubmitdTest):
    """The hard lock alone (limit auth-delay off); the default, delays
    then the lock: DefaultDelayThenLock."""
    EXTRA_CONF = ("limit auth-failures 3 per 12s per ip",
                  "limit auth-delay off")

    def test_bad_passwords_then_locked_then_expires(self):
        c, _ = login_from(self, "127.0.0.2", password="wrong-1",
                          expect="535 5.7.8")
        self.assertReply(c.auth_plain(USER, "wrong-2"), "535 5.7.8")
        # the third failure in one session closes it (issue 13)
        self.assertReply(c.auth_plain(USER, "wrong-3"), "421 4.7.0")
        self.assertTrue(c.closed())
        # a new connection from that address: refused before TLS
        d = connect_from(self, "127.0.0.2")
        self.assertReply(d.reply(), "554 5.7.1")
        # the login name is locked from elsewhere too: the good password
        # no longer helps
        login_from(self, "127.0.0.3", expect="454 4.7.0")
        # other users from other addresses are fine
        login_from(self, "127.0.0.3", user=USER2, password=PASSWORD2)
        time.sleep(12.2)
        login_from(self, "127.0.0.2")
        log = self.submitd.log_text()
        lines = [l for l in log.splitlines() if "event=lockout" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("ip=127.0.0.2", lines[0])
        self.assertIn("user=\"%s\"" % USER, lines[0])
        self.assertIn("failures=3", lines[0])

    def test_failures_by_name_from_many_addresses(self):
        for i in range(3):
            login_from(self, "127.0.0.%d" % (10 + i), password="bad",
                       expect="535 5.7.8")
        login_from(self, "127.0.0.20", expect="454 4.7.0")
        lines = [l for l in self.submitd.log_text().splitlines()
                 if "event=lockout" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("scope=user", lines[0])

    def test_unknown_user_costs_the_same(self):
        def auth_time(src, user):
            c, _ = login_from(self, src, user=None, expect=None)
            t0 = time.monotonic()
            self.assertReply(c.auth_plain(user, "bad"), "535 5.7.8")
            return time.monotonic() - t0
        t_bad = min(auth_time("127.0.0.5", USER), auth_time("127.0.0.6", USER))
        t_unknown = min(auth_time("127.0.0.7", "nobody@example.org"),
                        auth_time("127.0.0.8", "nobody@example.org"))
        # both pay one Argon2id verification (tens of ms): no oracle
        self.assertGreater(t_unknown, t_bad * 0.5)
        self.assertLess(t_unknown, t_bad * 2 + 0.05)

class DefaultDelayThenLock(SubmitdTest):
    """The defaults (limit auth-failures 5 per 15m per ip, limit
    auth-delay 1s): a login guessed from one address waits 1, 2, 4 and 8
    s after its first four failures (a try meanwhile gets 454 4.7.0, is
    not verified and not counted, even with the right password), and the
    fifth failure locks the address and the login."""

    def test_delays_then_the_hard_lock(self):
        for i in range(4):
            c, _, _ = auth_after_delay(self, "127.0.0.2",
                                       password="wrong-%d" % i)
        # the fourth failure's delay is 8 s: the right password at once,
        # in the same session, is held back without a verification
        self.assertReply(c.auth_plain(USER, PASSWORD), DELAYED)
        c.close()
        # the fifth verified failure, once the 8 s ran out: the hard lock
        auth_after_delay(self, "127.0.0.2", password="wrong-4")
        wait_for(lambda: "event=lockout" in self.submitd.log_text(), 20,
                 what="the lockout")
        text = self.submitd.log_text()
        delays = re.findall(r"event=delay ip=127\.0\.0\.2 net=\S+ "
                            r"scope=login failures=(\d+) delay=(\S+)", text)
        self.assertEqual(delays, [("1", "1s"), ("2", "2s"), ("3", "4s"),
                                  ("4", "8s")])
        lines = [l for l in text.splitlines() if "event=lockout" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("ip=127.0.0.2 failures=5 scope=ip,user", lines[0])
        # the address: refused before TLS; the login from elsewhere (no
        # delay there): 454 4.7.0 with the right password; another login
        # from elsewhere: in
        self.assertReply(connect_from(self, "127.0.0.2").reply(),
                         "554 5.7.1")
        login_from(self, "127.0.0.3", expect=DELAYED)
        login_from(self, "127.0.0.3", user=USER2, password=PASSWORD2)
        self.assertNotIn("event=delay ip=127.0.0.3", self.submitd.log_text())


if __name__ == "__main__":
    unittest.main()
