"""Issue 2, "Bad input it must answer well": each case with its exact reply
(DESIGN.md's replies table), the session surviving where it should, and
nothing queued or delivered for a refused message."""

import base64
import socket
import struct
import time
import unittest

from harness import (PASSWORD, RCPT, USER, USER2, PASSWORD2, SubmitdTest,
                     dot_data, sample_message)


# RFC 3463: X.1.7 bad sender's address syntax, X.1.3 bad destination's
MAIL_SYNTAX = ("501 5.1.7", "553 5.1.7", "501 5.1.3", "553 5.1.3")
RCPT_SYNTAX = ("501 5.1.3", "553 5.1.3")


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class BeforeTLS(SubmitdTest):
    START_SMARTHOST = False

    def plain(self):
        c = self.connect(self.P1)
        self.assertReply(c.reply(), "220 ")
        self.assertReply(c.ehlo(), "250")
        return c

    def test_auth_before_starttls(self):
        c = self.plain()
        self.assertReply(c.auth_plain(USER, PASSWORD), "530 5.7.0")
        self.assertReply(c.cmd("AUTH LOGIN"), "530 5.7.0")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_mail_rcpt_data_before_starttls(self):
        c = self.plain()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "530 5.7.0")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "530 5.7.0")
        self.assertReply(c.cmd("DATA"), "530 5.7.0")
        self.assertReply(c.cmd("NOOP"), "250")
        c.starttls()             # still usable afterwards
        self.assertReply(c.ehlo(), "250")

    def test_plaintext_pipelined_after_starttls_is_discarded(self):
        c = self.plain()
        c.send("STARTTLS\r\nMAIL FROM:<%s>\r\n" % USER)
        self.assertReply(c.reply(), "220")
        c.starttls_handshake()
        r = c.cmd("EHLO client.test")
        self.assertEqual(r.code, 250, "first reply after TLS is %r" % r)
        self.assertIn("AUTH", r.keywords, r)
        self.assertReply(c.cmd("NOOP"), "250")

    def test_smuggled_auth_is_not_executed(self):
        c = self.plain()
        c.send("STARTTLS\r\nEHLO evil.test\r\nAUTH PLAIN %s\r\n"
               % b64("\0%s\0%s" % (USER, PASSWORD)))
        self.assertReply(c.reply(), "220")
        c.starttls_handshake()
        self.assertReply(c.ehlo(), "250")
        # had the smuggled AUTH run, this would be 250
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "530 5.7.0")
        self.assertReply(c.cmd("NOOP"), "250")


