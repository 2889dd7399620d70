"""Crash safety (issue 7): clients submit while the whole daemon (the
parent and each role) is killed with SIGKILL at random moments and
restarted, a few rounds.  At the end every message answered 250 has reached the
smarthost (compared by Message-ID); duplicates are at most one per kill
(the window between the smarthost's 250 and the queue recording it,
RFC 1047) — with one upstream session, so that one delivery at a time is
in that window (with N parallel sessions a kill can hit N windows at once:
seen as 4 duplicates in 3 kills).  Prints the tally.

make check runs a few rounds; `make soak` runs many more
(QUEUE_CRASH_ROUNDS, QUEUE_CRASH_CLIENTS)."""

import email
import email.policy
import os
import random
import signal
import smtplib
import ssl
import sys
import threading
import time
import unittest

from harness import (PASSWORD, RCPT, USER, SubmitdTest, role_alive,
                     role_pids, sample_message, wait_for)

ROUNDS = int(os.environ.get("QUEUE_CRASH_ROUNDS", "3"))
CLIENTS = int(os.environ.get("QUEUE_CRASH_CLIENTS", "4"))


def message_id(data):
    m = email.message_from_bytes(data, policy=email.policy.compat32)
    return (m["Message-ID"] or "").strip()


class QueueCrash(SubmitdTest):
    EXTRA_CONF = ("relay limit sessions 1",)

    def client(self, n):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        seq = 0
        while not self.stop_clients.is_set():
            seq += 1
            mid = "<crash-%d-%d-%s@client.test>" % (n, seq,
                                                    os.urandom(4).hex())
            msg = sample_message(msgid=False, subject="crash %d.%d" % (n, seq),
                                 extra=b"Message-ID: " + mid.encode() +
                                 b"\r\n")
            try:
                with smtplib.SMTP_SSL("127.0.0.1", self.P2, timeout=10,
                                      context=ctx) as s:
                    s.login(USER, PASSWORD)
                    refused = s.sendmail(USER, [RCPT], msg)
                if not refused:
                    with self.lock:
                        self.acked.add(mid)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)      # the daemon is down or dying

    def kill_all(self):
        """SIGKILL to the parent and to each role: the roles are sessions
        of their own (issue 12 item 7), outside the parent's process
        group, and left alone would exit on SIGTERM (PR_SET_PDEATHSIG), not
        be killed; then wait for them to be gone, so that the restart does
        not meet one still holding a port ('Address already in use')."""
        p = self.submitd.proc
        roles = role_pids(p.pid)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid, start in roles.items():
            if role_alive(pid, start):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        p.wait(10)
        self.submitd.proc = None
        wait_for(lambda: not any(role_alive(r, s) for r, s in roles.items()),
                 60, what="the killed roles to be gone")

    def test_kill_and_restart_loses_nothing(self):
        self.acked = set()
        self.lock = threading.Lock()
        self.stop_clients = threading.Event()
        threads = [threading.Thread(target=self.client, args=(i,),
                                    daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        rnd = random.Random(os.environ.get("QUEUE_CRASH_SEED"))
        kills = 0
        for _ in range(ROUNDS):
            time.sleep(rnd.uniform(0.3, 1.5))
            self.kill_all()
            kills += 1
            time.sleep(rnd.uniform(0, 0.3))
            self.submitd.start()
        time.sleep(1)
        self.stop_clients.set()
        for t in threads:
            t.join(30)
        with self.lock:
            acked = set(self.acked)

        def delivered():
            return [message_id(m["data"]) for m in self.smarthost.messages()]
        wait_for(lambda: acked <= set(delivered()), 60,
                 what="every acknowledged message at the smarthost")
        self.assertSpoolEmpty(30)
        got = delivered()
        counts = {}
        for mid in got:
            counts[mid] = counts.get(mid, 0) + 1
        lost = acked - set(got)
        dups = sum(c - 1 for c in counts.values() if c > 1)
        sys.stderr.write("\nqueue crash tally: rounds=%d kills=%d "
                         "acknowledged=%d delivered=%d lost=%d "
                         "duplicated=%d (delivered without a 250: %d)\n"
                         % (ROUNDS, kills, len(acked),
                            len(acked & set(got)), len(lost), dups,
                            len(set(got) - acked)))
        self.assertGreater(len(acked), 0, "no message was acknowledged")
        self.assertEqual(lost, set(), "acknowledged messages lost")
        self.assertLessEqual(dups, kills, "more duplicates than kills")


if __name__ == "__main__":
    unittest.main()
