"""submitctl's queue commands over the control socket (issue 7): show
queue, show message, show stats, hold, release, flush, remove; text for
people and --json; the socket's mode and group; unknown commands."""

import grp
import json
import os
import pwd
import smtplib
import ssl
import stat
import subprocess
import time
import unittest

from harness import (PASSWORD, RCPT, SUBMITCTL, USER, SubmitdTest,
                     sample_message, wait_for)


class QueueControl(SubmitdTest):

    def setUp(self):
        super().setUp()
        wait_for(lambda: os.path.exists(self.control_sock), 10,
                 what="the control socket")

    def ctl(self, *args, ok=True):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock] + list(args),
                           capture_output=True, text=True, timeout=20)
        if ok:
            self.assertEqual(p.returncode, 0, "submitctl %s: %s%s"
                             % (" ".join(args), p.stdout, p.stderr))
        return p

    def jctl(self, *args):
        return json.loads(self.ctl(*args, "--json").stdout)

    def submit(self, rcpts=(RCPT,)):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            s.mail(USER)
            for r in rcpts:
                s.rcpt(r)
            code, text = s.data(sample_message(subject="control"))
            self.assertEqual(code, 250)
            return text.decode().split()[-1]      # "queued as ID"

    def test_socket_mode_and_group(self):
        st = os.stat(self.control_sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_uid, 0)
        self.assertEqual(st.st_gid, pwd.getpwnam("_submitd").pw_gid)

    def test_empty_queue(self):
        self.assertIn("queue is empty", self.ctl("show", "queue").stdout)
        j = self.jctl("show", "queue")
        self.assertEqual(j["total"], 0)
        self.assertEqual(j["messages"], [])
        s = self.jctl("show", "stats")
        self.assertEqual(s["messages"], 0)

    def test_unknown_command_and_id(self):
        p = self.ctl("frobnicate", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("unknown command", p.stderr)
        p = self.ctl("show", "message", "0000000000000000000", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such message", p.stderr)
        p = self.ctl("remove", "0000000000000000000", "--json", ok=False)
        self.assertIn("error", json.loads(p.stderr))

    def test_deferred_hold_release_flush_remove(self):
        self.smarthost.set_control({"rcpt": "451 4.3.0 try later"})
        qid = self.submit()
        self.smarthost.wait_event("rcpt", n=1)
        # deferred: listed with its last reply
        wait_for(lambda: any(m["id"] == qid and m["attempts"] >= 1 for m in
                             self.jctl("show", "queue")["messages"]),
                 10, what="the message deferred")
        text = self.ctl("show", "queue").stdout
        self.assertIn(qid, text)
        self.assertIn("451 4.3.0 try later", text)
        m = self.jctl("show", "message", qid)
        self.assertEqual(m["id"], qid)
        self.assertEqual(m["sender"], USER)
        self.assertEqual(m["recipients"][0]["address"], RCPT)
        self.assertEqual(m["recipients"][0]["state"], "pending")
        self.assertIn(RCPT, self.ctl("show", "message", qid).stdout)
        # hold (retry while it is being delivered)
        wait_for(lambda: self.ctl("hold", qid, ok=False).returncode == 0,
                 10, what="hold to succeed")
        self.assertEqual(self.jctl("show", "message", qid)["state"], "held")
        with open(os.path.join(self.spool, "queue", qid + ".env")) as f:
            self.assertIn("hold: yes", f.read())
        n = len(self.smarthost.events("rcpt"))
        time.sleep(3)                  # retry-max 2s: it would have gone
        self.assertEqual(len(self.smarthost.events("rcpt")), n,
                         "a held message was tried")
        self.assertEqual(self.jctl("show", "stats")["held"], 1)
        p = self.ctl("flush", qid, ok=False)
        self.assertEqual(p.returncode, 1, "flush of a held message")
        # release: tried again at once, fails again (4xx)
        self.assertIn("released", self.ctl("release", qid).stdout)
        self.smarthost.wait_event("rcpt", n=n + 1, timeout=10)
        # flush all: another try now
        wait_for(lambda: self.jctl("show", "message", qid)["state"] !=
                 "sending", 10, what="the attempt to end")
        n = len(self.smarthost.events("rcpt"))
        self.assertGreaterEqual(self.jctl("flush")["flushed"], 0)
        self.smarthost.wait_event("rcpt", n=n + 1, timeout=10)
        # remove
        wait_for(lambda: self.ctl("remove", qid, ok=False).returncode == 0,
                 10, what="remove to succeed")
        self.assertEqual(self.jctl("show", "queue")["total"], 0)
        self.assertSpoolEmpty()
        self.assertEqual(self.jctl("show", "stats")["removed"], 1)
        self.assertEqual(self.smarthost.messages(), [])

    def test_flush_one_sends_now(self):
        self.smarthost.set_control({"rcpt": "451 4.3.0 try later"})
        qid = self.submit()
        self.smarthost.wait_event("rcpt", n=1)
        self.smarthost.set_control({})
        wait_for(lambda: self.ctl("flush", qid, ok=False).returncode == 0 or
                 not self.jctl("show", "queue")["total"], 10,
                 what="flush to succeed")
        self.smarthost.wait_messages(1, timeout=10)
        self.assertSpoolEmpty()
        s = self.jctl("show", "stats")
        self.assertEqual(s["delivered"], 1)

    def test_auth_commands_reach_the_auth_role(self):
        p = self.ctl("show", "limits", ok=False)
        self.assertIn(p.returncode, (0, 1))
        self.assertNotIn("unknown command", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
