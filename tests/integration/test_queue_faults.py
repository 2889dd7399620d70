"""The queue when the smarthost misbehaves (issue 7): 4xx for a while
(retried at the expected times), 5xx for one recipient (a DSN, RFC 3464,
goes back to the sender; the others are delivered once), the line dropped
mid-DATA (retried, delivered once), and a DSN that fails itself (dropped
and logged, never bounced)."""

import email
import email.policy
import smtplib
import ssl
import time
import unittest

from harness import (PASSWORD, RCPT, USER, SubmitdTest, sample_message,
                     wait_for)

BAD = "bad@example.com"


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


class QueueFaults(SubmitdTest):

    def submit(self, rcpts=(RCPT,), subject="queue fault"):
        original = sample_message(subject=subject)
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            self.assertEqual(s.sendmail(USER, list(rcpts), original), {})
        return original

    def dsns(self):
        return [m for m in self.smarthost.messages() if m["mail_from"] in ("", "<>")]

    def normal(self):
        return [m for m in self.smarthost.messages() if m["mail_from"] not in ("", "<>")]

    def test_5xx_one_recipient_gets_dsn(self):
        self.smarthost.set_control({"rcpt": {BAD: "550 5.1.1 No such user"}})
        original = self.submit(rcpts=(RCPT, BAD, "dave@example.com"))
        wait_for(lambda: len(self.dsns()) >= 1, 20, what="a DSN")
        time.sleep(2.5)             # past retry-max: nothing more comes
        normal = self.normal()
        self.assertEqual(len(normal), 1, "the good recipients, once")
        self.assertEqual(sorted(normal[0]["rcpt_tos"]),
                         sorted([RCPT, "dave@example.com"]))
        dsns = self.dsns()
        self.assertEqual(len(dsns), 1)
        d = dsns[0]
        self.assertEqual(d["rcpt_tos"], [USER])
        msg = parse(d["data"])
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        self.assertIn("MAILER-DAEMON@relay.test", msg["From"])
        types = [p.get_content_type() for p in msg.iter_parts()]
        self.assertEqual(types, ["text/plain", "message/delivery-status",
                                 "text/rfc822-headers"])
        ds = [p for p in msg.iter_parts()
              if p.get_content_type() == "message/delivery-status"][0]
        blocks = ds.get_payload()
        self.assertEqual(blocks[0]["Reporting-MTA"], "dns; relay.test")
        self.assertTrue(blocks[0]["Arrival-Date"])
        rcpts = blocks[1:]
        self.assertEqual(len(rcpts), 1, "only the failed recipient")
        self.assertEqual(rcpts[0]["Final-Recipient"], "rfc822; " + BAD)
        self.assertEqual(rcpts[0]["Action"], "failed")
        self.assertEqual(rcpts[0]["Status"], "5.1.1")
        self.assertIn("550 5.1.1 No such user", rcpts[0]["Diagnostic-Code"])
        hdrs = [p for p in msg.iter_parts()
                if p.get_content_type() == "text/rfc822-headers"][0]
        self.assertIn(b"Subject: queue fault",
                      hdrs.get_payload(decode=True) or
                      hdrs.as_bytes())
        bad = [e for e in self.smarthost.events("rcpt") if e["rcpt"] == BAD]
        self.assertEqual(len(bad), 1, "a 5xx recipient was retried")
        self.assertSpoolEmpty()

    def test_4xx_retried_at_expected_times(self):
        self.smarthost.set_control({"rcpt": "451 4.3.0 later"})
        original = self.submit()
        t0 = time.time()
        ev = self.smarthost.wait_event("rcpt", n=3, timeout=30)
        times = [e["time"] for e in ev] if "time" in ev[0] else None
        self.assertEqual(self.normal(), [])
        self.smarthost.set_control({})
        msgs = self.smarthost.wait_messages(1, timeout=30)
        self.assertDelivered(msgs[0], original)
        # retry-min 1s, retry-max 2s: three attempts take 1..6 s
        self.assertLess(time.time() - t0, 15)
        if times:
            gaps = [b - a for a, b in zip(times, times[1:])]
            for g in gaps:
                self.assertGreater(g, 0.5)
                self.assertLess(g, 4)
        self.assertSpoolEmpty()
        time.sleep(2.5)
        self.assertEqual(len(self.smarthost.messages()), 1)
        self.assertEqual(self.dsns(), [])

    def test_drop_mid_data_retried_once(self):
        self.smarthost.set_control({"drop_in_data": True})
        original = self.submit()
        self.smarthost.wait_event("data", n=2, timeout=30)
        self.smarthost.set_control({})
        msgs = self.smarthost.wait_messages(1, timeout=30)
        self.assertDelivered(msgs[0], original)
        self.assertSpoolEmpty()
        time.sleep(2.5)
        self.assertEqual(len(self.smarthost.messages()), 1)

    def test_login_refused_after_working_is_an_alert(self):
        self.submit()
        self.smarthost.wait_messages(1)
        self.assertNotIn("event=alert", self.submitd.log_text())
        time.sleep(6)               # the idle upstream connection is closed
        self.smarthost.set_control({"auth": "535 5.7.8 Account locked"})
        self.submit()
        wait_for(lambda: "event=alert" in self.submitd.log_text(), 20,
                 what="an alert about the refused login")
        self.assertIn("may be locked", self.submitd.log_text())

    def test_failed_dsn_is_dropped_not_bounced(self):
        # every recipient fails, including the DSN's own (alice)
        self.smarthost.set_control({"rcpt": "550 5.1.1 No such user"})
        self.submit()
        wait_for(lambda: "event=double-bounce" in self.submitd.log_text(),
                 20, what="the failed DSN logged as a double bounce")
        self.assertSpoolEmpty()
        time.sleep(2)
        rcpts = [e["rcpt"] for e in self.smarthost.events("rcpt")]
        self.assertEqual(sorted(rcpts), sorted([RCPT, USER]),
                         "one try for the message, one for its DSN")


if __name__ == "__main__":
    unittest.main()
