"""Issue 14 section 1b, queue control for the bad day: hold, release and
remove ALL, by sender or by user; pause relay / resume relay (nothing
leaves, clients are still served; it lasts across a restart)."""

import os
import smtplib
import ssl
import subprocess
import time

import harness
from harness import (SubmitdTest, SUBMITCTL, USER, PASSWORD, USER2, PASSWORD2,
                     RCPT, sample_message, wait_for)


class QueueBulk(SubmitdTest):

    def setUp(self):
        super().setUp()
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", ok=None).returncode == 0, 20,
                 what="the control socket")

    def ctl(self, *args, ok=True):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(p.returncode, 0, "submitctl %s: %s%s"
                             % (" ".join(args), p.stdout, p.stderr))
        return p

    def submit(self, user, password, subject):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.ehlo("client.test")
            s.starttls(context=ctx)
            s.ehlo("client.test")
            s.login(user, password)
            s.sendmail(user, [RCPT], sample_message(frm=user, subject=subject))

    def queued(self):
        return len([f for f in self.spool_files() if f.endswith(".env")
                    or f.endswith(".envelope")]) or \
            self.ctl("show", "queue").stdout.count("<")

    def test_pause_hold_release_remove(self):
        r = self.ctl("pause", "relay")
        self.assertIn("paused", r.stdout)
        self.submit(USER, PASSWORD, "a1")
        self.submit(USER, PASSWORD, "a2")
        self.submit(USER2, PASSWORD2, "b1")
        wait_for(lambda: self.ctl("show", "queue").stdout.count("<") == 3,
                 what="three messages queued")
        time.sleep(1.5)
        self.assertEqual(self.smarthost.messages(), [], "paused, yet sent")
        self.assertIn("1 message held",
                      self.ctl("hold", "sender", USER2).stdout)
        self.assertIn("2 messages held", self.ctl("hold", "ALL").stdout)
        self.assertIn("2 messages released",
                      self.ctl("release", "user", USER).stdout)
        self.assertIn("1 message removed",
                      self.ctl("remove", "sender", USER2).stdout)
        self.assertEqual(self.ctl("show", "queue").stdout.count("<"), 2)
        # ISO 8601 times in text, epoch in JSON
        import json
        import re
        qid = json.loads(self.ctl("show", "queue", "--json").stdout)[
            "messages"][0]["id"]
        text = self.ctl("show", "message", qid).stdout
        self.assertRegex(text, r"created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        j = json.loads(self.ctl("show", "message", qid, "--json").stdout)
        self.assertIsInstance(j["created"], int)
        # bad forms
        self.assertEqual(self.ctl("hold", "sender", ok=False).returncode, 1)
        # the pause lasts across a restart
        self.submitd.stop()
        self.submitd.start()
        wait_for(lambda: self.ctl("show", "queue", ok=None).returncode == 0,
                 20, what="the control socket")
        time.sleep(1.5)
        self.assertEqual(self.smarthost.messages(), [], "paused, yet sent")
        self.assertIn("resumed", self.ctl("resume", "relay").stdout)
        msgs = self.smarthost.wait_messages(2)
        self.assertEqual(len(msgs), 2)
        wait_for(lambda: self.ctl("show", "queue").stdout.count("<") == 0,
                 what="the queue to empty")

    def test_remove_all(self):
        self.ctl("pause", "relay")
        self.submit(USER, PASSWORD, "x1")
        self.submit(USER2, PASSWORD2, "x2")
        wait_for(lambda: self.ctl("show", "queue").stdout.count("<") == 2,
                 what="two messages queued")
        self.assertIn("2 messages removed", self.ctl("remove", "ALL").stdout)
        self.ctl("resume", "relay")
        time.sleep(1.5)
        self.assertEqual(self.smarthost.messages(), [])
