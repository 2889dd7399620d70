"""Several instances sharing their counters through Redis (issue 17):
two submitd instances with their own spools and one redis-server of the
test's own (loopback high port, no persistence, an ACL user whose password
is read from a file).  A user's quota holds across both, also after a
restart of one; a lockout made through one holds on the other; Redis
killed: the configured fail mode with exact replies and one alert line,
Redis back: recovery without restart."""

import os
import unittest

from harness import SubmitdTest, USER, PASSWORD, wait_for
from policy_util import (auth_after_delay, connect_from, login_from, mail,
                         write_users)
from scaleout_util import (RedisServer, REDIS_USER, make_redis_tls,
                           second_instance)


class RedisTest(SubmitdTest):
    START_SUBMITD = False
    FAIL = "quotas fail closed lockouts fail open"
    LIMITS = ()
    B_UNIX = False      # B reaches Redis through its unix socket
    TLS = False         # Redis speaks TLS only: rediss:// ... ca FILE

    def setUp(self):
        import tempfile
        from harness import session_dir
        rdir = tempfile.mkdtemp(prefix="redis-", dir=session_dir())
        os.chmod(rdir, 0o755)
        self.tls = make_redis_tls(rdir) if self.TLS else None
        self.redis = RedisServer(rdir, tls=self.tls)
        self.addCleanup(self.redis.stop)
        self.redis.start()
        url = "redis://127.0.0.1:%d/3" % self.redis.port
        if self.TLS:
            url = 'rediss://127.0.0.1:%d/3" ca "%s' % (self.redis.port,
                                                        self.tls["ca"])
        self.EXTRA_CONF = ('state redis "%s" user %s '
                           'password-file "%s" %s' % (
                               url, REDIS_USER,
                               self.redis.password_file, self.FAIL),
                           ) + tuple(self.LIMITS)
        super().setUp()
        b_conf = self.EXTRA_CONF
        if self.B_UNIX:
            b_conf = tuple(x.replace("redis://127.0.0.1:%d/3" %
                                     self.redis.port,
                                     "unix:%s?db=3" % self.redis.sock)
                           for x in b_conf)
        self.b = second_instance(self, b_conf)

    def start_both(self):
        self.submitd.start()
        self.b.start()
        for s in (self.submitd, self.b):
            wait_for(lambda: "event=state-up" in s.log_text(), timeout=20,
                     what="the state to be up")


class SharedQuota(RedisTest):
    def test_quota_holds_across_instances_and_restart(self):
        write_users(self, "messages=10/hour")
        self.start_both()
        ca = self.session(self.submitd.ports[0][1])
        cb = self.session(self.b.P1)
        for i in range(10):
            self.assertReply(mail(ca if i % 2 == 0 else cb), "250 2.0.0",
                             "message %d" % (i + 1))
        self.assertReply(mail(ca), "451 4.7.1 Message quota reached")
        self.assertReply(mail(cb), "451 4.7.1 Message quota reached")
        # the counter lives in Redis, under the prefix, expiring
        self.assertIn("submitd:m/%s" % USER, self.redis.cli("-n", "3", "keys", "*"))
        ttl = int(self.redis.cli("-n", "3", "pttl", "submitd:m/%s" % USER))
        self.assertGreater(ttl, 0)
        self.assertLessEqual(ttl, 3600 * 1000 + 1)
        # all 10 delivered before the restart (none in flight to resend)
        self.assertEqual(len(self.smarthost.wait_messages(10)), 10)
        # a restarted instance still sees it
        cb.close()
        self.b.stop()
        self.b.start()
        wait_for(lambda: self.b.log_text().count("event=state-up") >= 2,
                 timeout=20, what="the state to be up again")
        cb = self.session(self.b.P1)
        self.assertReply(mail(cb), "451 4.7.1 Message quota reached")
        self.assertEqual(len(self.smarthost.messages()), 10)


