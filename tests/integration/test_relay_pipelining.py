"""Issue 18 item 5, the relay keeps up: several upstream connections per
upstream login, at most `relay limit sessions`, each reused for several
messages (RSET between); PIPELINING (RFC 2920) when the smarthost offers
it, MAIL, the RCPTs and DATA in one group with the replies matched in
order, the outcome still exact per recipient; unpipelined when it does not
offer it.  The stand-in smarthost records how many connections were open
at each connect ("open") and whether MAIL came with more commands behind
it ("piped")."""

import os
import smtplib
import ssl
import subprocess

from harness import (PASSWORD, RCPT, SUBMITCTL, USER, SubmitdTest,
                     sample_message, wait_for)

N, SESSIONS = 12, 3
BAD, LATER = "bad@example.com", "later@example.com"


class _Base(SubmitdTest):
    PIPELINING = True
    EXTRA_CONF = ("relay limit sessions %d" % SESSIONS,)

    def setUp(self):
        super().setUp()
        self.smarthost.set_control(self.control())
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", ok=None).returncode == 0, 20,
                 what="the control socket")

    def control(self, **kw):
        c = {"pipelining": True} if self.PIPELINING else {}
        c.update(kw)
        return c

    def ctl(self, *args, ok=True):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(p.returncode, 0, "submitctl %s: %s%s"
                             % (" ".join(args), p.stdout, p.stderr))
        return p

    def submit_many(self, n, rcpts=(RCPT,)):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        sent = []
        with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=60,
                              context=ctx) as s:
            s.login(USER, PASSWORD)
            for i in range(n):
                m = sample_message(subject="keep up %d" % i)
                self.assertEqual(s.sendmail(USER, list(rcpts), m), {})
                sent.append(m)
        return sent

    @staticmethod
    def subject(data):
        return data.split(b"\r\nSubject: ")[1].split(b"\r\n")[0]

    def user_messages(self):
        return [m for m in self.smarthost.messages()
                if m["mail_from"] not in ("", "<>")]

    def bounces(self):
        return [m for m in self.smarthost.messages()
                if m["mail_from"] in ("", "<>")]

    def many_over_several_sessions(self):
        """N messages queued while the relay is paused, then let go: they
        leave over more than one and at most SESSIONS connections, each
        once, and (N > SESSIONS) at least one connection carries several."""
        self.assertIn("paused", self.ctl("pause", "relay").stdout)
        sent = self.submit_many(N)
        wait_for(lambda: self.ctl("show", "queue").stdout.count("<") >= N,
                 what="%d messages queued" % N)
        self.assertEqual(self.smarthost.messages(), [], "paused, yet sent")
        self.ctl("resume", "relay")
        msgs = self.smarthost.wait_messages(N, timeout=90)
        self.assertEqual(len(msgs), N, "lost or duplicated")
        by_subject = {self.subject(m["data"]): m for m in msgs}
        self.assertEqual(len(by_subject), N, "one delivered twice")
        for original in sent:
            self.assertDelivered(by_subject[self.subject(original)],
                                 original)
        opened = [e["open"] for e in self.smarthost.events("connect")]
        self.assertGreater(max(opened), 1,
                           "one connection at a time: %r" % opened)
        self.assertLessEqual(max(opened), SESSIONS,
                             "more than 'relay limit sessions': %r" % opened)
        self.assertLess(len(opened), N, "no connection was reused")
        self.assertSpoolEmpty()
        return (self.smarthost.events("mail") +
                self.smarthost.events("rcpt"))


class RelayPipelined(_Base):

    def test_many_over_several_sessions_pipelined(self):
        mails = self.many_over_several_sessions()
        self.assertEqual(len(mails), 2 * N)
        for e in mails:
            self.assertGreater(e["piped"], 0, "not pipelined: %r" % e)

    def test_pipelined_rcpt_550_and_451(self):
        """One transaction, pipelined: RCPT 250, 550 and 451.  The message
        goes to the first; the 550 one gets a DSN (and nothing else), the
        451 one is retried and gets the message once the smarthost takes
        it; nobody gets it twice."""
        self.smarthost.set_control(self.control(rcpt={
            BAD: "550 5.1.1 No such user", LATER: "451 4.3.0 try later"}))
        original, = self.submit_many(1, rcpts=(RCPT, BAD, LATER))
        first = wait_for(self.user_messages, timeout=60,
                         what="the message delivered")
        self.assertDelivered(first[0], original, rcpts=(RCPT,))
        bounce = wait_for(self.bounces, timeout=60, what="a DSN")
        self.assertEqual(len(bounce), 1)
        dsn = bounce[0]["data"]
        self.assertIn(b"Final-Recipient: rfc822; " + BAD.encode(), dsn)
        self.assertNotIn(b"Final-Recipient: rfc822; " + LATER.encode(), dsn)
        self.assertNotIn(b"Final-Recipient: rfc822; " + RCPT.encode(), dsn)
        self.assertEqual(bounce[0]["rcpt_tos"], [USER])
        # the 451 recipient is tried again, alone
        self.smarthost.wait_event(
            "rcpt", n=2, timeout=60, pred=lambda e: e["rcpt"] == LATER)
        self.smarthost.set_control(self.control())
        wait_for(lambda: len(self.user_messages()) >= 2, timeout=60,
                 what="the message delivered to the deferred recipient")
        msgs = self.user_messages()
        self.assertEqual(len(msgs), 2)
        self.assertDelivered(msgs[1], original, rcpts=(LATER,))
        self.assertSpoolEmpty()
        rcpts = [e["rcpt"] for e in self.smarthost.events("rcpt")]
        self.assertEqual(rcpts.count(BAD), 1, "a 5xx recipient was retried")
        self.assertEqual(rcpts.count(RCPT), 1, "a 2xx recipient was retried")
        self.assertEqual(len(self.bounces()), 1)
        # MAIL, each RCPT (the last with DATA behind it): one group
        for e in self.smarthost.events("mail") + self.smarthost.events("rcpt"):
            self.assertGreater(e["piped"], 0, "not pipelined: %r" % e)

    def test_pipelined_all_rcpts_refused(self):
        """Pipelined DATA after every RCPT was refused: the smarthost
        refuses DATA (503); each recipient keeps its own reply and the
        connection is used again for the next message."""
        self.smarthost.set_control(self.control(rcpt={
            BAD: "550 5.1.1 No such user"}))
        self.submit_many(1, rcpts=(BAD,))
        bounce = wait_for(self.bounces, timeout=60, what="a DSN")
        self.assertIn(b"Final-Recipient: rfc822; " + BAD.encode(),
                      bounce[0]["data"])
        self.assertEqual(self.user_messages(), [])
        self.assertSpoolEmpty()
        rcpts = [e["rcpt"] for e in self.smarthost.events("rcpt")]
        self.assertEqual(rcpts.count(BAD), 1, "a 5xx recipient was retried")


class RelayUnpipelined(_Base):
    """The smarthost does not offer PIPELINING: one command at a time."""
    PIPELINING = False

    def test_many_over_several_sessions_unpipelined(self):
        mails = self.many_over_several_sessions()
        self.assertEqual(len(mails), 2 * N)
        for e in mails:
            self.assertEqual(e["piped"], 0, "pipelined unasked: %r" % e)


if __name__ == "__main__":
    import unittest
    unittest.main()
