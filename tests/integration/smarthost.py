#!/usr/bin/python3
"""A stand-in smarthost that demands TLS and AUTH, the way OVH's ssl0.ovh.net does.

Run with Debian's python3-aiosmtpd (1.4.3) under /usr/bin/python3:

    smarthost.py --port P --mode smtps|starttls --cert C --key K
                 --login relay@example.net --password upstream-secret
                 --outdir DIR [--control FILE] [--wrong-cert C --wrong-key K]

It listens on 127.0.0.1 only and prints "READY port" on stdout once listening.

Each accepted message is written to OUTDIR as NNNNNN-<time>.json (login,
mail_from, rcpt_tos, data_b64, size, received, tls, sni) plus the exact bytes
in a sidecar NNNNNN-<time>.eml; both are written to a ".tmp-" name first and
renamed, the .eml before the .json, so a reader that sees the .json sees
everything.  OUTDIR/events.log gets one JSON object a line per event
(connect, tls, auth, mail, rcpt, data, violation); a "violation" is any
command other than EHLO/HELO/STARTTLS/NOOP/QUIT seen before TLS, i.e.
something a client sent in plaintext that it must never send.

Fault injection: the JSON control file (optional, may be absent or empty) is
re-read at every command, so a test can change the smarthost's behaviour
while it runs.  Keys, all optional:

    "tls":       "refuse"    handshake failure (implicit TLS or STARTTLS)
                 "wrongcert" present the --wrong-cert certificate
    "starttls":  "close"     close the connection on STARTTLS
                 "454 ..."   answer this to STARTTLS (no TLS; the client must
                             not go on in plaintext)
    "auth":      "535 ..."   refuse every login with this reply
    "mail":      "421 ..."   answer MAIL FROM with this
    "rcpt":      "450 ..."   answer every RCPT with this, or
                 {"addr": "550 5.1.1 No such user", ...} per recipient
    "data":      "451 ..."   answer the end of DATA with this (not recorded)
    "drop_in_data": true     close the line after the data, before replying
    "size":      N           announce SIZE N in the EHLO reply (and keep to it)
    "pipelining": true       announce PIPELINING (RFC 2920) in the EHLO reply
                             (commands are read in order either way)
    "smtputf8":  true        announce SMTPUTF8 (RFC 6531) in the EHLO reply and
                             take UTF-8 addresses with MAIL ... SMTPUTF8

Issue 18: each "connect" event has "open", the connections open at that
moment (this one included), and each "mail" and "rcpt" event "piped", the
octets of later commands already received when that command was read
(more than 0 at the last RCPT: DATA came in the same group, pipelined).
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import ssl
import sys
import threading
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

warnings.simplefilter("ignore")

PLAIN_OK = {"EHLO", "HELO", "STARTTLS", "NOOP", "QUIT", "RSET"}


class Recorder:
    """Writes messages and events into the output directory."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()
        os.makedirs(outdir, exist_ok=True)

    def event(self, **kw):
        kw["time"] = time.time()
        line = json.dumps(kw, sort_keys=True) + "\n"
        with self.lock:
            with open(os.path.join(self.outdir, "events.log"), "a") as f:
                f.write(line)

    def _atomic(self, name, data):
        tmp = os.path.join(self.outdir, ".tmp-" + name)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.outdir, name))

    def message(self, rec, data):
        with self.lock:
            self.count += 1
            base = "%06d-%.6f" % (self.count, time.time())
        rec["data_b64"] = base64.b64encode(data).decode()
        rec["size"] = len(data)
        rec["eml"] = base + ".eml"
        self._atomic(base + ".eml", data)
        self._atomic(base + ".json",
                     (json.dumps(rec, sort_keys=True) + "\n").encode())
        return base


class Control:
    """The fault-injection file, re-read on every use."""

    def __init__(self, path):
        self.path = path

    def get(self, key, default=None):
        if not self.path:
            return default
        try:
            with open(self.path) as f:
                text = f.read()
            if not text.strip():
                return default
            return json.loads(text).get(key, default)
        except (OSError, ValueError):
            return default


class Handler:
    def __init__(self, args, control, rec):
        self.args = args
        self.control = control
        self.rec = rec

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.rec.event(event="mail", mail_from=address, options=options,
                       login=_login(session),
                       piped=getattr(server, "piped", 0))
        reply = self.control.get("mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rec.event(event="rcpt", rcpt=address,
                       piped=getattr(server, "piped", 0))
        reply = self.control.get("rcpt")
        if isinstance(reply, dict):
            reply = reply.get(address) or reply.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content
        if self.control.get("drop_in_data"):
            self.rec.event(event="data", result="dropped", size=len(data))
            server.transport.close()
            return "421 4.4.2 dropped"
        reply = self.control.get("data")
        if reply:
            self.rec.event(event="data", result=reply, size=len(data))
            return reply
        rec = {
            "login": _login(session),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "received": time.time(),
            "tls": session.ssl is not None or self.args.mode == "smtps",
            "helo": session.host_name,
        }
        base = self.rec.message(rec, data)
        self.rec.event(event="data", result="250", id=base, size=len(data))
        return "250 2.0.0 Ok: queued as %s" % base


