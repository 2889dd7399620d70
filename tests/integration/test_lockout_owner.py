"""Lockouts an attacker cannot aim at the owner (issue 12 item 3).

Before: a login-wide lockout (N failures from anywhere) shut the owner
out from their usual address too; each IPv6 address had a budget of its
own (a /64 had unlimited tries); failures had no delay before the hard
lock.  Now: an address that logged in to a login lately (remembered in the
state store, across restarts) is never locked out of it; IPv6 sources are
grouped by /64 for every per-address limit; "limit auth-delay" (on by
default, 1s) holds a (login, network) pair and a network back D, 2D,
4D ... after each failure.
"""

import base64
import re
import socket
import ssl
import struct
import time
import unittest

import harness
from harness import USER, PASSWORD, USER2, PASSWORD2
from policy_util import DELAYED, login_from


def v2_header6(src, dst, sport, dport):
    """A PROXY protocol v2 header for TCP over IPv6."""
    body = (socket.inet_pton(socket.AF_INET6, src) +
            socket.inet_pton(socket.AF_INET6, dst) +
            struct.pack("!HH", sport, dport))
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21])
            + struct.pack("!H", len(body)) + body)


class RememberedAddress(harness.SubmitdTest):
    """A brute-force run from elsewhere locks the login for everyone but
    the address it logged in from lately, even after a restart."""

    EXTRA_CONF = ("limit auth-failures 3 per 1h per ip",)

    def test_owner_keeps_their_address(self):
        login_from(self, "127.0.0.2")               # the owner, once
        # the list is in the state store: a restart does not forget it
        self.submitd.stop()
        self.submitd.start()
        for i in range(3):
            login_from(self, "127.0.0.%d" % (30 + i), password="guess-%d" % i,
                       expect="535 5.7.8")
        harness.wait_for(lambda: "scope=user" in self.submitd.log_text(),
                         20, what="the login's lockout")
        # the right password from an address never seen: still locked
        login_from(self, "127.0.0.40", expect="454 4.7.0")
        # the owner from their address: in (before: 454 4.7.0)
        login_from(self, "127.0.0.2")
        # a remembered address does not turn a wrong password into a 235
        login_from(self, "127.0.0.2", password="wrong", expect="535 5.7.8")


class Ipv6Network(harness.SubmitdTest):
    """Every address of an IPv6 /64 shares one budget (before: each
    address had its own, a /64 had 2^64 of them).  The client addresses
    come in PROXY headers from a proxy-from listener on loopback."""

    def setUp(self):
        self.PX = harness.free_port()
        self.EXTRA_CONF = (
            "limit auth-failures 3 per 1h per ip",
            "listen on 127.0.0.1 port %d starttls pki localhost "
            "proxy-from 127.0.0.1/32" % self.PX)
        super().setUp()

    def session(self, src):
        """Connected from SRC: the greeting, then (if 220) EHLO, STARTTLS;
        returns (greeting, send-and-read function or None)."""
        s = socket.create_connection(("127.0.0.1", self.PX),
                                     timeout=20 * harness.SLOW)
        self.addCleanup(s.close)
        s.sendall(v2_header6(src, "2001:db8::25", 40000, self.PX))
        f = s.makefile("rb")

        def reply(fh):
            while True:
                line = fh.readline()
                if line[3:4] != b"-":
                    return line.decode()
        greeting = reply(f)
        if not greeting.startswith("220"):
            return greeting, None
        s.sendall(b"EHLO x\r\n")
        reply(f)
        s.sendall(b"STARTTLS\r\n")
        self.assertTrue(reply(f).startswith("220"))
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        t = ctx.wrap_socket(s, server_hostname="localhost")
        self.addCleanup(t.close)
        tf = t.makefile("rb")
        t.sendall(b"EHLO x\r\n")
        reply(tf)

        def cmd(line):
            t.sendall(line.encode() + b"\r\n")
            return reply(tf)
        return greeting, cmd

    def auth(self, src, user, password):
        g, cmd = self.session(src)
        self.assertTrue(g.startswith("220"), g)
        tok = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
        return cmd("AUTH PLAIN " + tok.decode())

    def test_slash64_shares_one_budget(self):
        deadline = time.monotonic() + 120 * harness.SLOW
        for i, user in enumerate(("a@example.org", "b@example.org",
                                  "c@example.org")):
            # the network's delay (limit auth-delay, on by default) holds
            # every address of the /64 back after a failure: 454 4.7.0,
            # not verified, not counted, until it ran out
            while True:
                r = self.auth("2001:db8:1:2::%x" % (i + 1), user, "guess")
                if not r.startswith(DELAYED):
                    break
                self.assertLess(time.monotonic(), deadline, r)
                time.sleep(0.2)
            self.assertTrue(r.startswith("535 5.7.8"), r)
        harness.wait_for(lambda: "scope=ip" in self.submitd.log_text(), 20,
                         what="the network's lockout")
        line = [l for l in self.submitd.log_text().splitlines()
                if "event=lockout" in l][0]
        self.assertIn("net=2001:db8:1:2::/64", line)
        # another address of the same /64: refused before TLS (before: 220)
        g, _ = self.session("2001:db8:1:2:ffff::99")
        self.assertTrue(g.startswith("554 5.7.1"), g)
        # the next /64 is another network
        r = self.auth("2001:db8:1:3::1", USER, PASSWORD)
        self.assertTrue(r.startswith("235"), r)


