"""Disk full (issue 7): the spool on a 2 MiB tmpfs.  When it fills, new
mail gets 452 4.3.1 (nothing half-written is left), what is already
queued is untouched and delivered, and once space returns new mail is
accepted again by itself.  Skipped when tmpfs cannot be mounted."""

import os
import smtplib
import ssl
import subprocess
import unittest

from harness import (PASSWORD, RCPT, USER, SubmitdTest, sample_message,
                     wait_for)


class QueueDiskFull(SubmitdTest):
    START_SUBMITD = False
    MESSAGE_SIZE = "4M"

    def setUp(self):
        super().setUp()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700",
                            "tmpfs", self.spool], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.decode())
        self.addCleanup(subprocess.run, ["umount", "-l", self.spool])
        self.submitd.start()
        self.spool_baseline = self.spool_files()

    def send(self, body):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            s.mail(USER)
            s.rcpt(RCPT)
            try:
                return s.data(sample_message(body=body))
            except smtplib.SMTPResponseException as e:
                # refused at DATA (before any octet) or after the dot
                return e.smtp_code, e.smtp_error

    def test_full_spool_452_then_recovers(self):
        # one message queued and held upstream (4xx) while the disk fills
        self.smarthost.set_control({"rcpt": "451 4.3.0 later"})
        code, _ = self.send(b"queued before the disk filled\r\n")
        self.assertEqual(code, 250)
        before = {f for f in self.spool_files() if f.endswith((".env", ".msg"))}
        self.assertEqual(len(before), 2)
        filler = os.path.join(self.spool, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"x" * 65536)
                    f.flush()
            except OSError:
                pass
        big = (b"y" * 998 + b"\r\n") * 200        # 200 KB
        code, text = self.send(big)
        self.assertEqual(code, 452, text)
        self.assertTrue(text.startswith(b"4.3.1"), text)
        # nothing half-written; the queued message untouched
        files = {f for f in self.spool_files()
                 if f.startswith("queue/") or f.startswith("corrupt/")}
        self.assertEqual({f for f in files if f.endswith(".tmp")}, set())
        self.assertTrue(before <= files)
        # space returns: accepted again, and everything is delivered
        os.unlink(filler)
        code, _ = self.send(b"after the disk had room again\r\n")
        self.assertEqual(code, 250)
        self.smarthost.set_control({})
        msgs = self.smarthost.wait_messages(2, timeout=30)
        self.assertEqual(len(msgs), 2)
        self.assertSpoolEmpty()


if __name__ == "__main__":
    unittest.main()
