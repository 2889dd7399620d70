"""The PROXY header on a proxy-from listener must arrive whole within 10 s
of the connection (found in review of issue 17: each octet re-armed the
timeout, so a header sent an octet every few seconds held its place for
as long as the sender liked)."""

import socket
import time
import unittest

import harness


class ProxyHeaderDeadline(harness.SubmitdTest):
    def setUp(self):
        self.PX = harness.free_port()
        self.EXTRA_CONF = ("listen on 127.0.0.1 port %d starttls pki "
                           "localhost proxy-from 127.0.0.1/32" % self.PX,)
        super().setUp()

    def test_slow_header_refused_after_10s(self):
        hdr = b"PROXY TCP4 203.0.113.9 127.0.0.1 4444 587\r\n"
        s = socket.create_connection(("127.0.0.1", self.PX), timeout=30)
        self.addCleanup(s.close)
        t0 = time.time()
        # an octet every 3 s: more than 10 s in all before the header ends
        # (the refusal may reset the connection under one of the sends)
        try:
            for b in hdr[:5]:
                s.sendall(bytes([b]))
                time.sleep(3)
            self.assertGreater(time.time() - t0, 12)
            s.sendall(hdr[5:])
            s.settimeout(30)
            got = s.recv(100)
        except OSError:
            got = b""
        self.assertEqual(got, b"")      # closed, no 220
        harness.wait_for(lambda: 'event=proxy-refused ip=127.0.0.1 reason='
                         '"no PROXY header in time"' in
                         self.submitd.log_text(), 20, what="the refusal")
        # a header sent at once still gets in
        c = socket.create_connection(("127.0.0.1", self.PX), timeout=30)
        self.addCleanup(c.close)
        c.sendall(hdr)
        self.assertTrue(c.recv(100).startswith(b"220 "))


if __name__ == "__main__":
    unittest.main()
