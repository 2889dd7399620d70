"""Alerts on abuse (issue 15 section 3): each kind provoked, its one
event=alert line (rate-limited: one per incident) and its metric."""

import json
import os
import subprocess
import time
import urllib.request

import harness
from harness import (SubmitdTest, SUBMITCTL, USER, USER2, PASSWORD2, RCPT,
                     free_port, wait_for)
from policy_util import login_from, mail


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=20) as r:
        return r.read().decode()


def value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no sample %s" % name)


class AlertTest(SubmitdTest):
    ALERTS = ()

    def setUp(self):
        self.MPORT = free_port()
        self.EXTRA_CONF = ("metrics listen on 127.0.0.1 port %d" % self.MPORT,
                           "limit auth-failures 100 per hour per ip",
                           ) + self.ALERTS
        super().setUp()

    def alerts(self, kind):
        return [l for l in self.submitd.log_text().splitlines()
                if "event=alert kind=%s" % kind in l]


class AuthFailureSurge(AlertTest):
    ALERTS = ("alert auth-failures 3 per 1h",)

    def test_surge_alerts_once(self):
        for i in range(3):
            login_from(self, "127.0.0.%d" % (2 + i), password="bad",
                       expect="535 5.7.8")
        self.assertEqual(self.alerts("auth-failures"), [])
        for i in range(3):      # the 4th crosses the limit, then no more
            login_from(self, "127.0.0.%d" % (5 + i), password="bad",
                       expect="535 5.7.8")
        wait_for(lambda: self.alerts("auth-failures"), 20, what="the alert")
        lines = self.alerts("auth-failures")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("failures=4 window=3600s limit=3", lines[0])
        self.assertEqual(value(scrape(self.MPORT),
                               "submitd_alert_auth_failures_total"), 1)


class QueueAge(AlertTest):
    ALERTS = ("alert queue-age 2s",)
    START_SMARTHOST = False     # the upstream is down: mail stays queued

    def test_old_queue_alerts_once(self):
        self.assertEqual(value(scrape(self.MPORT),
                               "submitd_alert_queue_age_total"), 0)
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        wait_for(lambda: self.alerts("queue-age"), 30, what="the alert")
        line = self.alerts("queue-age")[0]
        self.assertIn("limit=2s messages=1", line)
        self.assertEqual(value(scrape(self.MPORT),
                               "submitd_alert_queue_age_total"), 1)
        self.assertEqual(value(scrape(self.MPORT),
                               'submitd_queue_messages{state="deferred"}') +
                         value(scrape(self.MPORT),
                               'submitd_queue_messages{state="sending"}') +
                         value(scrape(self.MPORT),
                               'submitd_queue_messages{state="waiting"}'), 1)
        self.assertGreaterEqual(
            value(scrape(self.MPORT), "submitd_queue_oldest_seconds"), 2)
        # one line per incident, not one per check
        time.sleep(3)
        self.assertEqual(len(self.alerts("queue-age")), 1)


