"""submitctl show limits / unlock (issue 5), through the control socket
(issue 7).  Skipped while the daemon has no control socket."""

import json
import os
import subprocess
import unittest

from harness import SubmitdTest, SUBMITCTL, USER, PASSWORD, wait_for
from policy_util import auth_after_delay, connect_from, login_from, mail


class Ctl(SubmitdTest):
    EXTRA_CONF = ("limit auth-failures 2 per hour per ip",
                  "limit messages 5 per hour per user")

    def setUp(self):
        super().setUp()
        sock = getattr(self, "control_sock", "")
        try:
            wait_for(lambda: os.path.exists(sock), 5, what="control socket")
        except Exception:
            self.skipTest("no control socket in this build")

    def ctl(self, *args):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock] + list(args),
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        return p.stdout

    def test_show_limits_and_unlock(self):
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        out = self.ctl("show", "limits", USER)
        self.assertIn("messages: 1/5", out)
        self.assertIn("4 left", out)
        data = json.loads(self.ctl("show", "limits", "--json"))
        me = [u for u in data["users"] if u["user"] == USER][0]
        self.assertEqual(me["messages"]["remaining"], 4)
        # lock 127.0.0.2 out, then lift it
        login_from(self, "127.0.0.2", password="bad", expect="535 5.7.8")
        # held back (454 4.7.0) until the first failure's delay ran out
        auth_after_delay(self, "127.0.0.2", password="bad")
        self.assertReply(connect_from(self, "127.0.0.2").reply(), "554 5.7.1")
        self.assertIn("lockout ip/127.0.0.2", self.ctl("show", "limits"))
        self.assertIn("lockout lifted", self.ctl("unlock", "127.0.0.2"))
        self.assertIn("lockout lifted", self.ctl("unlock", USER))
        login_from(self, "127.0.0.2")


if __name__ == "__main__":
    unittest.main()
