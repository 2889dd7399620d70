#!/usr/bin/python3
"""make_spool.py SPOOL COUNT USER [FROM RCPT] — fill SPOOL/queue with COUNT
committed messages (ID.msg + ID.env in the envelope format of submitd(8),
QUEUE FORMAT) from FROM to RCPT, owned by USER, due now: the start-up
scenario of make bench, and the large-spool test."""
import os
import pwd
import sys
import time


def main():
    spool, count, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    frm = sys.argv[4] if len(sys.argv) > 4 else "bench@bench.test"
    rcpt = sys.argv[5] if len(sys.argv) > 5 else "sink@bench.test"
    domain = frm.rsplit("@", 1)[1]
    pw = pwd.getpwnam(user)
    qdir = os.path.join(spool, "queue")
    for d in (spool, qdir, os.path.join(spool, "corrupt")):
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    now = int(time.time())
    base_us = now * 1000000 - count
    for i in range(count):
        qid = "%013X%06X" % (base_us + i, i & 0xFFFFFF)
        msg = (b"From: %s\r\nTo: %s\r\n"
               b"Subject: spool %d\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
               b"Message-ID: <%s@spool.test>\r\n\r\nbody %d\r\n"
               % (frm.encode(), rcpt.encode(), i, qid.encode(), i))
        env = ("submitd-envelope 1\nid: %s\ncreated: %d\nuser: %s\n"
               "client: 127.0.0.1\nhelo: spool\nreverse-path: %s\n"
               "from-domain: %s\nbody: 7bit\nsize: %d\nattempts: 0\n"
               "next-try: %d\nrcpt: pending %s\nend\n"
               % (qid, now, frm, frm, domain, len(msg), now, rcpt)).encode()
        for name, data in ((qid + ".msg", msg), (qid + ".env", env)):
            path = os.path.join(qdir, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.fchown(fd, pw.pw_uid, pw.pw_gid)
            os.close(fd)


if __name__ == "__main__":
    main()
