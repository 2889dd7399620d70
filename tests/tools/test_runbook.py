"""The runbook, man/submitd-runbook.7: it renders with `mandoc -T lint`
clean (warnings and worse), and every submitctl and submitd command line
it names exists: each `submitctl VERB ...` matches one of the forms
`submitctl VERB -h` prints (lower-case words literal, upper-case words
and option arguments placeholders, [..] optional, a|b alternatives; the
placeholders never stand for the keyword ALL), and each `submitd` line
uses only the flags `submitd -h` lists.

PENDING holds the queue-control forms of issue 14 section 1b that
another change adds (hold/release/remove ALL or by user or sender, pause
and resume relay): a runbook line in that list that does not parse yet
is reported, not failed; once it parses, drop it from the list."""

import os
import re
import shlex
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
SUBMITCTL = os.path.join(BUILD, "submitctl")
SUBMITD = os.path.join(BUILD, "submitd")
RUNBOOK = os.path.join(ROOT, "man", "submitd-runbook.7")

# "verb first-argument" of forms not on main yet (issue 14, 1b).
PENDING = set()     # issue 14 1b landed: every form parses


def runbook_commands(path=RUNBOOK):
    """(line number, argv) of every submitctl/submitd command the page
    names: '# ' lines of literal displays and .Ql/.Dl/.Li macros."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = (re.match(r"^# (.*)$", line)
                 or re.match(r"^\.(?:Ql|Dl|Li) (.*)$", line))
            if not m:
                continue
            text = m.group(1)
            # the command only: up to a pipe or a redirection
            text = re.split(r"\s[|<>;]|\s&&", text)[0]
            try:
                argv = shlex.split(text)
            except ValueError:
                continue
            if argv and argv[0] in ("submitctl", "submitd"):
                # drop mdoc's trailing punctuation: ".Ql submitctl x ,"
                while argv and argv[-1] in (",", ".", ";", ")"):
                    argv.pop()
                out.append((n, argv))
    return out


def form_regex(form):
    """A usage form ("audit [-f config] [--as SENDER]") as a regex over
    the arguments, each preceded by a space."""
    parts = []
    prev_option = skip = False
    for tok in form.split():
        opens = len(tok) - len(tok.lstrip("["))
        core = tok.lstrip("[")
        closes = 0
        while core.endswith("]") and core.count("[") < core.count("]"):
            core = core[:-1]
            closes += 1
        if core == "<":             # "< password": stdin, not an argument
            skip = True
            continue
        if skip:
            skip = False
            continue
        if core == "...":
            rx = r"(?: \S+)*"
        elif prev_option and not core.startswith("-"):
            rx = r" (?!ALL\b)\S+"           # an option's argument
        else:
            alts = []
            for a in core.split("|"):
                if a == "ALL":
                    alts.append("ALL")     # the keyword, not a placeholder
                elif re.match(r"^[A-Z]", a):
                    alts.append(r"(?!ALL\b)\S+")
                else:
                    alts.append(re.escape(a))
            rx = " (?:%s)" % "|".join(alts)
        prev_option = core.startswith("-")
        parts.append("(?:" * opens + rx + ")?" * closes)
    return re.compile("^" + "".join(parts) + "$")


def usage_forms(verb):
    r = subprocess.run([SUBMITCTL, verb, "-h"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0 or not r.stdout.startswith("usage: submitctl "):
        return None
    return [f.strip() for f in
            r.stdout[len("usage: submitctl "):].strip().split(" | ")]


def submitctl_ok(argv):
    args = argv[1:]
    if args[:1] == ["-s"]:
        args = args[2:]
    if not args:
        return False, "no command"
    forms = usage_forms(args[0])
    if forms is None:
        return False, "submitctl %s -h: unknown command" % args[0]
    joined = " " + " ".join(args)
    for f in forms:
        if form_regex(f).match(joined):
            return True, f
    return False, "matches none of: %s" % " | ".join(forms)


def submitd_flags():
    r = subprocess.run([SUBMITD, "-h"], capture_output=True, text=True,
                       timeout=30)
    m = re.search(r"usage: submitd \[-([A-Za-z]+)\] \[-f file\]",
                  r.stdout + r.stderr)
    if not m:
        raise AssertionError("submitd -h printed no usage: %r"
                             % (r.stdout + r.stderr))
    return set(m.group(1)), {"f"}


class Runbook(unittest.TestCase):
    def test_mandoc_lint_clean(self):
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning",
                            RUNBOOK], capture_output=True, text=True)
        self.assertEqual(r.stdout + r.stderr, "")
        self.assertEqual(r.returncode, 0)

    def test_procedures(self):
        with open(RUNBOOK) as f:
            text = f.read()
        for title in ("OVH locked the account for spam",
                      "A user's password leaked",
                      "A brute-force run", "The certificate expired",
                      "DKIM key rotation", "The smarthost is down",
                      "The disk is full", "A queue backlog",
                      "Restoring the spool from a backup",
                      "Moving to a new server"):
            self.assertRegex(text, r"(?m)^\.Ss \d+\. " + re.escape(title))

    def test_every_command_exists(self):
        cmds = runbook_commands()
        self.assertGreater(len(cmds), 30)
        flags, with_arg = submitd_flags()
        pending = []
        for n, argv in cmds:
            with self.subTest(line=n, command=" ".join(argv)):
                if argv[0] == "submitd":
                    i = 1
                    while i < len(argv):
                        a = argv[i]
                        self.assertTrue(a.startswith("-") and len(a) > 1,
                                        "line %d: %r" % (n, a))
                        for c in a[1:]:
                            self.assertIn(c, flags | with_arg,
                                          "line %d: submitd -%s" % (n, c))
                        i += 2 if a[-1] in with_arg else 1
                    continue
                ok, why = submitctl_ok(argv)
                key = " ".join(argv[1:3])
                if not ok and key in PENDING:
                    pending.append("%d: %s" % (n, " ".join(argv)))
                    continue
                self.assertTrue(ok, "line %d: %s: %s"
                                % (n, " ".join(argv), why))
        if pending:
            print("\nrunbook: pending queue-control commands (issue 14 "
                  "1b) not on this tree yet:\n  " + "\n  ".join(pending))

    def test_checker_refuses(self):
        """The check itself: a wrong verb, a missing or extra argument,
        ALL where an ID is wanted."""
        self.assertFalse(submitctl_ok(["submitctl", "frobnicate"])[0])
        self.assertFalse(submitctl_ok(["submitctl", "remove"])[0])
        self.assertFalse(submitctl_ok(["submitctl", "reload", "now"])[0])
        self.assertFalse(submitctl_ok(["submitctl", "show", "queues"])[0])
        self.assertFalse(submitctl_ok(["submitctl", "audit", "--nope"])[0])
        self.assertTrue(submitctl_ok(["submitctl", "remove", "ID"])[0])
        self.assertTrue(submitctl_ok(["submitctl", "-s", "/x", "show",
                                      "message", "ABC"])[0])
        self.assertTrue(submitctl_ok(["submitctl", "audit", "--public-ip",
                                      "192.0.2.1"])[0])
        self.assertTrue(submitctl_ok(["submitctl", "check-upstream", "--as",
                                      "a@example.org"])[0])
        self.assertTrue(submitctl_ok(["submitctl", "dkim", "keygen", "-a",
                                      "rsa"])[0])
        forms = usage_forms("hold")
        if forms == ["hold ID"]:
            self.assertFalse(submitctl_ok(["submitctl", "hold", "ALL"])[0])
        rx = form_regex("hold ALL|ID")
        self.assertTrue(rx.match(" hold ALL"))
        self.assertTrue(rx.match(" hold 18C3AB"))
        self.assertFalse(form_regex("hold ID").match(" hold ALL"))


if __name__ == "__main__":
    unittest.main()
