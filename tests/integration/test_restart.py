"""Issue 2, "A restart test": stop submitd with the smarthost down, start it
again with the smarthost up: the queued messages arrive, once each."""

import smtplib
import ssl
import time
import unittest

from harness import (PASSWORD, RCPT, USER, SubmitdTest, sample_message)


class Restart(SubmitdTest):
    START_SMARTHOST = False

    def test_queue_survives_restart(self):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        originals = []
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ctx)
            s.login(USER, PASSWORD)
            for i in range(3):
                o = sample_message(subject="restart %d" % i,
                                   to="r%d@example.com" % i)
                self.assertEqual(s.sendmail(USER, ["r%d@example.com" % i], o),
                                 {})
                originals.append(o)
        time.sleep(1.5)
        queued = self.spool_files() - self.spool_baseline
        self.assertTrue(queued, "nothing in the spool after 250")
        rc = self.submitd.stop()
        self.assertIn(rc, (0, -15), "exit status on SIGTERM")
        self.assertEqual(self.spool_files() - self.spool_baseline, queued,
                         "the spool changed on shutdown")
        self.smarthost.start()
        time.sleep(1)
        self.assertEqual(self.smarthost.messages(), [],
                         "delivered while submitd was down?")
        self.submitd.start()
        msgs = self.smarthost.wait_messages(3, timeout=30)
        time.sleep(2.5)
        msgs = self.smarthost.messages()
        self.assertEqual(len(msgs), 3, "each message once")
        by_rcpt = {m["rcpt_tos"][0]: m for m in msgs}
        for i, o in enumerate(originals):
            self.assertDelivered(by_rcpt["r%d@example.com" % i], o,
                                 rcpts=["r%d@example.com" % i])
        self.assertSpoolEmpty()
        self.assertNoPlaintext()

    def test_restart_with_empty_queue_sends_nothing(self):
        self.submitd.stop()
        self.smarthost.start()
        self.submitd.start()
        time.sleep(2)
        self.assertEqual(self.smarthost.messages(), [])

    def test_sigterm_during_session(self):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("DATA"), "354")
        c.send(sample_message(body=b"half a message\r\n"))
        rc = self.submitd.stop()
        self.assertIn(rc, (0, -15))
        c.close()
        # a leftover temporary file may stay until the next start cleans it;
        # nothing may ever be delivered from it
        self.smarthost.start()
        self.submitd.start()
        self.assertSpoolEmpty(timeout=10)
        time.sleep(2)
        self.assertEqual(self.smarthost.messages(), [])


if __name__ == "__main__":
    unittest.main()