class UserSurgeHold(AlertTest):
    """A login sending more than 'alert user-messages' allows: one alert,
    and with 'hold' the login is held (MAIL 451 4.7.1, its queued mail
    held) until submitctl release-user; another login is untouched."""
    ALERTS = ("alert user-messages 2 per 1h hold",
              "alert user-recipients 100 per 1h")

    def ctl(self, *args, rc=0):
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "submitctl %s: %s%s"
                             % (" ".join(args), p.stdout, p.stderr))
        return p

    def queue(self):
        return json.loads(self.ctl("show", "queue", "--json").stdout)["messages"]

    def send(self, user=USER, password=None, expect="250 2.0.0"):
        kw = {} if password is None else {"password": password}
        c, _ = login_from(self, "127.0.0.1", user=user, **kw)
        r = mail(c, frm=user)
        self.assertReply(r, expect)
        c.close()
        return r

    def test_hold_and_release(self):
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", rc=None).returncode == 0, 20,
                 what="the control socket")
        self.ctl("pause", "relay")      # nothing in flight: all can be held
        self.send()
        self.send()
        self.send(USER2, PASSWORD2)
        self.assertEqual(self.alerts("user-messages"), [])
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 0)
        self.send()                     # the third in the window: past 2
        wait_for(lambda: self.alerts("user-messages"), 20, what="the alert")
        lines = self.alerts("user-messages")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('user="%s" messages=3 window=3600s limit=2 hold=yes'
                      % USER, lines[0])
        self.assertIn('event=user-held user="%s" reason=user-messages'
                      % USER, self.submitd.log_text())
        # its queued mail held, bob's not
        wait_for(lambda: len([m for m in self.queue()
                              if m["state"] == "held"]) == 3, 20,
                 what="alice's three messages held")
        for m in self.queue():
            self.assertEqual(m["state"] == "held", m["user"] == USER, m)
        # its next MAIL refused, bob still sends
        self.send(expect="451 4.7.1")
        self.send(USER2, PASSWORD2)
        self.assertEqual(len(self.alerts("user-messages")), 1)
        text = scrape(self.MPORT)
        self.assertEqual(value(text, "submitd_alert_user_messages_total"), 1)
        self.assertEqual(value(text, "submitd_alert_user_recipients_total"),
                         0)
        self.assertEqual(value(text, "submitd_users_held"), 1)
        self.assertEqual(value(text, "submitd_user_holds_total"), 1)
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(),
                         USER)
        self.assertEqual(json.loads(self.ctl("show", "held-users",
                                             "--json").stdout),
                         {"held": [USER]})
        # released: alice sends again; her held mail waits for the operator
        out = self.ctl("release-user", USER).stdout
        self.assertIn("may send again", out)
        self.assertIn('event=user-released user="%s" by=control' % USER,
                      self.submitd.log_text())
        self.send()
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 0)
        self.assertEqual(len([m for m in self.queue()
                              if m["state"] == "held"]), 3)
        p = self.ctl("release-user", USER, rc=1)
        self.assertIn("was not held", p.stdout + p.stderr)
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(),
                         "no login is held")

    def kill9_restart(self):
        """kill -9 the parent, wait for its roles to let the ports go
        (they exit when they see it gone), start again (harness)."""
        self.submitd.kill9_restart()
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", rc=None).returncode == 0, 20,
                 what="the control socket")

    def test_hold_survives_kill9(self):
        """The hold is kept in the state store (LMDB here): kill -9 and a
        fresh start do not release the login; release-user still does."""
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", rc=None).returncode == 0, 20,
                 what="the control socket")
        for _ in range(3):
            self.send()
        wait_for(lambda: self.alerts("user-messages"), 20, what="the alert")
        self.send(expect="451 4.7.1")
        time.sleep(1.5)     # the store's one-second sync (a power cut)
        self.kill9_restart()
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(),
                         USER)
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 1)
        self.send(expect="451 4.7.1")
        self.send(USER2, PASSWORD2)
        # no new alert, no new hold: the one before the restart holds
        self.assertEqual(len(self.alerts("user-messages")), 1)
        self.assertIn("may send again",
                      self.ctl("release-user", USER).stdout)
        self.send()
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 0)
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(),
                         "no login is held")
        # released in the store too: another restart keeps it released
        self.kill9_restart()
        self.send()


