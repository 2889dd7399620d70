"""The trust boundary (issue 12): the message file after the commit.

The smtp role parses the internet and writes the message into a file
(with no name in the spool) through a writable descriptor the queue gave
it.  A compromised one keeps
that descriptor.  The queue checks, scans and signs only its own copy of
the file, made at the commit (or when the filter asks): writes through the
kept descriptor after that reach that nameless inode, never the smarthost.
And the queue itself holds the file to `limit message-size`.

These tests play the compromised smtp role as test_trust does (its
channel to the queue, the file written as it would)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, USER2, RCPT           # noqa: E402
from test_trust import CompromisedSmtp, IS_ROOT, packet, commit_payload, \
    relaxed_body_hash, IPC_QUEUE_COMMIT           # noqa: E402


def message(body=b"original body\r\n"):
    hdr = (b"From: <%s>\r\nTo: <%s>\r\nSubject: orig\r\n"
           b"Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
           b"Message-ID: <tamper@test>\r\n" % (USER.encode(), RCPT.encode()))
    return hdr, hdr + b"\r\n" + body, body


@unittest.skipUnless(IS_ROOT, "privilege separation needs root")
class TamperAfterCommit(CompromisedSmtp):

    def commit(self, grant, qid, hdr, data, body):
        self.chan.send(packet(IPC_QUEUE_COMMIT, commit_payload(
            grant, qid, USER, USER, USER.rsplit("@", 1)[1], len(hdr),
            relaxed_body_hash(body), len(data))))

    def test_writes_through_the_kept_descriptor_do_not_reach_the_smarthost(self):
        self.smarthost.stop()
        c, grant = self.grant_of_login()
        hdr, data, body = message()
        qid = self.open_message(data)
        # the writer's descriptor, kept as a compromised smtp role would
        fd = self.writer_fd
        self.commit(grant, qid, hdr, data, body)
        harness.wait_for(lambda: "msgid=%s event=queued" % qid
                         in self.submitd.log_text(), 15, what="queued")
        # From: another user's address, and another body, same length
        evil = (b"From: <%s>\r\nTo: <%s>\r\nSubject: EVIL\r\n\r\n"
                % (USER2.encode(), RCPT.encode()))
        evil += b"X" * (len(data) - len(evil))
        self.assertEqual(os.pwrite(fd, evil, 0), len(data))
        os.ftruncate(fd, len(data))
        with open(os.path.join(self.qdir, qid + ".msg"), "rb") as f:
            self.assertEqual(f.read(), data, "the spooled message changed")
        self.smarthost.start()
        m = self.smarthost.wait_messages(1, timeout=30)[0]
        # exactly the committed octets, after our DKIM-Signature field
        self.assertTrue(m["data"].startswith(b"DKIM-Signature:"), m["data"][:80])
        self.assertTrue(m["data"].endswith(data),
                        "the smarthost got other octets than committed:\n%r"
                        % m["data"][-len(data):])
        self.assertNotIn(b"EVIL", m["data"])
        self.assertNotIn(USER2.encode(), m["data"])


@unittest.skipUnless(IS_ROOT, "privilege separation needs root")
class TamperSize(CompromisedSmtp):
    MESSAGE_SIZE = "16K"

    def test_a_file_past_the_size_limit_is_refused(self):
        self.smarthost.stop()
        c, grant = self.grant_of_login()
        # past the limit the smtp role enforces, with true claims
        hdr, data, body = message((b"y" * 78 + b"\r\n") * 400)
        self.assertGreater(len(data), 16 * 1024)
        qid = self.open_message(data)
        self.chan.send(packet(IPC_QUEUE_COMMIT, commit_payload(
            grant, qid, USER, USER, USER.rsplit("@", 1)[1], len(hdr),
            relaxed_body_hash(body), len(data))))
        self.assertRefused(qid, "message-size")
        # and one within it still goes
        hdr, data, body = message()
        qid = self.open_message(data)
        self.chan.send(packet(IPC_QUEUE_COMMIT, commit_payload(
            grant, qid, USER, USER, USER.rsplit("@", 1)[1], len(hdr),
            relaxed_body_hash(body), len(data))))
        harness.wait_for(lambda: "msgid=%s event=queued" % qid
                         in self.submitd.log_text(), 15, what="queued")


if __name__ == "__main__":
    unittest.main()
