"""Alerts on abuse (issue 15 section 3): each kind provoked, its one
event=alert line (rate-limited: one per incident) and its metric."""

import urllib.request

import harness
from harness import SubmitdTest, USER, free_port, wait_for
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
        import time
        time.sleep(3)
        self.assertEqual(len(self.alerts("queue-age")), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
