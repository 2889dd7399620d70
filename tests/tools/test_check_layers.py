"""The layering check (tests/tools/check_layers.py): passes on the tree as
it is (its sources, and the objects of $BUILD), and fails, naming
file:line, on trees made wrong on purpose in a temporary directory: an
upward include (from a .c and from a .h), an include of a folder that is
not a floor, an include without a folder, a new folder of C sources that
takes no floor; and, on objects compiled there, an upward call hidden
from the include check and two files calling each other."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECK = os.path.join(HERE, "check_layers.py")


def run(*args):
    return subprocess.run(["/usr/bin/python3", CHECK] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


class TheTree(unittest.TestCase):
    def test_repository_layering_holds(self):
        r = run(ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertRegex(r.stdout, r"^check_layers: \d+ files, every "
                         r"include runs downward \(lib < conf < proto < dkim "
                         r"< auth < relay < queue < ctl < smtpd\)\n$")

    def test_repository_calls_run_downward(self):
        objdir = os.path.join(ROOT, os.environ.get("BUILD", "build"), "obj")
        self.assertTrue(os.path.isdir(objdir), "build first: no " + objdir)
        r = run("--calls", objdir, ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"check_layers: (\d+) objects, (\d+) file-to-file "
                      r"calls, every call runs downward, no circle but the "
                      r"kept ones\n$", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        # nm was read: dozens of objects, and they call each other
        self.assertGreater(int(m.group(1)), 50)
        self.assertGreater(int(m.group(2)), 100)

    def test_graph_lists_only_downward_edges(self):
        r = run("--graph", ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        floors = ["lib", "conf", "proto", "dkim", "auth", "relay", "queue",
                  "ctl", "smtpd"]
        edges = [l.split(" -> ") for l in r.stdout.splitlines()[:-1]]
        self.assertIn(["smtpd/", "queue/"], edges)
        for a, b in edges:
            self.assertGreater(floors.index(a.rstrip("/")),
                               floors.index(b.rstrip("/")), (a, b))
        self.assertNotIn("lib/", [a for a, _ in edges])


class WrongTrees(unittest.TestCase):
    """A small tree of two floors that is right, then made wrong."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="layers.")
        self.addCleanup(shutil.rmtree, self.root)
        self.write("lib/log.h", "#ifndef LOG_H\n#define LOG_H\n#endif\n")
        self.write("lib/log.c", '#include <stdio.h>\n\n#include "lib/log.h"\n')
        self.write("queue/queue.h", '#include "lib/log.h"\n')
        self.write("queue/queue.c", '#include "queue/queue.h"\n'
                   '#include "lib/log.h"\n')
        self.write("tests/unit/test_queue.c", '#include "smtpd/roles.h"\n'
                   '#include "queue/queue.h"\n#include "check_main.h"\n')

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def test_right_tree_passes(self):
        r = run(self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("check_layers: 4 files, every include runs downward",
                      r.stdout)

    def test_upward_include_in_a_source_fails(self):
        self.write("lib/log.c", '#include <stdio.h>\n\n#include "lib/log.h"\n'
                   '#include "queue/queue.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn('lib/log.c:4: #include "queue/queue.h" runs upward: '
                      'queue/ is above lib/ (floors, bottom to top: lib < '
                      'conf < proto < dkim < auth < relay < queue < ctl < '
                      'smtpd)\n', r.stderr)
        self.assertIn("check_layers: 1 problem(s) in 4 files", r.stderr)

    def test_upward_include_in_a_header_fails(self):
        self.write("lib/log.h", '#ifndef LOG_H\n#define LOG_H\n'
                   '#include "smtpd/roles.h"\n#endif\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn('lib/log.h:3: #include "smtpd/roles.h" runs upward: '
                      'smtpd/ is above lib/', r.stderr)

    def test_sideways_up_between_middle_floors_fails(self):
        self.write("relay/relay.c", '#include "lib/log.h"\n'
                   '#include "queue/queue.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn('relay/relay.c:2: #include "queue/queue.h" runs '
                      'upward: queue/ is above relay/', r.stderr)

    def test_include_of_a_folder_that_is_no_floor_fails(self):
        self.write("queue/queue.c", '#include "queue/queue.h"\n'
                   '#include "tests/unit/check_main.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn('queue/queue.c:2: #include "tests/unit/check_main.h": '
                      'tests/ is not a floor of the daemon', r.stderr)

    def test_include_without_folder_fails(self):
        self.write("queue/queue.c", '#include "queue.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn('queue/queue.c:1: #include "queue.h": no folder: '
                      'write "queue/queue.h"', r.stderr)

    def test_new_folder_without_a_floor_fails(self):
        self.write("metrics/metrics.c", '#include "lib/log.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn("metrics/: holds C sources but is not a floor",
                      r.stderr)

    def test_every_problem_is_listed(self):
        self.write("lib/log.c", '#include "queue/queue.h"\n'
                   '#include "auth/auth.h"\n')
        self.write("queue/queue.h", '  #  include   "smtpd/roles.h"\n')
        r = run(self.root)
        self.assertEqual(r.returncode, 1)
        lines = [l for l in r.stderr.splitlines() if "runs upward" in l]
        self.assertEqual([l.split(" ")[0] for l in lines],
                         ["lib/log.c:1:", "lib/log.c:2:", "queue/queue.h:1:"])

    def test_usage_errors(self):
        self.assertEqual(run("--bogus").returncode, 2)
        self.assertEqual(run(os.path.join(self.root, "none")).returncode, 2)
        self.assertEqual(run("--calls").returncode, 2)
        self.assertEqual(run("--calls", os.path.join(self.root, "none"),
                             self.root).returncode, 2)


class WrongCalls(unittest.TestCase):
    """Objects compiled from a small tree: calls, not includes."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="layers.")
        self.addCleanup(shutil.rmtree, self.root)
        self.obj = os.path.join(self.root, "build", "obj")
        self.unit("lib/log", "void log_info(void);\nvoid log_info(void) {}\n")
        self.unit("queue/queue", "void log_info(void);\n"
                  "void queue_new(void);\n"
                  "void queue_new(void) { log_info(); }\n")

    def unit(self, name, text):
        src = os.path.join(self.root, name + ".c")
        obj = os.path.join(self.obj, name + ".o")
        for d in (os.path.dirname(src), os.path.dirname(obj)):
            os.makedirs(d, exist_ok=True)
        with open(src, "w") as f:
            f.write(text)
        subprocess.run(["cc", "-c", "-o", obj, src], check=True, timeout=60)

    def test_right_calls_pass(self):
        r = run("--calls", self.obj, self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("check_layers: 2 objects, 1 file-to-file calls, every "
                      "call runs downward", r.stdout)

    def test_upward_call_without_include_fails(self):
        # lib/ declares a function of queue/ by hand: no include to see
        self.unit("lib/log", "void queue_new(void);\nvoid log_info(void);\n"
                  "void log_info(void) { queue_new(); }\n")
        r = run(self.root)
        self.assertEqual(r.returncode, 0, "the include check cannot see it")
        r = run("--calls", self.obj, self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lib/log.o calls queue_new() of queue/queue.c, which "
                      "runs upward: queue/ is above lib/", r.stderr)

    def test_files_calling_each_other_fail(self):
        self.unit("queue/queue_sched", "void queue_settle(void);\n"
                  "void queue_sched_add(void);\n"
                  "void queue_sched_add(void) { queue_settle(); }\n")
        self.unit("queue/queue_done", "void queue_sched_add(void);\n"
                  "void queue_settle(void);\n"
                  "void queue_settle(void) { queue_sched_add(); }\n")
        r = run("--calls", self.obj, self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn("files that call each other in a circle: "
                      "queue/queue_done -> queue/queue_sched (queue_sched_add); "
                      "queue/queue_sched -> queue/queue_done (queue_settle)",
                      r.stderr)

    def test_the_kept_circle_passes(self):
        self.unit("smtpd/smtp_session", "void smtp_auth_command(void);\n"
                  "void smtp_reply(void);\n"
                  "void smtp_reply(void) { smtp_auth_command(); }\n")
        self.unit("smtpd/smtp_auth", "void smtp_reply(void);\n"
                  "void smtp_auth_command(void);\n"
                  "void smtp_auth_command(void) { smtp_reply(); }\n")
        r = run("--calls", self.obj, self.root)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