class UserRefusedHold(AlertTest):
    """The stolen-password signature: spam to dead addresses that the
    upstream refuses with 550 5.1.1.  The queue tells the auth role what
    the relay got per recipient (the login of the commit's grant, never
    the smtp role's word): past 'alert user-refused-recipients' in the
    window one alert, the login held until release-user."""
    ALERTS = ("alert user-refused-recipients 2 per 1h hold",
              "metrics top-users 2")
    DEAD = ("dead1@example.com", "dead2@example.com", "dead3@example.com")

    ctl = UserSurgeHold.ctl
    send = UserSurgeHold.send

    def send_to(self, rcpts, expect="250 2.0.0"):
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c, rcpts=rcpts), expect)
        c.close()

    def test_refused_recipients_hold_and_release(self):
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", rc=None).returncode == 0, 20,
                 what="the control socket")
        self.smarthost.set_control({"rcpt": {
            d: "550 5.1.1 No such user here" for d in self.DEAD}})
        # two of three refused: at the limit, no alert
        self.send_to((RCPT, self.DEAD[0], self.DEAD[1]))
        wait_for(lambda: self.submitd.log_text().count("event=bounce ")
                 >= 2, 30, what="the two refusals")
        self.assertEqual(self.alerts("user-refused-recipients"), [])
        text = scrape(self.MPORT)
        self.assertEqual(value(text, 'submitd_relay_refused_recipients_total'
                               '{class="5xx",subject="5.1"}'), 2)
        self.assertEqual(value(text, 'submitd_user_refused_recipients_total'
                               '{user="%s"}' % USER), 2)
        self.assertEqual(value(text, "submitd_users_held"), 0)
        # bob's refusals are his own
        c, _ = login_from(self, "127.0.0.1", user=USER2, password=PASSWORD2)
        self.assertReply(mail(c, frm=USER2, rcpts=(self.DEAD[2],)),
                         "250 2.0.0")
        c.close()
        wait_for(lambda: self.submitd.log_text().count("event=bounce ")
                 >= 3, 30, what="bob's refusal")
        self.assertEqual(self.alerts("user-refused-recipients"), [])
        # the third of alice's: past 2 in the window
        self.send_to((self.DEAD[2],))
        wait_for(lambda: self.alerts("user-refused-recipients"), 30,
                 what="the alert")
        lines = self.alerts("user-refused-recipients")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('event=alert kind=user-refused-recipients user="%s" '
                      'refused=3 window=3600s limit=2 hold=yes' % USER,
                      lines[0])
        self.assertIn('event=user-held user="%s" '
                      'reason=user-refused-recipients' % USER,
                      self.submitd.log_text())
        self.send(expect="451 4.7.1")
        self.send(USER2, PASSWORD2)
        text = scrape(self.MPORT)
        self.assertEqual(value(text, 'submitd_relay_refused_recipients_total'
                               '{class="5xx",subject="5.1"}'), 4)
        self.assertEqual(value(text, 'submitd_relay_refused_recipients_total'
                               '{class="4xx",subject="4.1"}'), 0)
        self.assertEqual(value(text, 'submitd_user_refused_recipients_total'
                               '{user="%s"}' % USER), 3)
        self.assertEqual(value(text, 'submitd_user_refused_recipients_total'
                               '{user="%s"}' % USER2), 1)
        self.assertEqual(value(
            text, "submitd_alert_user_refused_recipients_total"), 1)
        self.assertEqual(value(text, "submitd_users_held"), 1)
        self.assertEqual(value(text, "submitd_user_holds_total"), 1)
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(), USER)
        self.assertIn("may send again",
                      self.ctl("release-user", USER).stdout)
        self.send()
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 0)
        self.assertEqual(len(self.alerts("user-refused-recipients")), 1)


# alert user-surge windows are aligned on the clock (as submitd's store
# keeps them): short ones here, stretched under valgrind
SURGE_W = 5 * harness.SLOW


