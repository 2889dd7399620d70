"""A proxy-from added by a reload reaches the auth role (found in review:
the auth role kept its start-time listeners, so after the reload every
per-IP policy and the envelope saw the balancer's address, not the
PROXY header's)."""

import base64
import re
import socket
import ssl
import subprocess
import unittest

import harness
from harness import USER, PASSWORD
from test_proxy_haproxy import v2_header


class ProxyFromByReload(harness.SubmitdTest):
    RELOAD = True

    def setUp(self):
        self.PX = harness.free_port()
        line = "listen on 127.0.0.1 port %d starttls pki localhost" % self.PX
        proxied = line + " proxy-from 127.0.0.1/32"
        self.EXTRA_CONF = (line if self.RELOAD else proxied,)
        super().setUp()
        if self.RELOAD:
            text = open(self.submitd.conf).read().replace(line, proxied)
            harness.write_file(self.submitd.conf, text)
            r = subprocess.run([harness.SUBMITCTL, "-s", self.control_sock,
                                "reload"], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_grant_names_the_proxied_client(self):
        s = socket.create_connection(("127.0.0.1", self.PX), timeout=10)
        s.sendall(v2_header("127.0.0.5", "127.0.0.1", 40000, self.PX))
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if line[3:4] != b"-":
                    return line
        self.assertTrue(reply().startswith(b"220"))
        s.sendall(b"EHLO x\r\n")
        reply()
        s.sendall(b"STARTTLS\r\n")
        self.assertTrue(reply().startswith(b"220"))
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        t = ctx.wrap_socket(s, server_hostname="localhost")
        f = t.makefile("rb")
        t.sendall(b"EHLO x\r\n")
        reply()
        tok = base64.b64encode(b"\0" + USER.encode() + b"\0" +
                               PASSWORD.encode())
        t.sendall(b"AUTH PLAIN " + tok + b"\r\n")
        self.assertTrue(reply().startswith(b"235 2.7.0"))
        grants = harness.wait_for(lambda: re.findall(
            r"event=grant grant=\S+ ip=(\S+)", self.submitd.log_text()),
            20, what="the grant's log line")
        self.assertEqual(grants[-1], "127.0.0.5")
        t.close()


class ProxyFromAtStart(ProxyFromByReload):
    RELOAD = False


if __name__ == "__main__":
    unittest.main()
