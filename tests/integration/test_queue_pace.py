"""Outbound pacing (issue 7): with `relay limit messages 5 per 2s`, 20
queued messages leave at that pace (never more than 5 in any 2 s window
at the smarthost), none refused, none lost, none twice."""

import json
import smtplib
import ssl
import subprocess
import time
import unittest

from harness import (PASSWORD, RCPT, SUBMITCTL, USER, SubmitdTest,
                     sample_message)

N, PER, WINDOW = 20, 5, 2.0


class QueuePace(SubmitdTest):
    EXTRA_CONF = ("relay limit messages %d per %ds" % (PER, WINDOW),)

    def test_twenty_messages_at_the_limit(self):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            for i in range(N):
                self.assertEqual(s.sendmail(USER, [RCPT], sample_message(
                    subject="pace %d" % i)), {})
        # show queue says why they wait
        seen = None
        deadline = time.time() + 5
        while seen is None and time.time() < deadline:
            p = subprocess.run([SUBMITCTL, "-s", self.control_sock, "show",
                                "queue", "--json"], capture_output=True,
                               text=True, timeout=10)
            for m in json.loads(p.stdout or "{}").get("messages", []):
                if m["state"] == "paced":
                    seen = m
            time.sleep(0.1)
        self.assertIsNotNone(seen, "no message shown as paced")
        self.assertIn("relay limit messages", seen["reason"])
        msgs = self.smarthost.wait_messages(N, timeout=60)
        time.sleep(WINDOW)
        msgs = self.smarthost.messages()
        self.assertEqual(len(msgs), N, "lost or duplicated")
        subjects = sorted(m["data"].split(b"Subject: ")[1].split(b"\r\n")[0]
                          for m in msgs)
        self.assertEqual(len(set(subjects)), N)
        times = sorted(e["time"] for e in self.smarthost.events("mail"))
        self.assertEqual(len(times), N)
        # sliding window: no more than PER starts in any WINDOW seconds
        # (a little slack for the clocks of two processes)
        for i in range(len(times) - PER):
            self.assertGreaterEqual(times[i + PER] - times[i], WINDOW - 0.1,
                                    "faster than %d per %ss" % (PER, WINDOW))
        # and it did not crawl: about N / PER windows
        self.assertLess(times[-1] - times[0], (N / PER) * WINDOW + 3)
        self.assertSpoolEmpty()


if __name__ == "__main__":
    unittest.main()
