"""A real rspamd for the filter tests (issue 16): Debian's rspamd, started
in the foreground on loopback high ports with a minimal configuration in a
temp dir: no modules but a small Lua rule of the test's own, DNS pointed
at a closed loopback port, so that it talks to nothing but loopback.
Stopped by stop() (tests register it as a cleanup, so it runs on failure).

The Lua rule reads the Subject: FORCE-REJECT -> reject "Test says no",
FORCE-SOFT -> soft reject "Test says later", FORCE-HEADER -> add header
with milter add X-Submitd-Test and remove X-Remove-Me, FORCE-KEPT -> the
same and also remove From, Date, Message-ID and Received and add a Date
(fields a filter may not touch), FORCE-NUL-HEADER -> add header with a
field whose value holds a NUL beside X-Submitd-Test, FORCE-NUL-REJECT ->
reject "Test says no" with such a field.  GTUBE in the body is rspamd's
own reject ("Gtube pattern").  Scores, with the thresholds of CONF
(greylist 4, add header 6, rewrite subject 8, reject 15): SCORE-GREYLIST
in the Subject scores 4.5 (rspamd's greylist action, by its threshold:
no greylist module, no Redis, so every try is greylisted), SCORE-REWRITE
8.5 (rewrite subject, to "[SPAM-TEST] <subject>").  MAX_MESSAGE: rspamd's
max_message (50 MiB by default: a larger request is refused whole).

Also: SlowHttp, a stand-in HTTP server on loopback that answers
"no action" (or the reply it is given) after a delay, or never
(hang=True)."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import harness

RSPAMD = "/usr/bin/rspamd"

LUA = r"""
rspamd_config:register_symbol({
  name = 'SUBMITD_TEST', type = 'prefilter', priority = 10,
  callback = function(task)
    local s = task:get_subject() or ''
    if s:find('FORCE%-REJECT') then
      task:set_pre_result('reject', 'Test says no')
    elseif s:find('FORCE%-SOFT') then
      task:set_pre_result('soft reject', 'Test says later')
    elseif s:find('FORCE%-KEPT') then
      task:set_milter_reply({
        add_headers = {['X-Submitd-Test'] = 'rspamd was here',
                       ['Date'] = 'Thu, 01 Jan 1970 00:00:00 +0000'},
        remove_headers = {['From'] = 0, ['Date'] = 0, ['Message-ID'] = 0,
                          ['Received'] = 0, ['X-Remove-Me'] = 0}})
      task:set_pre_result('add header', 'Test adds')
    elseif s:find('FORCE%-NUL%-HEADER') then
      task:set_milter_reply({
        add_headers = {['X-Submitd-Nul'] = 'a\0b',
                       ['X-Submitd-Test'] = 'rspamd was here'}})
      task:set_pre_result('add header', 'Test adds')
    elseif s:find('FORCE%-NUL%-REJECT') then
      task:set_milter_reply({
        add_headers = {['X-Submitd-Nul'] = 'a\0b'}})
      task:set_pre_result('reject', 'Test says no')
    elseif s:find('FORCE%-HEADER') then
      task:set_milter_reply({
        add_headers = {['X-Submitd-Test'] = 'rspamd was here'},
        remove_headers = {['X-Remove-Me'] = 0}})
      task:set_pre_result('add header', 'Test adds')
    end
  end
})
rspamd_config:register_symbol({
  name = 'SUBMITD_SCORE_GREYLIST', score = 4.5, group = 'submitd',
  callback = function(task)
    if (task:get_subject() or ''):find('SCORE%-GREYLIST') then
      task:insert_result('SUBMITD_SCORE_GREYLIST', 1.0)
    end
  end
})
rspamd_config:register_symbol({
  name = 'SUBMITD_SCORE_REWRITE', score = 8.5, group = 'submitd',
  callback = function(task)
    if (task:get_subject() or ''):find('SCORE%-REWRITE') then
      task:insert_result('SUBMITD_SCORE_REWRITE', 1.0)
    end
  end
})
"""

CONF = """
options {
  pidfile = "%(d)s/rspamd.pid";
  dbdir = "%(d)s/db";
  tempdir = "%(d)s/tmp";
  url_tld = "%(d)s/tld.dat";
  dns { nameserver = ["127.0.0.1:%(dns)d"]; timeout = 0.1s; retransmits = 0; }
  local_addrs = [];
  %(options)s
}
logging { type = "file"; filename = "%(d)s/rspamd.log"; level = "info"; }
worker "normal" { bind_socket = "%(bind)s"; count = 1; task_timeout = 60s; }
worker "controller" { bind_socket = "127.0.0.1:%(cport)d"; count = 1; }
actions {
  reject = 15; rewrite_subject = 8; add_header = 6; greylist = 4;
  subject = "[SPAM-TEST] %%s";
}
lua = "%(d)s/test.lua";
"""


class Rspamd:
    """UNIX: the normal worker listens on the unix socket self.sock (in a
    directory of its own, "sock", mode 0755; the socket 0666) instead of
    a loopback port; /ping then goes to the controller's port."""

    def __init__(self, unix=False, max_message=None):
        self.d = tempfile.mkdtemp(prefix="submitd-rspamd-")
        os.chmod(self.d, 0o755)
        self.unix = unix
        self.port = harness.free_port()
        self.cport = harness.free_port()
        self.proc = None
        for sub in ("db", "tmp", "sock"):
            os.mkdir(os.path.join(self.d, sub))
        os.chmod(os.path.join(self.d, "sock"), 0o755)
        self.sock = os.path.join(self.d, "sock", "rspamd.sock")
        bind = ("%s mode=0666" % self.sock if unix
                else "127.0.0.1:%d" % self.port)
        harness.write_file(os.path.join(self.d, "tld.dat"), "com\norg\nnet\ntest\n")
        harness.write_file(os.path.join(self.d, "test.lua"), LUA)
        harness.write_file(os.path.join(self.d, "rspamd.conf"), CONF % {
            "d": self.d, "bind": bind, "cport": self.cport,
            "dns": harness.free_port(),
            "options": ("max_message = %d;" % max_message
                        if max_message is not None else "")})

    @property
    def url(self):
        """What submitd's filter statement names: the socket's path with
        UNIX, else the normal worker's URL."""
        return self.sock if self.unix else "http://127.0.0.1:%d" % self.port

    def start(self, timeout=120):
        args = [RSPAMD, "-c", os.path.join(self.d, "rspamd.conf"), "-f"]
        if os.getuid() == 0:
            # rspamd refuses root; its Debian user, owning the temp dir
            pw = pwd.getpwnam("_rspamd")
            for root, dirs, files in os.walk(self.d):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
            os.chown(self.d, pw.pw_uid, pw.pw_gid)
            args += ["-u", "_rspamd", "-g", "_rspamd"]
        out = open(os.path.join(self.d, "stdout.log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=out,
                                     start_new_session=True)
        out.close()
        # rspamd takes seconds to start on a loaded machine: poll /ping
        harness.wait_for(lambda: self.proc.poll() is not None or self.ping(),
                         timeout=timeout, step=0.25, what="rspamd /ping")
        if self.proc.poll() is not None:
            raise AssertionError("rspamd exited at start:\n" + self.log_tail())
        return self

    def ping(self):
        try:
            port = self.cport if self.unix else self.port
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % port,
                                        timeout=2) as r:
                ok = r.read().strip() == b"pong"
            # the controller may answer before the normal worker binds
            return ok and (not self.unix or os.path.exists(self.sock))
        except OSError:
            return False

    def log_tail(self, n=4000):
        text = ""
        for name in ("stdout.log", "rspamd.log"):
            try:
                with open(os.path.join(self.d, name), errors="replace") as f:
                    text += f.read()[-n:]
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc is not None:
            p, self.proc = self.proc, None
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
            except ProcessLookupError:
                pass
            try:        # its workers must not linger
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(self.d, True)


class SlowHttp:
    """An HTTP server on loopback answering rspamd's "no action" after
    DELAY seconds (messages whose Subject holds SLOW only), or never
    (HANG).  Records when each request arrived."""

    REPLY = (b'{"action":"no action","score":0.0,"required_score":15.0,'
             b'"messages":{}}')

    def __init__(self, delay=2.0, hang=False, reply=None):
        self.delay = delay
        self.hang = hang
        if reply is not None:
            self.REPLY = reply
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.conns = []
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _serve(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            while len(body) < length:
                chunk = c.recv(65536)
                if not chunk:
                    return
                body += chunk
            self.requests.append((time.time(), head, body))
            if self.hang:
                while not self.stopped:
                    time.sleep(0.1)
                return
            if b"SLOW" in body.split(b"\r\n\r\n", 1)[0]:
                time.sleep(self.delay)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(self.REPLY) + self.REPLY)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass
