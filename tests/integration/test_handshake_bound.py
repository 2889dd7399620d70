"""TLS handshakes in flight are bounded (issue 18 target 3).

The smtp role begins at most 64 handshakes at once; the others wait,
unread, until one ends (so that 1000 handshakes at once no longer
scatter each session's long-lived TLS state among the others' freed
temporaries).  These tests show that the bound costs no session: more
handshakes than the bound all complete, on both ports, and clients that
stall with their handshake begun do not hold the others back (whenever
no handshake ends for a moment while some wait, more begin)."""
import os
import socket
import ssl
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import SLOW                        # noqa: E402

BOUND = 64                                      # SMTP_HANDSHAKES_MAX


class HandshakeBound(harness.SubmitdTest):
    EXTRA_CONF = ("limit sessions 1000", "limit sessions 1000 per ip",
                  "limit connections 100000 per minute per ip",
                  "timeout tls-handshake 5m", "timeout command 5m")

    def tls_banner(self, port, starttls, results, i):
        """Handshake on PORT (after STARTTLS when STARTTLS), then the
        first reply in TLS: results[i] gets its first line, or the error."""
        try:
            raw = socket.create_connection(("127.0.0.1", port),
                                           timeout=60 * SLOW)
            self.addCleanup(raw.close)
            if starttls:
                f = raw.makefile("rb")
                f.readline()                    # 220
                raw.sendall(b"EHLO x\r\nSTARTTLS\r\n")
                while True:
                    line = f.readline()
                    if not line or line.startswith(b"220 2.0.0"):
                        break
            ctx = ssl.create_default_context(cafile=self.certs["ca"])
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            self.addCleanup(s.close)
            if starttls:
                s.sendall(b"EHLO x\r\n")
            results[i] = s.recv(4096).split(b"\r\n")[0].decode()
        except (OSError, ssl.SSLError) as e:
            results[i] = "error: %r" % e

    def many_at_once(self, port, starttls, n):
        results = [None] * n
        threads = [threading.Thread(target=self.tls_banner,
                                    args=(port, starttls, results, i))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120 * SLOW)
        return results

    def test_more_than_the_bound_at_once_tls_port(self):
        results = self.many_at_once(self.P2, False, 2 * BOUND + 20)
        bad = [r for r in results if r is None or not r.startswith("220 ")]
        self.assertEqual(bad, [], "every handshake ends with the banner")

    def test_more_than_the_bound_at_once_starttls(self):
        results = self.many_at_once(self.P1, True, BOUND + 20)
        bad = [r for r in results if r is None or not r.startswith("250")]
        self.assertEqual(bad, [], "every handshake ends with EHLO's 250")

    def test_stalled_handshakes_do_not_hold_others_back(self):
        # BOUND + 10 clients connect to the TLS port and send nothing:
        # their handshakes have begun (the server waits for a ClientHello
        # that does not come, for 'timeout tls-handshake' 5 minutes).
        stalled = []
        for _ in range(BOUND + 10):
            s = socket.create_connection(("127.0.0.1", self.P2),
                                         timeout=10 * SLOW)
            self.addCleanup(s.close)
            stalled.append(s)
        harness.wait_for(lambda: self.submitd.log_text().count("event=connect ") >=
                         BOUND + 10, timeout=60 * SLOW,
                         what="the stalled clients connected")
        # A client now still gets its handshake and banner, long before
        # any stalled one times out.
        results = [None]
        self.tls_banner(self.P2, False, results, 0)
        self.assertTrue(results[0].startswith("220 "), results[0])
        for s in stalled:                       # none was dropped meanwhile
            s.setblocking(False)
            try:
                self.assertNotEqual(s.recv(1), b"", "a stalled client closed")
            except BlockingIOError:
                pass


if __name__ == "__main__":
    unittest.main()