class SharedHold(RedisTest):
    """Issue 15: a login held by an alert on A is held on B too (the hold
    is a record in Redis), and a release on A frees it on B."""
    LIMITS = ("alert user-messages 2 per 1h hold",)

    def test_hold_shared_and_released(self):
        import subprocess
        from harness import SUBMITCTL, USER2, PASSWORD2
        write_users(self)
        self.start_both()
        ca = self.session(self.submitd.ports[0][1])
        for i in range(3):
            self.assertReply(mail(ca), "250 2.0.0", "message %d" % (i + 1))
        wait_for(lambda: "event=alert kind=user-messages" in
                 self.submitd.log_text(), 20, what="the alert on A")
        self.assertReply(mail(ca), "451 4.7.1")
        wait_for(lambda: "submitd:held/%s" % USER in
                 self.redis.cli("-n", "3", "keys", "*"), 20,
                 what="the hold in Redis")
        cb = self.session(self.b.P1)
        self.assertReply(mail(cb), "451 4.7.1 Sending suspended")
        self.assertNotIn("event=alert", self.b.log_text())
        cbob = self.session(self.b.P1, user=USER2, password=PASSWORD2)
        self.assertReply(mail(cbob, frm=USER2), "250 2.0.0")
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock,
                            "release-user", USER], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("submitd:held/%s" % USER,
                         self.redis.cli("-n", "3", "keys", "*"))
        self.assertReply(mail(cb), "250 2.0.0")


