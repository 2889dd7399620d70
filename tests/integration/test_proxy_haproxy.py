"""PROXY protocol behind HAProxy (issue 17): Debian's haproxy (TCP mode,
send-proxy-v2 and send-proxy) in front of two submitd instances whose
listeners take connections only from it (proxy-from).  The allowlist,
the logs and Received: see the client's address, not the balancer's; a
PROXY header from an address not in proxy-from, a connection without a
header and a malformed header are refused before any reply or TLS."""

import socket
import ssl
import struct
import unittest

from harness import SubmitdTest, USER, PASSWORD, RCPT, wait_for
from policy_util import BoundClient, mail
from scaleout_util import HAProxy, second_instance
from harness import free_port


def proxy_conf(p_starttls, p_tls, allow=("127.0.0.5/32",),
               proxy_from="127.0.0.1/32"):
    return tuple(
        ["listen on 127.0.0.1 port %d starttls pki localhost proxy-from %s"
         % (p_starttls, proxy_from),
         "listen on 127.0.0.1 port %d tls pki localhost proxy-from %s "
         "proxy-from 192.0.2.0/24" % (p_tls, proxy_from)]
        + ["allow from %s" % a for a in allow])


def v2_header(src, dst, sport, dport):
    body = (socket.inet_aton(src) + socket.inet_aton(dst)
            + struct.pack("!HH", sport, dport))
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11])
            + struct.pack("!H", len(body)) + body)


class BehindHAProxy(SubmitdTest):
    START_SUBMITD = False

    def setUp(self):
        self.PA1, self.PA2 = free_port(), free_port()
        self.EXTRA_CONF = proxy_conf(self.PA1, self.PA2)
        super().setUp()
        self.PB1, self.PB2 = free_port(), free_port()
        self.b = second_instance(self, proxy_conf(self.PB1, self.PB2))
        self.submitd.start()
        self.b.start()
        self.haproxy = HAProxy(self.dir)
        self.addCleanup(self.haproxy.stop)
        self.H_V2 = self.haproxy.add([self.PA1, self.PB1], "send-proxy-v2")
        self.H_V1 = self.haproxy.add([self.PA1, self.PB1], "send-proxy")
        self.H_TLS = self.haproxy.add([self.PA2, self.PB2], "send-proxy-v2")
        self.haproxy.start()

    def client(self, port, source, tls=False):
        c = BoundClient("127.0.0.1", port, source, tls=tls,
                        ca=self.certs["ca"])
        self.addCleanup(c.close)
        return c

    def login(self, c):
        self.assertReply(c.ehlo(), "250")
        c.starttls()
        self.assertReply(c.ehlo(), "250")
        self.assertReply(c.auth_plain(USER, PASSWORD), "235 2.7.0")

    def logs(self):
        return self.submitd.log_text() + self.b.log_text()

    def test_allowlist_logs_and_received_see_the_client(self):
        sent = 0
        for port in (self.H_V2, self.H_V1):
            # round robin: two connections reach both instances
            for _ in range(2):
                c = self.client(port, "127.0.0.5")
                self.assertReply(c.reply(), "220 ")
                self.login(c)
                self.assertReply(mail(c), "250 2.0.0")
                sent += 1
                c.close()
        # implicit TLS: the ClientHello follows the header untouched
        c = self.client(self.H_TLS, "127.0.0.5", tls=True)
        self.assertReply(c.reply(), "220 ")
        self.assertReply(c.ehlo(), "250")
        self.assertReply(c.auth_plain(USER, PASSWORD), "235 2.7.0")
        self.assertReply(mail(c), "250 2.0.0")
        sent += 1
        # another client address is refused by the allowlist, by address
        d = self.client(self.H_V2, "127.0.0.6")
        self.assertReply(d.reply(), "554 5.7.1 Address 127.0.0.6 is not "
                         "allowed")
        e = self.client(self.H_V1, "127.0.0.6")
        self.assertReply(e.reply(), "554 5.7.1 Address 127.0.0.6")
        msgs = self.smarthost.wait_messages(sent)
        self.assertEqual(len(msgs), sent)
        for m in msgs:
            self.assertIn(b"[127.0.0.5]", m["data"].split(b"\r\n\r\n")[0])
            self.assertNotIn(b"[127.0.0.1]", m["data"].split(b"\r\n\r\n")[0])
        # both instances served; their logs name the client
        for s in (self.submitd, self.b):
            self.assertTrue([l for l in s.log_text().splitlines()
                             if "event=auth result=ok" in l
                             and "ip=127.0.0.5" in l], s.log_text())
        self.assertIn("event=connect-refused ip=127.0.0.6 reason=allowlist",
                      self.logs())

    def assertRefusedSilently(self, sock):
        sock.settimeout(10)
        try:
            data = sock.recv(100)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"")

    def test_header_from_elsewhere_or_missing_is_refused(self):
        # a valid PROXY header, but from 127.0.0.2, not in proxy-from
        s = socket.socket()
        self.addCleanup(s.close)
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", self.PA1))
        s.sendall(v2_header("127.0.0.5", "127.0.0.1", 40000, self.PA1))
        self.assertRefusedSilently(s)
        # from the balancer's address but no header: an SMTP client
        t = socket.socket()
        self.addCleanup(t.close)
        t.connect(("127.0.0.1", self.PA1))
        t.sendall(b"EHLO direct.example\r\n")
        self.assertRefusedSilently(t)
        # a malformed v1 line
        u = socket.socket()
        self.addCleanup(u.close)
        u.connect(("127.0.0.1", self.PB1))
        u.sendall(b"PROXY TCP4 127.0.0.5 127.0.0.1 1 2 3\r\n")
        self.assertRefusedSilently(u)
        # a TLS ClientHello straight to the implicit-TLS listener
        v = socket.create_connection(("127.0.0.1", self.PA2))
        self.addCleanup(v.close)
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with self.assertRaises((ssl.SSLError, OSError)):
            ctx.wrap_socket(v, server_hostname="localhost").recv(10)
        log = self.logs()
        self.assertIn('event=proxy-refused ip=127.0.0.2 reason="not a '
                      'proxy-from address"', log)
        self.assertIn('reason="no PROXY header"', log)
        self.assertIn('reason="v1: bad spacing or too many fields"', log)
        # a good header by hand, from the balancer's address, works
        w = socket.socket()
        self.addCleanup(w.close)
        w.connect(("127.0.0.1", self.PA1))
        w.sendall(v2_header("127.0.0.5", "127.0.0.1", 40000, self.PA1))
        w.settimeout(10)
        self.assertTrue(w.recv(100).startswith(b"220 "))


if __name__ == "__main__":
    unittest.main()
