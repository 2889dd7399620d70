"""Helpers for the access-policy tests (issue 5): clients bound to a chosen
loopback source address, users files with options, one message."""

import os
import re
import socket
import time

from harness import (Client, SLOW, USER, PASSWORD, SENDERS, USER2, PASSWORD2,
                     SENDERS2, RCPT, hash_password, write_file, dot_data,
                     sample_message)


class BoundClient(Client):
    """Client whose socket is bound to SOURCE before connecting."""

    def __init__(self, host, port, source, tls=False, ca=None, timeout=10):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout * SLOW)
        self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.ca = ca
        self.buf = b""
        self.tls = False
        if tls:
            self.starttls_handshake()


def connect_from(t, source, port=None, host="127.0.0.1"):
    c = BoundClient(host, port or t.P1, source, ca=t.certs["ca"])
    t.addCleanup(c.close)
    return c


def login_from(t, source, user=USER, password=PASSWORD, expect="235 2.7.0"):
    """Banner, EHLO, STARTTLS, EHLO, AUTH from SOURCE; returns (client, reply)."""
    c = connect_from(t, source)
    t.assertReply(c.reply(), "220 ")
    t.assertReply(c.ehlo(), "250")
    c.starttls()
    t.assertReply(c.ehlo(), "250")
    if user is None:
        return c, None
    r = c.auth_plain(user, password)
    if expect:
        t.assertReply(r, expect)
    return c, r


# "limit auth-delay" (on by default, 1s doubling): a login whose (login,
# network) pair or network failed lately is held back with this reply,
# without a verification.
DELAYED = "454 4.7.0 Too many failed logins, try again later"


def auth_after_delay(t, source, user=USER, password=PASSWORD,
                     expect="535 5.7.8", timeout=120):
    """A login from SOURCE in a new session, again until the delay of an
    earlier failure ran out: every reply is exactly DELAYED or EXPECT.
    Returns (client, reply of EXPECT, the number of DELAYED replies)."""
    end = time.monotonic() + timeout * SLOW
    held = 0
    while True:
        c, r = login_from(t, source, user=user, password=password,
                          expect=(expect, DELAYED))
        if not r.text.startswith(DELAYED):
            return c, r, held
        held += 1
        c.close()
        t.assertLess(time.monotonic(), end, "still held back: %r" % r)
        time.sleep(0.2)


def write_users(t, alice_opts="", bob_opts=""):
    """The harness's two users, with users-file options (from=, messages=)."""
    def line(u, p, s, o):
        return "%s:%s:%s%s\n" % (u, hash_password(p), s, ":" + o if o else "")
    write_file(t.users_file, "# policy test users\n" +
               line(USER, PASSWORD, SENDERS, alice_opts) +
               line(USER2, PASSWORD2, SENDERS2, bob_opts), 0o600)


def mail(c, frm=USER, rcpts=(RCPT,)):
    """One message on an authenticated client: the MAIL reply if it was
    refused, the RCPT reply if one was, else the reply after DATA."""
    r = c.cmd("MAIL FROM:<%s>" % frm)
    if r.code != 250:
        return r
    for rc in rcpts:
        r = c.cmd("RCPT TO:<%s>" % rc)
        if r.code != 250:
            c.cmd("RSET")
            return r
    r = c.cmd("DATA")
    if r.code != 354:
        return r
    c.send(dot_data(sample_message(frm=frm, to=rcpts[0])))
    return c.reply()


def wait_seconds(reply):
    """The "(in N s)" of a policy reply."""
    m = re.search(r"\(in (\d+) s\)", reply.text)
    return int(m.group(1)) if m else None