class SharedSurge(RedisTest):
    """Issue 15, alert user-surge with Redis: the history of a login is
    one record in Redis (submitd:surge/LOGIN, expiring), so both instances
    count into it and judge against it: one message a window on A, B, A,
    then two on A and two on B in one window: B's (the fourth) alerts,
    against the average 1.00 over 3 windows both made."""

    def setUp(self):
        from test_alerts import SURGE_W
        self.W = SURGE_W
        self.LIMITS = ("alert user-surge 3x per %ds over %ds min 3"
                       % (SURGE_W, 10 * SURGE_W),)
        super().setUp()

    def window(self, plan):
        """PLAN: (port, messages) sessions, all within the next window;
        returns its index."""
        import time
        from test_alerts import into_next_window
        idx = into_next_window(self.W)
        for port, n in plan:
            c = self.session(port)
            for _ in range(n):
                self.assertReply(mail(c), "250 2.0.0")
            c.close()
        self.assertEqual(int((time.time() + 0.5) // self.W), idx,
                         "the machine stalled: the messages left their "
                         "window")
        return idx

    def test_history_shared(self):
        write_users(self)
        self.start_both()
        a, b = self.submitd.ports[0][1], self.b.P1
        first = self.window(((a, 1),))
        self.assertEqual(self.window(((b, 1),)), first + 1)
        self.assertEqual(self.window(((a, 1),)), first + 2)
        keys = self.redis.cli("-n", "3", "keys", "*")
        self.assertIn("submitd:surge/%s" % USER, keys)
        ttl = int(self.redis.cli("-n", "3", "pttl",
                                 "submitd:surge/%s" % USER))
        self.assertGreater(ttl, 0)
        self.assertLessEqual(ttl, 11 * self.W * 1000)
        self.assertEqual(self.window(((a, 2), (b, 2))), first + 3)
        wait_for(lambda: "event=alert kind=user-surge" in self.b.log_text(),
                 20, what="the alert on B")
        lines = [l for l in self.b.log_text().splitlines()
                 if "event=alert kind=user-surge" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('user="%s" messages=4 window=%ds average=1.00 '
                      'windows=3 baseline=%ds factor=3 min=3 hold=no'
                      % (USER, self.W, 10 * self.W), lines[0])
        self.assertNotIn("kind=user-surge", self.submitd.log_text())


class ParallelAcrossInstances(RedisTest):
    """20 parallel sessions of one login, half on each instance, under
    messages=3/hour: exactly 3 accepted in all (the reservation at MAIL is
    one atomic script run in Redis)."""

    LIMITS = ("limit sessions 100", "limit sessions 40 per ip",
              "limit connections 1000 per minute per ip")
    N = 20

    def test_exactly_the_limit_across_both(self):
        import threading
        from harness import RCPT, dot_data, sample_message
        write_users(self, "messages=3/hour")
        self.start_both()
        clients = [self.session(self.submitd.ports[0][1] if i % 2 else
                                self.b.P1) for i in range(self.N)]
        barrier = threading.Barrier(self.N)
        results = [None] * self.N

        def run(i):
            c = clients[i]
            barrier.wait(60)
            r = c.cmd("MAIL FROM:<%s>" % USER)
            if r.code == 250:
                r = c.cmd("RCPT TO:<%s>" % RCPT)
            if r.code == 250:
                r = c.cmd("DATA")
                if r.code == 354:
                    c.send(dot_data(sample_message()))
                    r = c.reply()
            results[i] = r

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(self.N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        codes = [r.code for r in results]
        self.assertEqual(codes.count(250), 3, results)
        for r in results:
            if r.code != 250:
                self.assertReply(r, "451 4.7.1")
        for c in clients:
            c.cmd("QUIT")
        for port in (self.submitd.ports[0][1], self.b.P1):
            c = self.session(port)
            self.assertReply(c.cmd("MAIL FROM:<%s>" % USER), "451 4.7.1")


class SharedPacing(RedisTest):
    """relay limit messages 5 per 2s with state redis: both instances
    take a send token per message in Redis, so the smarthost sees at most
    5 messages in any 2 s window whichever instance sends them."""

    LIMITS = ("relay limit messages 5 per 2s",)
    N, PER, WINDOW = 16, 5, 2.0

    def test_pace_holds_across_instances(self):
        self.start_both()
        self.check_pace()

    def check_pace(self):
        import time
        ca = self.session(self.submitd.ports[0][1])
        cb = self.session(self.b.P1)
        for i in range(self.N):
            self.assertReply(mail(ca if i % 2 == 0 else cb), "250 2.0.0")
        self.smarthost.wait_messages(self.N, timeout=60)
        time.sleep(self.WINDOW)
        times = sorted(e["time"] for e in self.smarthost.events("mail"))
        self.assertEqual(len(times), self.N)
        for i in range(len(times) - self.PER):
            self.assertGreaterEqual(times[i + self.PER] - times[i],
                                    self.WINDOW - 0.1, times)
        # held back by the shared limit, not only by each one's own
        self.assertIn('reason="relay limit messages (shared)"',
                      self.submitd.log_text() + self.b.log_text())

    def test_pacing_fails_closed_then_resumes(self):
        import time
        self.start_both()
        self.redis.stop()
        ca = self.session(self.submitd.ports[0][1])
        for i in range(3):
            self.assertReply(mail(ca), "250 2.0.0")
        wait_for(lambda: "shared pacing state down" in
                 self.submitd.log_text(), timeout=20, what="the wait")
        time.sleep(2)
        self.assertEqual(len(self.smarthost.messages()), 0)
        self.assertEqual(len([f for f in os.listdir(self.spool)
                              if not f.startswith(".")]) > 0, True)
        self.redis.start()
        self.assertEqual(len(self.smarthost.wait_messages(3, timeout=60)), 3)
        self.assertTrue(self.submitd.alive())


class SharedPacingTotal(SharedPacing):
    """relay limit messages 5 per 2s total (every upstream login
    together) with state redis: the one log "submitd:p/ total" in Redis,
    at most 5 in any 2 s across both instances."""

    LIMITS = ("relay limit messages 5 per 2s total",)

    def test_pace_holds_across_instances(self):
        import threading
        seen, stop = set(), threading.Event()

        def poll():     # the logs expire with their window: watch them
            while not stop.wait(0.2):
                seen.update(k for k in self.redis.cli(
                    "-n", "3", "keys", "submitd:p/*").split("\n") if k)

        t = threading.Thread(target=poll)
        self.start_both()
        t.start()
        try:
            self.check_pace()
        finally:
            stop.set()
            t.join(30)
        self.assertEqual(seen, {"submitd:p/ total"})

    test_pacing_fails_closed_then_resumes = None    # SharedPacing's


class SharedLockout(RedisTest):
    LIMITS = ("limit auth-failures 3 per 10m per ip",)
    B_UNIX = True

    def test_lockout_on_a_holds_on_b(self):
        self.start_both()
        for i in range(3):      # each after the delay of the one before
            c, _, _ = auth_after_delay(self, "127.0.0.2",
                                       password="wrong-%d" % i)
            c.close()
        # the other instance refuses the address before TLS...
        d = connect_from(self, "127.0.0.2", port=self.b.P1)
        self.assertReply(d.reply(), "554 5.7.1 Too many failed logins")
        # ...and the login name from elsewhere
        e = connect_from(self, "127.0.0.3", port=self.b.P1)
        self.assertReply(e.reply(), "220 ")
        self.assertReply(e.ehlo(), "250")
        e.starttls()
        self.assertReply(e.ehlo(), "250")
        self.assertReply(e.auth_plain(USER, PASSWORD), "454 4.7.0")
        self.assertIn("submitd:l/ip/127.0.0.2",
                      self.redis.cli("-n", "3", "keys", "*"))

    def test_remembered_address_across_instances(self):
        """Issue 12 item 3: the owner logged in through a, a brute-force
        run through b locks the login; the owner's address still gets in
        through b (the list of recent successes is in Redis)."""
        self.start_both()
        c, _ = login_from(self, "127.0.0.2")
        c.close()
        wait_for(lambda: "submitd:ok/127.0.0.2 %s" % USER in
                 self.redis.cli("-n", "3", "keys", "*"), timeout=20,
                 what="the remembered address")
        for i in range(3):
            e = connect_from(self, "127.0.0.%d" % (30 + i), port=self.b.P1)
            self.assertReply(e.reply(), "220 ")
            self.assertReply(e.ehlo(), "250")
            e.starttls()
            self.assertReply(e.ehlo(), "250")
            self.assertReply(e.auth_plain(USER, "guess"), "535 5.7.8")
            e.close()
        for src, want in (("127.0.0.40", "454 4.7.0"),
                          ("127.0.0.2", "235 2.7.0")):
            e = connect_from(self, src, port=self.b.P1)
            self.assertReply(e.reply(), "220 ")
            self.assertReply(e.ehlo(), "250")
            e.starttls()
            self.assertReply(e.ehlo(), "250")
            self.assertReply(e.auth_plain(USER, PASSWORD), want)
            e.close()


class SharedShowLimits(RedisTest):
    """submitctl show limits with state redis reads the counters and
    locks from Redis: what A charged shows on B, and the other way
    round; Redis down: an error, not this instance's guess."""

    LIMITS = ("limit auth-failures 3 per 10m per ip",)

    def ctl(self, inst, *args, ok=True):
        import subprocess
        from harness import SUBMITCTL
        sock = self.control_sock if inst is self.submitd else \
            inst.control_sock
        p = subprocess.run([SUBMITCTL, "-s", sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        return p

    def test_counters_and_locks_from_redis(self):
        import json
        write_users(self, "messages=10/hour")
        self.start_both()
        ca = self.session(self.submitd.ports[0][1])
        for _ in range(3):
            self.assertReply(mail(ca), "250 2.0.0")
        out = self.ctl(self.b, "show", "limits", USER).stdout
        self.assertIn("read from Redis", out)
        self.assertIn("messages: 3/10 per 3600s (7 left)", out)
        cb = self.session(self.b.P1)
        self.assertReply(mail(cb), "250 2.0.0")
        data = json.loads(self.ctl(self.submitd, "show", "limits",
                                   "--json").stdout)
        self.assertEqual(data["store"], "redis")
        me = [u for u in data["users"] if u["user"] == USER][0]
        self.assertEqual((me["messages"]["used"],
                          me["messages"]["remaining"]), (4, 6), data)
        self.assertFalse(me["locked"])
        # a lockout made through A, shown by B
        for i in range(3):      # each after the delay of the one before
            c, _, _ = auth_after_delay(self, "127.0.0.2",
                                       password="wrong-%d" % i)
            c.close()
        out = self.ctl(self.b, "show", "limits", "127.0.0.2").stdout
        self.assertIn("lockout ip/127.0.0.2 failures=3", out)
        data = json.loads(self.ctl(self.b, "show", "limits", "127.0.0.2",
                                   "--json").stdout)
        self.assertEqual([x["what"] for x in data["lockouts"]],
                         ["ip/127.0.0.2"], data)
        # lifted through B: gone for A too
        self.ctl(self.b, "unlock", "127.0.0.2")
        self.assertNotIn("lockout ip/", self.ctl(
            self.submitd, "show", "limits", "127.0.0.2").stdout)
        # Redis down: refused, saying why
        self.redis.stop()
        p = wait_for(lambda: (lambda x: x if x.returncode != 0 else None)(
            self.ctl(self.b, "show", "limits", USER, ok=False)),
            timeout=30, what="show limits to fail")
        self.assertIn("not answering", p.stdout + p.stderr)
        self.assertTrue(self.b.alive())


class RedisTLS(RedisTest):
    """state redis "rediss://..." ca FILE: Redis with a TLS port only and
    a certificate for 127.0.0.1 from a throwaway CA.  A verifies it
    against that CA: counters shared over TLS with B, which trusts a
    different CA: its check fails, one state-down alert saying why, and
    its fail mode (quotas fail closed) applies; A goes on."""

    TLS = True

    def setUp(self):
        super().setUp()
        b_conf = tuple(x.replace(self.tls["ca"], self.tls["wrong_ca"])
                       for x in self.EXTRA_CONF)
        self.b = second_instance(self, b_conf, name="b2")
        self.c = second_instance(self, self.EXTRA_CONF, name="c")

    def test_shared_over_tls_and_a_wrong_ca_fails_closed(self):
        write_users(self, "messages=3/hour")
        self.submitd.start()
        self.c.start()
        self.b.start()
        for s in (self.submitd, self.c):
            wait_for(lambda: "event=state-up" in s.log_text(), timeout=20,
                     what="the state to be up over TLS")
        ca = self.session(self.submitd.ports[0][1])
        cc = self.session(self.c.P1)
        for i in range(3):
            self.assertReply(mail(ca if i % 2 == 0 else cc), "250 2.0.0",
                             "message %d" % (i + 1))
        self.assertReply(mail(ca), "451 4.7.1 Message quota reached")
        self.assertReply(mail(cc), "451 4.7.1 Message quota reached")
        self.assertIn("submitd:m/%s" % USER,
                      self.redis.cli("-n", "3", "keys", "*"))
        # B does not trust the certificate: down, and says why
        wait_for(lambda: "event=alert kind=state-down" in self.b.log_text(),
                 timeout=20, what="B's state-down alert")
        alerts = [l for l in self.b.log_text().splitlines()
                  if "event=alert kind=state-down" in l]
        self.assertEqual(len(alerts), 1, alerts)
        self.assertIn("certificate verify failed", alerts[0])
        cb = self.session(self.b.P1)
        self.assertReply(cb.cmd("MAIL FROM:<%s>" % USER),
                         "451 4.3.0 The quota state is not available")
        self.assertNotIn("event=state-up", self.b.log_text())
        self.assertTrue(self.b.alive() and self.submitd.alive())
        self.assertEqual(len(self.smarthost.wait_messages(3)), 3)
        # Redis restarted (its counters gone: no persistence): A's TLS
        # connection breaks, A says so once and reconnects by itself
        self.redis.stop()
        wait_for(lambda: "event=alert kind=state-down" in
                 self.submitd.log_text(), timeout=30, what="A's alert")
        self.redis.start()
        wait_for(lambda: self.submitd.log_text().count("event=state-up") >= 2,
                 timeout=30, what="A to reconnect over TLS")
        self.assertReply(mail(ca), "250 2.0.0")


class RedisDown(RedisTest):
    """A: quotas fail closed, lockouts open; B: the other way round."""

    def setUp(self):
        super().setUp()
        b_conf = tuple(x.replace(self.FAIL, "quotas fail open lockouts fail "
                                 "closed") for x in self.EXTRA_CONF)
        self.b = second_instance(self, b_conf, name="b2")

    def test_fail_modes_alert_and_recovery(self):
        write_users(self, "messages=100/hour")
        self.start_both()
        ca = self.session(self.submitd.ports[0][1])
        self.assertReply(mail(ca), "250 2.0.0")
        self.redis.stop()
        # A: the quota cannot be checked: 451 4.3.0, nothing queued
        r = wait_for(lambda: (lambda x: x if x.code == 451 else None)(
            ca.cmd("MAIL FROM:<%s>" % USER)), timeout=20,
            what="451 while redis is down")
        self.assertReply(r, "451 4.3.0 The quota state is not available")
        # a new client on A still gets in (lockouts fail open)
        c2 = self.session(self.submitd.ports[0][1])
        self.assertReply(c2.cmd("MAIL FROM:<%s>" % USER), "451 4.3.0")
        # B: lockouts fail closed: refused at connect with 421 4.3.0
        d = connect_from(self, "127.0.0.1", port=self.b.P1)
        self.assertReply(d.reply(), "421 4.3.0 The lockout state is not "
                         "available")
        for s in (self.submitd, self.b):
            alerts = [l for l in s.log_text().splitlines()
                      if "event=alert kind=state-down" in l]
            self.assertEqual(len(alerts), 1, alerts)
        self.assertTrue(self.submitd.alive() and self.b.alive())
        # Redis back on the same port: both recover without a restart
        self.redis.start()
        for s in (self.submitd, self.b):
            wait_for(lambda: s.log_text().count("event=state-up") >= 2,
                     timeout=30, what="recovery")
        self.assertReply(mail(c2), "250 2.0.0")
        e = connect_from(self, "127.0.0.1", port=self.b.P1)
        self.assertReply(e.reply(), "220 ")
        self.assertEqual(len(self.smarthost.wait_messages(2)), 2)


if __name__ == "__main__":
    unittest.main()
