"""Group commit and signing off the queue's loop (issue 18 items 1 and 4).

submitd runs with SUBMITD_TEST_HOLD=1 (queue/queue_commit.c): a sync
round then waits before its renames while the file sync.hold exists at
the spool's top, and a DKIM signature waits while sign.hold does.

- GroupCommit: with sync.hold present, several clients end DATA; every
  message's envelope is written (ID.env.tmp) and none is answered: no 250
  before its round.  Released, all get 250 and show stats counts fewer
  sync rounds than messages (at most two: the held one and the rest).
- SignOffLoop: with sign.hold present, alice's message (example.org has
  an rsa key) waits for its signature; meanwhile the queue still answers
  submitctl and commits bob's message (example.com has no key): the loop
  is not the one signing.  Released, alice's message leaves signed.

No timing is asserted: a hold lasts until the test lifts it."""

import glob
import json
import os
import re
import smtplib
import ssl
import subprocess
import threading
import unittest

from harness import (PASSWORD, PASSWORD2, RCPT, SUBMITCTL, USER, USER2,
                     SubmitdTest, sample_message, wait_for)

CLIENTS = 6


class HeldTest(SubmitdTest):

    def setUp(self):
        os.environ["SUBMITD_TEST_HOLD"] = "1"
        self.addCleanup(os.environ.pop, "SUBMITD_TEST_HOLD", None)
        super().setUp()
        wait_for(lambda: os.path.exists(self.control_sock), 10,
                 what="the control socket")

    def hold(self, name):
        path = os.path.join(self.spool, name)
        with open(path, "w"):
            pass
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def stats(self):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock, "show",
                            "stats", "--json"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return json.loads(p.stdout)

    def queue_files(self, pattern):
        return glob.glob(os.path.join(self.spool, "queue", pattern))

    def submitter(self, results, key, user=USER, password=PASSWORD):
        """A thread that sends one message and records its reply."""
        def run():
            ctx = ssl.create_default_context(cafile=self.certs["ca"])
            try:
                with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=120,
                                      context=ctx) as s:
                    s.login(user, password)
                    s.mail(user)
                    s.rcpt(RCPT)
                    results[key] = s.data(sample_message(
                        frm=user, subject="held %s" % key))
            except (OSError, smtplib.SMTPException) as e:
                results[key] = e
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, 130)
        return t


class GroupCommit(HeldTest):

    def test_no_reply_before_its_round_and_rounds_are_shared(self):
        before = self.stats()
        hold = self.hold("sync.hold")
        results = {}
        threads = [self.submitter(results, i) for i in range(CLIENTS)]
        # every message written and waiting for a round (the first round
        # held, the others waiting for it to end)
        wait_for(lambda: len(self.queue_files("*.env.tmp")) == CLIENTS, 120,
                 what="%d envelopes written, waiting for their round"
                 % CLIENTS)
        wait_for(lambda: "event=test-hold what=sync" in
                 self.submitd.log_text(), 30, what="the round held")
        self.assertEqual(results, {}, "a reply came before its sync round")
        # ID.env is the commit: the queue's copies (ID.msg) are written,
        # none is committed
        self.assertEqual(self.queue_files("*.env"), [])
        self.assertEqual(len(self.queue_files("*.msg")), CLIENTS)
        os.unlink(hold)
        for t in threads:
            t.join(120)
        self.assertEqual(len(results), CLIENTS)
        for key, r in results.items():
            self.assertIsInstance(r, tuple, "client %s: %r" % (key, r))
            self.assertEqual(r[0], 250, "client %s: %r" % (key, r))
        self.assertEqual(self.queue_files("*.tmp"), [])
        after = self.stats()
        msgs = after["sync_messages"] - before["sync_messages"]
        rounds = after["sync_rounds"] - before["sync_rounds"]
        self.assertEqual(msgs, CLIENTS)
        self.assertLessEqual(rounds, 2, after)
        self.assertLess(rounds, msgs, after)
        self.smarthost.wait_messages(CLIENTS, timeout=60)
        self.assertSpoolEmpty(60)


class SignOffLoop(HeldTest):

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.keydir = tempfile.mkdtemp(prefix="submitd-groupcommit-")
        key = os.path.join(cls.keydir, "example.org.rsa.key")
        subprocess.run([SUBMITCTL, "dkim", "keygen", "-a", "rsa", "-d",
                        "example.org", "-s", "s1", "-o", key], check=True,
                       capture_output=True, timeout=120)
        cls.EXTRA_CONF = ('dkim domain example.org selector s1 rsa key "%s"'
                          % key,)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.keydir, True)

    def test_queue_commits_while_a_signature_waits(self):
        hold = self.hold("sign.hold")
        results = {}
        alice = self.submitter(results, "alice")
        wait_for(lambda: "event=test-hold what=sign" in
                 self.submitd.log_text(), 120, what="alice's signature held")
        # the queue's loop answers the control socket, and commits bob's
        # message (no key for example.com: no signature to wait for)
        self.assertEqual(self.stats()["messages"], 0)
        bob = self.submitter(results, "bob", USER2, PASSWORD2)
        bob.join(120)
        self.assertIn("bob", results)
        self.assertEqual(results["bob"][0], 250, results)
        self.assertNotIn("alice", results, "alice's 250 before her signature")
        os.unlink(hold)
        alice.join(120)
        self.assertEqual(results["alice"][0], 250, results)
        got = self.smarthost.wait_messages(2, timeout=60)
        signed = [m["data"] for m in got if re.search(
            rb"(?mi)^DKIM-Signature:", m["data"])]
        self.assertEqual(len(signed), 1, [m["data"][:300] for m in got])
        self.assertIn(b"held alice", signed[0])
        self.assertIn(b"d=example.org", signed[0])


if __name__ == "__main__":
    unittest.main()