class Auth(SubmitdTest):
    START_SMARTHOST = False

    def tls(self):
        return self.session(user=None)

    def test_mail_without_auth(self):
        c = self.tls()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "530 5.7.0")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_mail_without_auth_implicit_tls(self):
        c = self.connect(self.P2, tls=True)
        c.reply()
        c.ehlo()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "530 5.7.0")

    def test_wrong_password_plain(self):
        c = self.tls()
        self.assertReply(c.auth_plain(USER, "wrong"), "535 5.7.8")
        self.assertReply(c.cmd("NOOP"), "250")
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "530 5.7.0")

    def test_unknown_user(self):
        c = self.tls()
        self.assertReply(c.auth_plain("nobody@example.org", PASSWORD),
                         "535 5.7.8")

    def test_other_users_password(self):
        c = self.tls()
        self.assertReply(c.auth_plain(USER, PASSWORD2), "535 5.7.8")

    def test_wrong_password_login(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH LOGIN"), "334")
        self.assertReply(c.cmd(b64(USER)), "334")
        self.assertReply(c.cmd(b64("wrong")), "535 5.7.8")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_bad_base64(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH PLAIN !!!not*base64$$"), "501")
        self.assertReply(c.cmd("NOOP"), "250")
        self.assertReply(c.cmd("AUTH LOGIN"), "334")
        self.assertReply(c.cmd("%%%%"), "501")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_plain_without_nuls(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH PLAIN " + b64("justonefield")),
                         ("501", "535"))
        self.assertReply(c.cmd("NOOP"), "250")

    def test_cancel_with_star(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH PLAIN"), "334")
        self.assertReply(c.cmd("*"), "501")
        self.assertReply(c.cmd("AUTH LOGIN"), "334")
        self.assertReply(c.cmd("*"), "501")
        self.assertReply(c.cmd("AUTH LOGIN"), "334")
        self.assertReply(c.cmd(b64(USER)), "334")
        self.assertReply(c.cmd("*"), "501")
        self.assertReply(c.cmd("NOOP"), "250")
        # and a real login still works afterwards
        self.assertReply(c.auth_plain(USER, PASSWORD), "235 2.7.0")

    def test_unknown_mechanism(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH CRAM-MD5"), "504")
        self.assertReply(c.cmd("NOOP"), "250")

    # the accepted forms of AUTH (issue 2)
    def test_auth_plain_without_initial_response(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH PLAIN"), "334")
        self.assertReply(c.cmd(b64("\0%s\0%s" % (USER, PASSWORD))), "235 2.7.0")

    def test_auth_plain_authzid_equal_to_login(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH PLAIN " + b64("%s\0%s\0%s"
                                                   % (USER, USER, PASSWORD))),
                         "235 2.7.0")

    def test_auth_plain_authzid_other_user_refused(self):
        c = self.tls()
        r = c.cmd("AUTH PLAIN " + b64("%s\0%s\0%s" % (USER2, USER, PASSWORD)))
        self.assertEqual(r.code // 100, 5, r)

    def test_auth_login_with_initial_response(self):
        c = self.tls()
        self.assertReply(c.cmd("AUTH LOGIN " + b64(USER)), "334")
        self.assertReply(c.cmd(b64(PASSWORD)), "235 2.7.0")

    def test_second_auth_refused(self):
        c = self.session()
        self.assertReply(c.auth_plain(USER, PASSWORD), "503")


class Commands(SubmitdTest):
    START_SMARTHOST = False

    def test_mail_from_not_users(self):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<mallory@example.org>"), "553 5.7.1")
        self.assertReply(c.cmd("MAIL FROM:<alice@sales.example.com>"),
                         "553 5.7.1")
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER2), "553 5.7.1")
        self.assertReply(c.cmd("NOOP"), "250")
        # the user's own patterns are fine, domain compared case-insensitively
        self.assertReply(c.cmd("MAIL FROM:<alice@EXAMPLE.org>"), "250")
        self.assertReply(c.cmd("RSET"), "250")
        self.assertReply(c.cmd("MAIL FROM:<anyone@sales.example.org>"), "250")

    def test_command_line_too_long(self):
        c = self.session()
        self.assertReply(c.cmd("NOOP " + "x" * 600), "500 5.5.2")
        self.assertReply(c.cmd("MAIL FROM:<%s> %s" % (USER, "X" * 700)),
                         "500 5.5.2")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_unknown_command(self):
        c = self.session()
        self.assertReply(c.cmd("XYZZY plugh"), "500 5.5.1")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_unknown_command_before_tls(self):
        c = self.connect(self.P1)
        c.reply()
        self.assertReply(c.cmd("XYZZY"), ("500 5.5.1", "530 5.7.0"))
        self.assertReply(c.cmd("NOOP"), "250")

    def test_bad_address_syntax(self):
        c = self.session()
        for bad in ("MAIL FROM:<no-at-sign>", "MAIL FROM:<a@@example.org>",
                    "MAIL FROM:alice@example.org>", "MAIL FROM:<alice@>",
                    "MAIL FROM:<a b@example.org>"):
            self.assertReply(c.cmd(bad), MAIL_SYNTAX + ("501 5.5.4", "501 5.5.2"),
                             bad)
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        for bad in ("RCPT TO:<carol>", "RCPT TO:<@example.com>",
                    "RCPT TO:<carol@example.com"):
            self.assertReply(c.cmd(bad), RCPT_SYNTAX + ("501 5.5.4", "501 5.5.2"),
                             bad)
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_bad_address_syntax_strict_codes(self):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<no-at-sign>"), MAIL_SYNTAX)
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("RCPT TO:<a@@example.com>"), RCPT_SYNTAX)

    def test_nul_byte(self):
        c = self.session()
        self.assertReply(c.cmd("NO\0OP"), "500 5.5.2")
        self.assertReply(c.cmd("MAIL FROM:<%s>\0" % USER), "500 5.5.2")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_rcpt_before_mail_and_data_before_rcpt(self):
        c = self.session()
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "503")
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("DATA"), "503")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_size_param_over_limit(self):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<%s> SIZE=%d" % (USER, 5 * 1024 * 1024)),
                         "552 5.3.4")
        self.assertReply(c.cmd("MAIL FROM:<%s> SIZE=1000 BODY=8BITMIME" % USER),
                         "250")


