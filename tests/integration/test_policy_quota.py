"""Send quotas (issue 5): N messages per window per user, counted when a
message is accepted, kept across a restart, free again after the window;
per-user overrides (messages=N/WINDOW); the recipients quota at RCPT; the
byte quota (bytes=SIZE/WINDOW) at MAIL, shown by submitctl show limits."""

import re
import subprocess
import time
import unittest

from harness import (SubmitdTest, SUBMITCTL, USER, USER2, PASSWORD2, SENDERS2,
                     RCPT)
from policy_util import login_from, mail, wait_seconds, write_users


class MessageQuota(SubmitdTest):
    EXTRA_CONF = ("limit messages 2 per 30s per user",)

    def test_quota_holds_across_restart_and_frees(self):
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        self.assertReply(mail(c), "250 2.0.0")
        r = mail(c)
        self.assertReply(r, "451 4.7.1")
        self.assertIn("Message quota reached (2 per 30s)", r.text)
        self.assertIn("UTC", r.text)
        self.assertIsNotNone(wait_seconds(r))
        c.cmd("QUIT")
        # kill -9 and a fresh start once the old roles let the ports go:
        # the counters were on disk (the window is 30 s so that a slow
        # restart under ASan and load stays inside it)
        self.submitd.kill9_restart()
        c, _ = login_from(self, "127.0.0.1")
        r = mail(c)
        self.assertReply(r, "451 4.7.1", "quota forgotten by a restart")
        time.sleep(wait_seconds(r) + 0.3)
        self.assertReply(mail(c), "250 2.0.0")
        self.assertReply(mail(c), "451 4.7.1")

    def test_refused_message_does_not_count(self):
        c, _ = login_from(self, "127.0.0.1")
        # a transaction that never reaches the 250 is not charged
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("RSET"), "250")
        self.assertReply(mail(c), "250 2.0.0")
        self.assertReply(mail(c), "250 2.0.0")
        self.assertReply(mail(c), "451 4.7.1")


class PerUserOverride(SubmitdTest):
    START_SUBMITD = False

    def setUp(self):
        super().setUp()
        write_users(self, bob_opts="messages=1/hour")
        self.submitd.start()

    def test_user_limit_overrides_default(self):
        c, _ = login_from(self, "127.0.0.1", user=USER2, password=PASSWORD2)
        self.assertReply(mail(c, frm=SENDERS2), "250 2.0.0")
        r = mail(c, frm=SENDERS2)
        self.assertReply(r, "451 4.7.1")
        self.assertIn("(1 per 1h)", r.text)
        # alice has no limit at all
        c, _ = login_from(self, "127.0.0.1")
        for _ in range(3):
            self.assertReply(mail(c), "250 2.0.0")


class RecipientQuota(SubmitdTest):
    EXTRA_CONF = ("limit recipients 3 per hour per user",)

    def test_rcpt_over_quota(self):
        c, _ = login_from(self, "127.0.0.1")
        rcpts = ["r%d@example.com" % i for i in range(4)]
        r = mail(c, rcpts=rcpts)
        self.assertReply(r, "452 4.7.1")
        self.assertIn("Recipient quota reached (3 per 1h)", r.text)
        self.assertReply(mail(c, rcpts=rcpts[:2]), "250 2.0.0")
        # two are used: one left
        r = mail(c, rcpts=rcpts[:2])
        self.assertReply(r, "452 4.7.1")
        self.assertReply(mail(c, rcpts=rcpts[:1]), "250 2.0.0")


class ByteQuota(SubmitdTest):
    START_SUBMITD = False
    EXTRA_CONF = ("limit bytes 1G per day per user",)

    def setUp(self):
        super().setUp()
        write_users(self, bob_opts="bytes=3K/10s")
        self.submitd.start()

    def limits(self, user):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock, "show",
                            "limits", user],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        return p.stdout

    def test_bytes_used_up_then_refused(self):
        c, _ = login_from(self, "127.0.0.1", user=USER2, password=PASSWORD2)
        # more than the whole budget, declared: never within a window
        r = c.cmd("MAIL FROM:<%s> SIZE=4000" % SENDERS2)
        self.assertReply(r, "452 4.7.1")
        self.assertIn("exceeds the byte quota left (3K of 3K per 10s)",
                      r.text)
        accepted = 0
        for _ in range(20):
            r = mail(c, frm=SENDERS2)
            if r.code != 250:
                break
            accepted += 1
        # the message that used the budget up was accepted, the next not
        self.assertGreaterEqual(accepted, 2)
        self.assertReply(r, "451 4.7.1")
        self.assertIn("Byte quota reached (3K per 10s)", r.text)
        self.assertIsNotNone(wait_seconds(r))
        out = self.limits(USER2)
        # used up, less what drained since (about 0.3 octets per ms)
        m = re.search(r"bytes: (\d+)/3072 per 10s \((\d+) left\)", out)
        self.assertIsNotNone(m, out)
        self.assertGreaterEqual(int(m.group(1)), 2900, out)
        self.assertLessEqual(int(m.group(2)), 172, out)
        # alice has the global default, untouched by bob's messages
        self.assertIn("bytes: 0/1073741824 per 86400s", self.limits(USER))
        # the budget frees as it drains
        time.sleep(wait_seconds(r) + 0.3)
        self.assertReply(mail(c, frm=SENDERS2), "250 2.0.0")


if __name__ == "__main__":
    unittest.main()
