"""The layering check (tests/tools/check_layers.py): passes on the tree as
it is, and fails, naming file:line, on trees made wrong on purpose in a
temporary directory: an upward include (from a .c and from a .h), an
include of a folder that is not a floor, an include without a folder, and
a new folder of C sources that takes no floor."""

import os
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


if __name__ == "__main__":
    unittest.main()
