"""The upstream's SIZE (issue 7, RFC 1870): once the smarthost's EHLO
named a SIZE smaller than `limit message-size`, a larger message is
refused at submission (552 5.3.4: at MAIL with SIZE=, and at the end of
DATA), not bounced later; smaller ones still go through."""

import smtplib
import ssl
import unittest

from harness import (PASSWORD, RCPT, USER, SubmitdTest, sample_message,
                     wait_for)

UPSTREAM_SIZE = 20000


class QueueUpstreamSize(SubmitdTest):
    MESSAGE_SIZE = "1M"

    def smtp(self):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        s = smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30, context=ctx)
        s.login(USER, PASSWORD)
        return s

    def test_larger_than_upstream_refused_at_submission(self):
        self.smarthost.set_control({"size": UPSTREAM_SIZE})
        with self.smtp() as s:          # the relay learns SIZE on delivery
            self.assertEqual(s.sendmail(USER, [RCPT], sample_message()), {})
        self.smarthost.wait_messages(1)
        wait_for(lambda: "event=upstream-size size=%d" % UPSTREAM_SIZE
                 in self.submitd.log_text(), 10, what="the size learned")
        with self.smtp() as s:
            ehlo = s.ehlo()[1].decode()
            self.assertIn("SIZE %d" % UPSTREAM_SIZE, ehlo)
            code, text = s.mail(USER, ["SIZE=%d" % (UPSTREAM_SIZE + 1)])
            self.assertEqual(code, 552, text)
            self.assertTrue(text.startswith(b"5.3.4"), text)
        big = sample_message(body=(b"z" * 998 + b"\r\n") * 30)
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPResponseException) as cm:
                s.sendmail(USER, [RCPT], big)
            self.assertEqual(cm.exception.smtp_code, 552)
        with self.smtp() as s:
            self.assertEqual(s.sendmail(USER, [RCPT], sample_message()), {})
        self.smarthost.wait_messages(2)
        self.assertSpoolEmpty()


if __name__ == "__main__":
    unittest.main()
