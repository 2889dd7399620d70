"""The metrics endpoint (issue 15 section 1): "metrics listen on ADDR port
N" served by the metrics role; a scrape taken while sessions submit mail
passes Debian's `promtool check metrics`; the OpenMetrics form ends in
"# EOF"; a real Prometheus scraping it sees a counter move after a
submission; the control socket does not answer "metrics"."""

import json
import os
import re
import shutil
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import (SubmitdTest, SUBMITCTL, USER, USER2, PASSWORD2, RCPT,
                     free_port, wait_for)
from policy_util import login_from, mail

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def scrape(port, accept=None, path="/metrics"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def value(text, name):
    """The value of the sample NAME (with its labels, as written)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no sample %s in:\n%s" % (name, text))


class Metrics(SubmitdTest):

    def setUp(self):
        self.MPORT = free_port()
        self.EXTRA_CONF = ("metrics listen on 127.0.0.1 port %d"
                           % self.MPORT,)
        super().setUp()
        wait_for(lambda: harness.port_open("127.0.0.1", self.MPORT), 20,
                 what="the metrics listener")

    def send_one(self):
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        c.close()

    def test_scrape_under_load_passes_promtool(self):
        errors, stop = [], threading.Event()

        def load():
            try:
                while not stop.is_set():
                    self.send_one()
            except Exception as e:      # reported below
                errors.append(e)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        scrapes = []
        try:
            wait_for(lambda: len(self.smarthost.messages()) >= 2, 60,
                     what="mail flowing")
            for _ in range(5):
                scrapes.append(scrape(self.MPORT))
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(errors, [])
        for status, ctype, text in scrapes:
            self.assertEqual(status, 200)
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"),
                            ctype)
        text = scrapes[-1][2]
        if PROMTOOL:
            p = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)
            self.assertEqual(p.stdout + p.stderr, "", text)
        self.assertGreaterEqual(
            value(text, 'submitd_auth_total{result="ok"}'), 2)
        self.assertGreaterEqual(
            value(text, "submitd_messages_accepted_total"), 1)
        self.assertGreaterEqual(
            value(text, 'submitd_connections_total{outcome="accepted"}'), 2)
        self.assertIn("submitd_delivery_delay_seconds_bucket", text)

    def test_openmetrics_and_counters(self):
        # from another address than send_one's: a failure holds its
        # address back a second (limit auth-delay)
        login_from(self, "127.0.0.2", password="wrong", expect="535 5.7.8")
        self.send_one()
        self.smarthost.wait_messages(1, timeout=30)

        def delivered():
            t = scrape(self.MPORT)[2]
            return value(t, 'submitd_relay_replies_total{class="2xx"}') >= 1
        wait_for(delivered, 30, what="the delivery counted")
        status, ctype, text = scrape(
            self.MPORT, "application/openmetrics-text;version=1.0.0")
        self.assertTrue(ctype.startswith("application/openmetrics-text"))
        self.assertTrue(text.endswith("# EOF\n"), text[-200:])
        self.assertIn("# TYPE submitd_auth counter\n", text)
        self.assertEqual(value(text, 'submitd_auth_total{result="ok"}'), 1)
        self.assertEqual(
            value(text, 'submitd_auth_total{result="bad-password"}'), 1)
        self.assertEqual(value(text, "submitd_messages_accepted_total"), 1)
        self.assertEqual(value(text, 'submitd_queue_messages{state="held"}'),
                         0)
        self.assertEqual(value(text, "submitd_delivery_delay_seconds_count"),
                         1)
        with self.assertRaises(urllib.error.HTTPError) as e:
            scrape(self.MPORT, path="/other")
        self.assertEqual(e.exception.code, 404)
        # the control socket has no such command: only the metrics role
        # asks for it, on its own channel
        wait_for(lambda: os.path.exists(self.control_sock), 10,
                 what="control socket")
        p = subprocess.run([SUBMITCTL, "-s", self.control_sock, "metrics"],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown command", p.stdout + p.stderr)

    @unittest.skipUnless(PROMETHEUS, "prometheus (Debian) missing")
    def test_real_prometheus_sees_a_counter_move(self):
        pport = free_port()
        d = os.path.join(self.dir, "prometheus")
        os.mkdir(d)
        cfg = os.path.join(d, "prometheus.yml")
        harness.write_file(cfg, (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: submitd\n"
            "    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n" % self.MPORT))
        log = open(os.path.join(d, "prometheus.log"), "w")
        p = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(d, "data"),
             "--web.listen-address=127.0.0.1:%d" % pport],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=d)

        def stop():
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        self.addCleanup(stop)
        base = "http://127.0.0.1:%d" % pport

        def query(expr):
            url = base + "/api/v1/query?query=" + urllib.parse.quote(expr)
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    res = json.load(r)["data"]["result"]
            except (OSError, ValueError, KeyError):
                return None
            return float(res[0]["value"][1]) if res else None

        wait_for(lambda: query("submitd_messages_accepted_total") == 0, 90,
                 step=0.5, what="Prometheus to scrape submitd")
        self.assertEqual(query('up{job="submitd"}'), 1)
        self.send_one()
        wait_for(lambda: query("submitd_messages_accepted_total") == 1, 90,
                 step=0.5, what="the counter to move in Prometheus")
        wait_for(lambda: query('submitd_auth_total{result="ok"}') == 1, 30,
                 step=0.5, what="the AUTH counter in Prometheus")


class SmtpRoleMetrics(SubmitdTest):
    """The smtp role's counters (issue 15): connections by listener, TLS
    handshakes failed, session-cap refusals, sessions open, and the
    connect->250 and end-of-DATA->250 histograms, exact after known
    sessions; the smtp role reports them to the auth role once a second,
    so each expected value is polled for."""

    def setUp(self):
        self.MPORT = free_port()
        self.EXTRA_CONF = ("metrics listen on 127.0.0.1 port %d"
                           % self.MPORT, "limit sessions 3 per ip")
        super().setUp()
        wait_for(lambda: harness.port_open("127.0.0.1", self.MPORT), 20,
                 what="the metrics listener")

    def connects(self, listener):
        return len(re.findall(r"event=connect ip=\S+ listener=%s\b"
                              % listener, self.submitd.log_text()))

    def expect(self, want, timeout=30):
        """Poll until every NAME in WANT has its value; the last scrape."""
        last = {}

        def ok():
            t = scrape(self.MPORT)[2]
            last["text"] = t
            return all(value(t, k) == v for k, v in want.items())
        try:
            wait_for(ok, timeout, step=0.2, what="the smtp role's counters")
        except AssertionError:
            got = {k: value(last["text"], k) for k in want}
            self.maxDiff = None
            self.assertEqual(got, want)
        return last["text"]

    def test_smtp_role_counters(self):
        base_starttls = self.connects("starttls")
        base_tls = self.connects("tls")
        # a failed handshake on the tls listener, one after STARTTLS
        c = self.connect(port=self.P2)
        c.send(b"EHLO not-tls\r\n")
        self.assertTrue(c.closed(timeout=20))
        c = self.connect()
        self.assertReply(c.reply(), "220 ")
        self.assertReply(c.ehlo(), "250")
        self.assertReply(c.cmd("STARTTLS"), "220")
        c.send(b"\x16\x03\x01\x00\x05garbage\r\n")
        self.assertTrue(c.closed(timeout=20))
        # two messages on one session, one on another
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c), "250 2.0.0")
        self.assertReply(mail(c), "250 2.0.0")
        d, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(d), "250 2.0.0")
        # refused: a sender not alice's, a SIZE= too big, a From: not hers
        self.assertReply(d.cmd("MAIL FROM:<mallory@evil.test>"), "553 5.7.1")
        self.assertReply(d.cmd("MAIL FROM:<%s> SIZE=999999999" % USER),
                         "552 5.3.4")
        self.assertReply(d.cmd("MAIL FROM:<%s>" % USER), "250")
        self.assertReply(d.cmd("RCPT TO:<%s>" % RCPT), "250")
        self.assertReply(d.cmd("DATA"), "354")
        d.send(harness.dot_data(harness.sample_message(
            frm="mallory@evil.test")))
        self.assertReply(d.reply(), "5")
        # three open from 127.0.0.1 (c, d, e): the fourth is refused
        e = self.connect()
        self.assertReply(e.reply(), "220 ")
        f = self.connect()
        self.assertReply(f.reply(), "421 4.7.0")
        self.assertEqual(self.connects("starttls"), base_starttls + 5)
        self.assertEqual(self.connects("tls"), base_tls + 1)
        text = self.expect({
            'submitd_smtp_connections_total{listener="starttls"}':
                base_starttls + 5,
            'submitd_smtp_connections_total{listener="tls"}': base_tls + 1,
            # the harness's probes of the port (connect, close) count too
            'submitd_tls_handshakes_failed_total{listener="tls"}':
                base_tls + 1,
            'submitd_tls_handshakes_failed_total{listener="starttls"}': 1,
            'submitd_session_cap_refusals_total{cap="sessions-per-ip"}': 1,
            'submitd_session_cap_refusals_total{cap="sessions"}': 0,
            "submitd_sessions_open": 3,
            'submitd_messages_refused_total{reason="sender"}': 1,
            'submitd_messages_refused_total{reason="size"}': 1,
            'submitd_messages_refused_total{reason="from"}': 1,
            'submitd_messages_refused_total{reason="quota"}': 0,
            'submitd_messages_refused_total{reason="spam"}': 0,
            "submitd_connect_to_250_seconds_count": 2,
            'submitd_connect_to_250_seconds_bucket{le="+Inf"}': 2,
            "submitd_data_to_250_seconds_count": 3,
            'submitd_data_to_250_seconds_bucket{le="+Inf"}': 3,
        })
        self.assertGreater(value(text, "submitd_data_to_250_seconds_sum"), 0)
        self.assertGreaterEqual(
            value(text, "submitd_connect_to_250_seconds_sum"),
            value(text, "submitd_data_to_250_seconds_sum") / 3)
        if PROMTOOL:
            p = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)
            self.assertEqual(p.stdout + p.stderr, "", text)
        for x in (c, d, e, f):
            x.close()
        self.expect({"submitd_sessions_open": 0})


class TopUsersAndPacing(SubmitdTest):
    """'metrics top-users 1': per-login counters for the login that sent
    the most only (bob's absent); relay limit messages: sends and waits
    per upstream login and the seconds until its next send."""

    def setUp(self):
        self.MPORT = free_port()
        self.EXTRA_CONF = ("metrics listen on 127.0.0.1 port %d"
                           % self.MPORT, "metrics top-users 1",
                           "relay limit messages 1 per 1h")
        super().setUp()
        wait_for(lambda: harness.port_open("127.0.0.1", self.MPORT), 20,
                 what="the metrics listener")

    def test_top_users_and_pacing(self):
        c, _ = login_from(self, "127.0.0.1")
        self.assertReply(mail(c, rcpts=(RCPT, "dave@example.com")),
                         "250 2.0.0")
        self.assertReply(mail(c), "250 2.0.0")
        d, _ = login_from(self, "127.0.0.1", user=USER2, password=PASSWORD2)
        self.assertReply(mail(d, frm=USER2), "250 2.0.0")
        self.smarthost.wait_messages(1, timeout=30)
        login = harness.UP_LOGIN

        def paced():
            t = scrape(self.MPORT)[2]
            return value(t, 'submitd_pacing_waits_total{login="%s"}'
                         % login) >= 2
        wait_for(paced, 30, what="both messages held back by the pace")
        text = scrape(self.MPORT)[2]
        self.assertEqual(
            value(text, 'submitd_user_messages_total{user="%s"}' % USER), 2)
        self.assertEqual(
            value(text, 'submitd_user_recipients_total{user="%s"}' % USER),
            3)
        self.assertGreater(value(
            text, 'submitd_user_accepted_bytes_total{user="%s"}' % USER),
            0)
        self.assertNotIn(USER2, text)           # only the top 1
        self.assertEqual(value(
            text, 'submitd_pacing_sends_total{login="%s"}' % login), 1)
        # each of the two held back asked once: the next try is in an hour
        self.assertEqual(value(
            text, 'submitd_pacing_waits_total{login="%s"}' % login), 2)
        left = value(text, 'submitd_pacing_next_send_seconds{login="%s"}'
                     % login)
        self.assertTrue(3000 < left <= 3600, left)
        self.assertEqual(len(self.smarthost.messages()), 1)
        if PROMTOOL:
            p = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)
            self.assertEqual(p.stdout + p.stderr, "", text)


if __name__ == "__main__":
    unittest.main()