class Ipv6Sessions(Ipv6Network):
    """limit sessions per ip counts an IPv6 /64 as one address (before:
    each address had its own 2 sessions)."""

    def setUp(self):
        super().setUp()
        text = self.submitd_conf_text().replace(
            "limit auth-failures 3 per 1h per ip", "limit sessions 2 per ip")
        harness.write_file(self.submitd.conf, text)
        self.submitd.stop()
        self.submitd.start()

    def submitd_conf_text(self):
        with open(self.submitd.conf) as f:
            return f.read()

    def test_slash64_shares_the_sessions(self):
        for i in (1, 2):
            g, _ = self.session("2001:db8:1:2::%d" % i)
            self.assertTrue(g.startswith("220"), g)
        g, _ = self.session("2001:db8:1:2::3")
        self.assertTrue(g.startswith("421 4.7.0"), g)
        self.assertIn("sessions from your address", g)
        g, _ = self.session("2001:db8:1:3::1")
        self.assertTrue(g.startswith("220"), g)

    test_slash64_shares_one_budget = None


class ProgressiveDelay(harness.SubmitdTest):
    """limit auth-delay (default 1s): after each failure the pair (and the
    network) waits D, 2D, 4D ... before another try is even verified;
    tries in the wait get 454 4.7.0 and are not counted."""

    EXTRA_CONF = ("limit auth-failures 10 per 1h per ip",)

    def test_delays_double(self):
        failures = 0
        deadline = time.monotonic() + 120 * harness.SLOW
        while failures < 3:
            self.assertLess(time.monotonic(), deadline, "3 failures")
            c, r = login_from(self, "127.0.0.2", password="wrong",
                              expect=None)
            c.close()
            if r.code == 535:
                self.assertReply(r, "535 5.7.8")
                failures += 1
            else:
                self.assertReply(r, DELAYED)
                time.sleep(0.2)
        delays = re.findall(r"event=delay ip=127\.0\.0\.2 net=\S+ "
                            r"scope=login failures=(\d+) delay=(\S+)",
                            self.submitd.log_text())
        self.assertEqual(delays, [("1", "1s"), ("2", "2s"), ("3", "4s")])
        lockouts = [l for l in self.submitd.log_text().splitlines()
                    if "event=lockout" in l]
        self.assertEqual(lockouts, [])

    def test_delay_holds_the_pair_and_the_network(self):
        with open(self.submitd.conf) as f:
            text = f.read() + "limit auth-delay 1h\n"
        harness.write_file(self.submitd.conf, text)
        self.submitd.stop()
        self.submitd.start()
        login_from(self, "127.0.0.2", password="wrong", expect="535 5.7.8")
        # the right password from there, at once: held back, not verified
        login_from(self, "127.0.0.2", expect=DELAYED)
        login_from(self, "127.0.0.2", user=USER2, password=PASSWORD2,
                   expect=DELAYED)
        # the login from another network: in
        login_from(self, "127.0.0.3")


if __name__ == "__main__":
    unittest.main()
