"""A daemon started on a spool that already holds many messages indexes
them and delivers every one.  Regression: with a few hundred messages the
queue role sorts its index with qsort(), which asks the kernel for the
memory size (sysinfo): the queue's seccomp filter killed the role at start
(found by make bench's 100,000-message start-up scenario)."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, RCPT                  # noqa: E402

COUNT = 300
MAKE_SPOOL = os.path.join(harness.REPO, "tests", "tools", "make_spool.py")


@unittest.skipUnless(os.geteuid() == 0, "the spool belongs to _submitd: needs root")
class LargeSpool(harness.SubmitdTest):
    START_SUBMITD = False

    def test_start_on_a_full_spool_delivers_all(self):
        subprocess.run(["/usr/bin/python3", MAKE_SPOOL, self.spool, str(COUNT),
                        "_submitd", USER, RCPT], check=True, timeout=120)
        self.submitd.start()
        self.spool_baseline = set()
        msgs = self.smarthost.wait_messages(COUNT, timeout=90)
        self.assertEqual(len(msgs), COUNT)
        subjects = sorted(int(m["data"].split(b"Subject: spool ")[1].split(b"\r\n")[0])
                          for m in msgs)
        self.assertEqual(subjects, list(range(COUNT)), "each message once")
        self.assertTrue(self.submitd.alive())
        self.assertNotIn("role-died", self.submitd.log_text())
        self.assertSpoolEmpty(timeout=30)


if __name__ == "__main__":
    unittest.main()
