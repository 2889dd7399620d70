"""Access policy (issue 5): "allow from" checked at connect before TLS,
per-user from=, connection rate and concurrent sessions per address.
Clients bind to 127.0.0.2 (and ::1) to come from other addresses."""

import unittest

from harness import SubmitdTest, have_ipv6, wait_for, USER, PASSWORD
from policy_util import (auth_after_delay, connect_from, login_from,
                         write_users)


class AllowLoopbackOne(SubmitdTest):
    EXTRA_CONF = ("allow from 127.0.0.1/32",)

    def test_allowed_peer_gets_banner(self):
        c = connect_from(self, "127.0.0.1")
        self.assertReply(c.reply(), "220 ")

    def test_other_peer_refused_before_tls(self):
        # starttls port: the refusal comes instead of the banner
        c = connect_from(self, "127.0.0.2")
        self.assertReply(c.reply(), "554 5.7.1")
        self.assertTrue(c.closed())
        # implicit-TLS port: closed without a word and without a handshake
        # (a cleartext reply shows as "wrong version number"; issue 13)
        c = connect_from(self, "127.0.0.2", port=self.P2)
        self.assertEqual(c.sock.recv(512), b"")
        self.assertIn("event=connect-refused ip=127.0.0.2 reason=allowlist",
                      self.submitd.log_text())

    @unittest.skipUnless(have_ipv6(), "no IPv6 loopback")
    def test_ipv6_peer_outside_v4_rules_refused(self):
        c = connect_from(self, "::1", port=self.P3, host="::1")
        self.assertReply(c.reply(), "554 5.7.1")


class AllowOtherAddress(SubmitdTest):
    EXTRA_CONF = ("allow from 127.0.0.2/32", "allow from ::1/128")

    def test_listed_addresses_only(self):
        self.assertReply(connect_from(self, "127.0.0.2").reply(), "220 ")
        self.assertReply(connect_from(self, "127.0.0.1").reply(), "554 5.7.1")
        if self.P3:
            c = connect_from(self, "::1", port=self.P3, host="::1")
            self.assertReply(c.reply(), "220 ")


class PerUserFrom(SubmitdTest):
    START_SUBMITD = False

    def setUp(self):
        super().setUp()
        write_users(self, alice_opts="from=127.0.0.2/32")
        self.submitd.start()

    def test_login_only_from_its_address(self):
        c, r = login_from(self, "127.0.0.1", expect="535 5.7.8")
        self.assertIn("reason=from", self.submitd.log_text())
        login_from(self, "127.0.0.2")
        # bob has no from=: anywhere, once the delay that alice's refusal
        # put on the address (limit auth-delay, 1s) ran out
        from harness import USER2, PASSWORD2
        auth_after_delay(self, "127.0.0.1", user=USER2, password=PASSWORD2,
                         expect="235 2.7.0")


class ConnectionRate(SubmitdTest):
    EXTRA_CONF = ("limit connections 3 per minute per ip",)

    def test_fourth_connection_in_the_window_refused(self):
        for _ in range(3):
            c = connect_from(self, "127.0.0.2")
            self.assertReply(c.reply(), "220 ")
            c.cmd("QUIT")
        c = connect_from(self, "127.0.0.2")
        r = c.reply()
        self.assertReply(r, "421 4.7.0")
        self.assertIn("3 per 1m", r.text)
        self.assertTrue(c.closed())
        # another address has its own count
        self.assertReply(connect_from(self, "127.0.0.3").reply(), "220 ")


class SessionsPerIp(SubmitdTest):
    EXTRA_CONF = ("limit sessions 2 per ip", "limit sessions 3")

    def test_concurrent_sessions_capped(self):
        # the harness's "is it listening" probes must be gone first
        def settled():
            log = self.submitd.log_text()
            return log.count("event=connect ") == log.count("event=disconnect ")
        wait_for(settled, timeout=10, what="the start-up probes to close")
        a = connect_from(self, "127.0.0.2")
        self.assertReply(a.reply(), "220 ")
        b = connect_from(self, "127.0.0.2")
        self.assertReply(b.reply(), "220 ")
        c = connect_from(self, "127.0.0.2")
        self.assertReply(c.reply(), "421 4.7.0")
        d = connect_from(self, "127.0.0.3")
        self.assertReply(d.reply(), "220 ")
        e = connect_from(self, "127.0.0.4")     # 4 in total
        self.assertReply(e.reply(), "421 4.7.0")
        a.cmd("QUIT")
        self.assertTrue(a.closed())
        # a freed slot is usable again
        def ok():
            f = connect_from(self, "127.0.0.2")
            return f.reply().text.startswith("220 ")
        wait_for(ok, timeout=5, what="a free session slot")


if __name__ == "__main__":
    unittest.main()