class Data(SubmitdTest):
    """DATA content problems: the smarthost runs, so anything wrongly
    accepted would show up there."""

    def open_data(self, mail_from=USER):
        c = self.session()
        self.assertReply(c.cmd("MAIL FROM:<%s>" % mail_from), "250")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("DATA"), "354")
        return c

    def assertSessionAlive(self, c):
        # an unknown command has a reply no smuggled command could produce
        self.assertReply(c.cmd("XYZZY"), "500 5.5.1")
        self.assertReply(c.cmd("NOOP"), "250")

    def test_from_header_not_users(self):
        c = self.open_data()
        c.send(dot_data(sample_message(frm="ceo@example.org")))
        self.assertReply(c.reply(), "550 5.7.1")
        self.assertSessionAlive(c)
        self.assertNothingQueued()

    def test_from_header_other_users_address(self):
        c = self.open_data()
        c.send(dot_data(sample_message(frm=USER2)))
        self.assertReply(c.reply(), "550 5.7.1")
        self.assertNothingQueued()

    def test_text_line_too_long(self):
        c = self.open_data()
        c.send(dot_data(sample_message(
            body=b"short\r\n" + b"y" * 1200 + b"\r\nend\r\n")))
        self.assertReply(c.reply(), ("500 5.5.2", "552 5.6.0"))
        self.assertSessionAlive(c)
        self.assertNothingQueued()

    def test_line_of_998_is_fine(self):
        c = self.open_data()
        original = sample_message(body=b"z" * 998 + b"\r\n")
        c.send(dot_data(original))
        self.assertReply(c.reply(), "250 2.0.0")
        m = self.smarthost.wait_messages(1)
        self.assertDelivered(m[0], original)

    def smuggle(self, payload):
        c = self.open_data()
        hdr = sample_message(body=b"")
        c.send(hdr + payload + b"\r\n.\r\n")
        self.assertReply(c.reply(), "550 5.6.11")
        self.assertSessionAlive(c)
        self.assertNothingQueued(settle=2)

    SMUGGLED = (b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                b"From: %s\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"
                % (USER.encode(), RCPT.encode(), USER.encode()))

    def test_smuggling_lf_dot_lf(self):
        self.smuggle(b"first part\n.\n" + self.SMUGGLED)

    def test_smuggling_lf_dot_crlf(self):
        self.smuggle(b"first part\n.\r\n" + self.SMUGGLED)

    def test_smuggling_crlf_dot_lf(self):
        self.smuggle(b"first part\r\n.\n" + self.SMUGGLED)

    def test_smuggling_cr_dot_cr(self):
        self.smuggle(b"first part\r.\r" + self.SMUGGLED)

    def test_bare_lf(self):
        self.smuggle(b"line one\nline two\r\n")

    def test_bare_cr(self):
        self.smuggle(b"line one\rline two\r\n")

    def test_message_over_size(self):
        c = self.open_data()
        big = b"".join(b"%07d " % i + b"x" * 90 + b"\r\n"
                       for i in range(12000))          # ~1.2 MB > 1M
        c.send(dot_data(sample_message(body=big)))
        self.assertReply(c.reply(), "552 5.3.4")
        self.assertSessionAlive(c)
        self.assertNothingQueued()

    def test_client_drops_mid_data(self):
        c = self.open_data()
        c.send(sample_message(body=b"partial line\r\nanother" * 100))
        time.sleep(0.3)
        c.close()
        self.assertNothingQueued(settle=2)
        # the daemon still serves others
        c2 = self.open_data()
        original = sample_message()
        c2.send(dot_data(original))
        self.assertReply(c2.reply(), "250 2.0.0")
        self.assertDelivered(self.smarthost.wait_messages(1)[0], original)

    def test_client_resets_mid_data(self):
        c = self.open_data()
        c.send(sample_message(body=b"partial"))
        # SO_LINGER 0: close sends a TCP RST
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.close()
        self.assertNothingQueued(settle=2)
        self.assertTrue(self.submitd.alive())

    def test_rset_after_refused_message_then_good_message(self):
        c = self.open_data()
        c.send(sample_message(body=b"bare\nlf\r\n") + b".\r\n")
        self.assertReply(c.reply(), "550 5.6.11")
        self.assertReply(c.cmd("RSET"), "250")
        self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(c.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(c.cmd("DATA"), "354")
        original = sample_message()
        c.send(dot_data(original))
        self.assertReply(c.reply(), "250 2.0.0")
        msgs = self.smarthost.wait_messages(1)
        self.assertEqual(len(msgs), 1)
        self.assertDelivered(msgs[0], original)


if __name__ == "__main__":
    unittest.main()