def _login(session):
    ad = getattr(session, "auth_data", None)
    if isinstance(ad, LoginPassword):
        return ad.login.decode("utf-8", "replace")
    return None


class Server(SMTP):
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"
    OPEN = set()                # connections open now (issue 18)

    def __init__(self, handler, control, rec, mode, **kw):
        self.control = control
        self.rec = rec
        self.mode = mode
        super().__init__(handler, **kw)

    def connection_made(self, transport):
        first = self._original_transport is None and self.transport is None
        super().connection_made(transport)
        if first:
            Server.OPEN.add(id(self))
            self.rec.event(event="connect", peer=str(self.session.peer),
                           open=len(Server.OPEN))
        else:
            self.rec.event(event="tls", peer=str(self.session.peer))

    def connection_lost(self, exc):
        Server.OPEN.discard(id(self))
        super().connection_lost(exc)

    def _under_tls(self):
        return self.mode == "smtps" or self._tls_protocol is not None

    async def push(self, status):
        s = status.decode() if isinstance(status, bytes) else status
        if s == "250 HELP" and self.control.get("pipelining"):
            await super().push("250-PIPELINING")
        if s.startswith("530 Must issue a STARTTLS"):
            self.rec.event(event="violation", reply=s)
        await super().push(status)

    async def smtp_STARTTLS(self, arg):
        what = self.control.get("starttls")
        if what == "close":
            self.rec.event(event="starttls", result="close")
            self.transport.close()
            return
        if what:
            self.rec.event(event="starttls", result=what)
            await self.push(what)
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_EHLO(self, hostname):
        size = self.control.get("size")      # issue 7: SIZE in the EHLO
        if size:
            self.data_size_limit = int(size)
        self.enable_SMTPUTF8 = bool(self.control.get("smtputf8"))
        await super().smtp_EHLO(hostname)

    async def smtp_AUTH(self, arg):
        if not self._under_tls():
            self.rec.event(event="violation", command="AUTH")
        await super().smtp_AUTH(arg)

    async def smtp_RCPT(self, arg):
        self.piped = len(getattr(self._reader, "_buffer", b""))
        await super().smtp_RCPT(arg)

    async def smtp_MAIL(self, arg):
        self.piped = len(getattr(self._reader, "_buffer", b""))
        if not self._under_tls():
            self.rec.event(event="violation", command="MAIL")
        await super().smtp_MAIL(arg)


def make_authenticator(args, control, rec):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = (auth_data.login == args.login.encode()
              and auth_data.password == args.password.encode())
        forced = control.get("auth")
        if forced:
            ok = False
        rec.event(event="auth", mechanism=mechanism, login=login, ok=ok)
        if not ok:
            return AuthResult(success=False, handled=False,
                              message=forced or None)
        return AuthResult(success=True, auth_data=auth_data)
    return authenticator


def make_tls(args, control, rec):
    def ctx_for(cert, key):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(cert, key)
        return c

    good = ctx_for(args.cert, args.key)
    wrong = None
    if args.wrong_cert:
        wrong = ctx_for(args.wrong_cert, args.wrong_key)

    def sni(sslobj, server_name, ctx):
        what = control.get("tls")
        rec.event(event="sni", server_name=server_name, control=what)
        if what == "refuse":
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        if what == "wrongcert" and wrong is not None:
            sslobj.context = wrong
        return None

    good.sni_callback = sni
    return good


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--mode", choices=["smtps", "starttls"], default="smtps")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--wrong-cert")
    p.add_argument("--wrong-key")
    p.add_argument("--login", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--control")
    p.add_argument("--hostname", default="smarthost.test")
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("smarthost: loopback only")

    rec = Recorder(args.outdir)
    control = Control(args.control)
    handler = Handler(args, control, rec)
    tls = make_tls(args, control, rec)
    authenticator = make_authenticator(args, control, rec)

    def factory():
        kw = dict(hostname=args.hostname, authenticator=authenticator,
                  auth_required=True, timeout=60)
        if args.mode == "starttls":
            kw.update(tls_context=tls, require_starttls=True,
                      auth_require_tls=True)
        else:
            kw.update(auth_require_tls=False)
        return Server(handler, control, rec, args.mode, **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host=args.host, port=args.port,
        ssl=tls if args.mode == "smtps" else None, reuse_address=True))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    rec.event(event="ready", port=args.port, mode=args.mode)
    print("READY %d" % args.port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
