"""The relay client against a smarthost that misbehaves (issue 2, "Bad
input"): down, refusing TLS, a certificate for another name, refusing the
login, answering 4xx, dropping the line.  The message must stay queued, be
retried (retry-min 1s in the test config), never go out in plaintext, and be
delivered once the smarthost is fixed.  5xx per recipient: given up."""

import smtplib
import ssl
import time
import unittest

from harness import (PASSWORD, RCPT, UP_LOGIN, USER, SubmitdTest,
                     sample_message, wait_for)


class RelayFaults(SubmitdTest):
    UPSTREAM_MODE = "smtps"

    def submit(self, original=None, rcpts=(RCPT,)):
        original = original or sample_message(subject="relay fault")
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=30,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            self.assertEqual(s.sendmail(USER, list(rcpts), original), {})
        return original

    def assertQueued(self):
        self.assertTrue(self.spool_files() - self.spool_baseline,
                        "the message is not in the spool")

    def fault_then_fix(self, control, attempt_event, attempt_pred=None,
                       no_auth=False):
        self.smarthost.set_control(control)
        original = self.submit()
        # at least two attempts: the first and a retry
        self.smarthost.wait_event(attempt_event, n=2, pred=attempt_pred,
                                  timeout=30)
        self.assertEqual(self.smarthost.messages(), [])
        self.assertQueued()
        if no_auth:
            self.assertEqual(self.smarthost.events("auth"), [],
                             "submitd logged in to a server it must not trust")
            self.assertEqual(self.smarthost.events("mail"), [])
        self.smarthost.set_control({})
        msgs = self.smarthost.wait_messages(1, timeout=30)
        self.assertEqual(len(msgs), 1)
        self.assertDelivered(msgs[0], original)
        self.assertNoPlaintext()
        self.assertSpoolEmpty()
        time.sleep(2.5)            # past retry-max: no second copy
        self.assertEqual(len(self.smarthost.messages()), 1)

    def test_refusing_tls(self):
        self.fault_then_fix({"tls": "refuse"}, "sni", no_auth=True)

    def test_wrong_certificate_name(self):
        self.fault_then_fix({"tls": "wrongcert"}, "sni", no_auth=True)

    def test_sends_sni(self):
        self.submit()
        self.smarthost.wait_messages(1)
        names = [e["server_name"] for e in self.smarthost.events("sni")]
        self.assertIn("localhost", names)

    def test_refusing_login(self):
        self.fault_then_fix({"auth": "535 5.7.8 Authentication failed"},
                            "auth")
        ok = [e for e in self.smarthost.events("auth") if e["ok"]]
        self.assertEqual(ok[-1]["login"], UP_LOGIN)

    def test_mail_4xx(self):
        self.fault_then_fix({"mail": "451 4.3.0 try again later"}, "mail")

    def test_rcpt_4xx(self):
        self.fault_then_fix({"rcpt": "450 4.2.1 mailbox busy"}, "rcpt")

    def test_data_4xx(self):
        self.fault_then_fix({"data": "451 4.3.0 try later"}, "data")

    def test_drop_in_data(self):
        self.fault_then_fix({"drop_in_data": True}, "data")

    def user_messages(self):
        """What reached the smarthost, without bounces (DSNs, MAIL FROM:<>)."""
        return [m for m in self.smarthost.messages()
                if m["mail_from"] not in ("", "<>")]

    def test_rcpt_5xx_given_up_others_delivered(self):
        self.smarthost.set_control({"rcpt": {"bad@example.com":
                                             "550 5.1.1 No such user"}})
        original = self.submit(rcpts=(RCPT, "bad@example.com"))
        msgs = wait_for(self.user_messages, what="the message delivered")
        self.assertDelivered(msgs[0], original, rcpts=(RCPT,))
        self.assertSpoolEmpty()
        time.sleep(3)
        bad = [e for e in self.smarthost.events("rcpt")
               if e["rcpt"] == "bad@example.com"]
        self.assertEqual(len(bad), 1, "a 5xx recipient was retried")
        self.assertEqual(len(self.user_messages()), 1)

    def test_all_rcpts_5xx_message_removed(self):
        self.smarthost.set_control({"rcpt": {RCPT: "550 5.1.1 No such user"}})
        self.submit()
        self.smarthost.wait_event("rcpt", n=1)
        self.assertSpoolEmpty()
        time.sleep(3)
        self.assertEqual(len([e for e in self.smarthost.events("rcpt")
                              if e["rcpt"] == RCPT]), 1,
                         "a 5xx recipient was retried")
        self.assertEqual(self.user_messages(), [])


class RelayDown(SubmitdTest):
    START_SMARTHOST = False

    def test_smarthost_down_then_up(self):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        original = sample_message(subject="while down")
        with smtplib.SMTP("127.0.0.1", self.P1, timeout=30) as s:
            s.starttls(context=ctx)
            s.login(USER, PASSWORD)
            self.assertEqual(s.sendmail(USER, [RCPT], original), {})
        time.sleep(3)              # a few retries against a closed port
        self.assertTrue(self.spool_files() - self.spool_baseline,
                        "the message is not in the spool")
        self.smarthost.start()
        msgs = self.smarthost.wait_messages(1, timeout=30)
        self.assertEqual(len(msgs), 1)
        self.assertDelivered(msgs[0], original)
        self.assertSpoolEmpty()


class RelayStartTLS(RelayFaults):
    """The same faults against a smtp+tls:// (STARTTLS) upstream, plus
    STARTTLS itself refused: never a plaintext fallback."""
    UPSTREAM_MODE = "starttls"

    def test_plain_delivery(self):
        original = self.submit()
        msgs = self.smarthost.wait_messages(1)
        self.assertDelivered(msgs[0], original)
        self.assertNoPlaintext()

    def test_starttls_454(self):
        self.fault_then_fix({"starttls": "454 4.7.0 TLS not available"},
                            "starttls", no_auth=True)

    def test_starttls_close(self):
        self.fault_then_fix({"starttls": "close"}, "starttls", no_auth=True)


if __name__ == "__main__":
    unittest.main()