def into_next_window(w=SURGE_W):
    """Sleeps into the next window of W seconds, a little past its start;
    returns its index."""
    time.sleep(w - time.time() % w + 0.3)
    return int(time.time() // w)


class SurgeTest(AlertTest):
    ctl = UserSurgeHold.ctl
    queue = UserSurgeHold.queue
    send = UserSurgeHold.send

    def send_window(self, n, user=USER, password=None):
        """N messages in one session, all within the window they start in;
        returns that window's index."""
        idx = into_next_window()
        kw = {} if password is None else {"password": password}
        c, _ = login_from(self, "127.0.0.1", user=user, **kw)
        for _ in range(n):
            self.assertReply(mail(c, frm=user), "250 2.0.0")
        c.close()
        self.assertEqual(int((time.time() + 0.5) // SURGE_W), idx,
                         "the machine stalled: the messages left their "
                         "%ds window" % SURGE_W)
        return idx


class UserSurge(SurgeTest):
    """'alert user-surge': a login's messages in the current window
    against its own average per window before it.  A baseline of one
    message a window for three windows (average 1.00), then a window of
    four: the third is exactly 3x (no alert), the fourth is over it: one
    line, the metric, and with hold the login is held as by the other
    user alerts until release-user."""
    ALERTS = ("alert user-surge 3x per %ds over %ds min 3 hold"
              % (SURGE_W, 10 * SURGE_W),)

    def test_surge_hold_and_release(self):
        wait_for(lambda: os.path.exists(self.control_sock) and
                 self.ctl("show", "queue", rc=None).returncode == 0, 20,
                 what="the control socket")
        self.ctl("pause", "relay")      # nothing in flight: all can be held
        first = self.send_window(1)
        self.assertEqual(self.send_window(1), first + 1)
        self.assertEqual(self.send_window(1), first + 2)
        self.assertEqual(self.alerts("user-surge"), [])
        # four in the next window: 3 is 3x the average, 4 is over it
        self.assertEqual(self.send_window(4), first + 3)
        wait_for(lambda: self.alerts("user-surge"), 20, what="the alert")
        lines = self.alerts("user-surge")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('event=alert kind=user-surge user="%s" messages=4 '
                      'window=%ds average=1.00 windows=3 baseline=%ds '
                      'factor=3 min=3 hold=yes'
                      % (USER, SURGE_W, 10 * SURGE_W), lines[0])
        self.assertIn('event=user-held user="%s" reason=user-surge' % USER,
                      self.submitd.log_text())
        # held as by the other user alerts: MAIL 451 4.7.1, her queued
        # mail held, bob untouched
        self.send(expect="451 4.7.1")
        self.send(USER2, PASSWORD2)
        wait_for(lambda: len([m for m in self.queue()
                              if m["state"] == "held"]) == 7, 20,
                 what="alice's seven messages held")
        for m in self.queue():
            self.assertEqual(m["state"] == "held", m["user"] == USER, m)
        text = scrape(self.MPORT)
        self.assertEqual(value(text, "submitd_alert_user_surge_total"), 1)
        self.assertEqual(value(text, "submitd_alert_user_messages_total"), 0)
        self.assertEqual(value(text, "submitd_users_held"), 1)
        self.assertEqual(value(text, "submitd_user_holds_total"), 1)
        self.assertEqual(self.ctl("show", "held-users").stdout.strip(), USER)
        self.assertIn("may send again",
                      self.ctl("release-user", USER).stdout)
        self.assertIn('event=user-released user="%s" by=control' % USER,
                      self.submitd.log_text())
        self.send()
        self.assertEqual(value(scrape(self.MPORT), "submitd_users_held"), 0)
        self.assertEqual(len(self.alerts("user-surge")), 1)


class UserSurgeSteady(SurgeTest):
    """A login's steady rate does not alert, even over min (where a fixed
    'alert user-messages 2 per WINDOW' would); the same login far above
    it does, against the average it kept."""
    ALERTS = ("alert user-surge 2x per %ds over %ds min 3"
              % (SURGE_W, 10 * SURGE_W),)

    def test_steady_rate_does_not_alert(self):
        first = self.send_window(2)     # no history: below min
        for i in range(1, 4):           # 3 a window: <= 2x the average
            self.assertEqual(self.send_window(3), first + i)
        self.send(USER2, PASSWORD2)     # bob: nothing of alice's
        time.sleep(1)
        self.assertEqual(self.alerts("user-surge"), [])
        self.assertEqual(value(scrape(self.MPORT),
                               "submitd_alert_user_surge_total"), 0)
        # 2.75 on average over 4 windows: 6 is over 2x
        self.assertEqual(self.send_window(6), first + 4)
        wait_for(lambda: self.alerts("user-surge"), 20, what="the alert")
        lines = self.alerts("user-surge")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('event=alert kind=user-surge user="%s" messages=6 '
                      'window=%ds average=2.75 windows=4 baseline=%ds '
                      'factor=2 min=3 hold=no'
                      % (USER, SURGE_W, 10 * SURGE_W), lines[0])
        self.assertNotIn("event=user-held", self.submitd.log_text())
        self.send()                     # no hold: she still sends
        self.assertEqual(value(scrape(self.MPORT),
                               "submitd_alert_user_surge_total"), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
