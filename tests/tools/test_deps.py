"""The one dependency list, debian/control (README, "Quick start").

Every pkg-config module and every -l library the Makefiles and scripts
build with, every program the tests, the demo and CI call, and every
Python module the tests import must belong to a Debian package that
debian/control names (Build-Depends or Depends) or that one of those pulls
in through Depends/Pre-Depends, or that is Essential/required (on every
Debian).  And tests/tools/deps.sh, which make deps/check/demo and .ci/run
install through, names exactly the missing packages and fails when it is
not root.
"""

import ast
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEPS = os.path.join(HERE, "deps.sh")
CONTROL = os.path.join(ROOT, "debian", "control")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, **kw)


def listed():
    """The names deps.sh reads from debian/control: a list of alternatives."""
    r = run([DEPS, "--list"])
    if r.returncode != 0:
        raise AssertionError("deps.sh --list failed: " + r.stderr)
    return [line.split("|") for line in r.stdout.split()]


def installed_db():
    """{package: (essential/required?, [[dep alternatives]], [provides])}."""
    r = run(["dpkg-query", "-W", "-f",
             "${Package}\t${db:Status-Status}\t${Essential}\t${Priority}\t"
             "${Depends}\t${Pre-Depends}\t${Provides}\n"])
    db = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 7 or f[1] != "installed":
            continue

        def alts(field):
            out = []
            for dep in field.split(","):
                dep = re.sub(r"\([^)]*\)|\[[^]]*\]|<[^>]*>", "", dep)
                a = [x.strip().split(":")[0] for x in dep.split("|") if x.strip()]
                if a:
                    out.append(a)
            return out
        db[f[0]] = (f[2] == "yes" or f[3] == "required",
                    alts(f[4]) + alts(f[5]), [a[0] for a in alts(f[6])])
    return db


def covered_set():
    """The packages a machine has after installing debian/control's list."""
    db = installed_db()
    provider = {}
    for pkg, (_, _, provides) in db.items():
        for v in provides:
            provider.setdefault(v, []).append(pkg)

    def resolve(alternatives):
        for a in alternatives:
            if a in db:
                return [a]
            if a in provider:
                return provider[a][:1]
        return []

    todo = [p for p, (base, _, _) in db.items() if base]
    for alternatives in listed():
        todo += resolve(alternatives)
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen or p not in db:
            continue
        seen.add(p)
        for alternatives in db[p][1]:
            todo += resolve(alternatives)
    return seen


def owners(paths):
    """{path: set(packages)} by dpkg -S, following symlinks (alternatives,
    merged /usr: /usr/bin/x may be registered as /bin/x)."""
    cand = {}
    for p in paths:
        c, q = [], p
        for _ in range(10):
            c.append(q)
            for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"),
                         ("/usr/lib/", "/lib/")):
                if q.startswith(a):
                    c.append(b + q[len(a):])
                elif q.startswith(b):
                    c.append(a + q[len(b):])
            if not os.path.islink(q):
                break
            q = os.path.join(os.path.dirname(q), os.readlink(q))
            q = os.path.normpath(q)
        c.append(os.path.realpath(p))
        cand[p] = c
    allc = sorted({x for c in cand.values() for x in c})
    r = run(["dpkg", "-S"] + allc) if allc else None
    owner = {}
    for line in (r.stdout.splitlines() if r else []):
        if ": " not in line or line.startswith("diversion "):
            continue
        pk, path = line.split(": ", 1)
        for x in pk.split(","):
            owner.setdefault(path.strip(), set()).add(x.strip().split(":")[0])
    return {p: set().union(*[owner.get(x, set()) for x in c]) for p, c in cand.items()}


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def files(*patterns):
    out = []
    for pat in patterns:
        out += glob.glob(os.path.join(ROOT, pat), recursive=True)
    return sorted(set(f for f in out if os.path.isfile(f)))


def build_files():
    return files("Makefile", "**/Makefile", "**/*.mk", "**/*.sh", "tests/run-all",
                 ".ci/run", "tests/**/*.py", "tests/**/*.c")


def pkg_config_modules():
    """{module: where} from the Makefiles and scripts."""
    mods = {}
    for f in build_files():
        text = read(f)
        var = {}
        for m in re.finditer(r"^\s*(?:export\s+)?(\w*PKGS)\s*[:?+]?=\s*\"?([^\"\n]*)",
                             text, re.M):
            var.setdefault(m.group(1), []).extend(m.group(2).split())
        for m in re.finditer(r"pkg-config((?:\s+--[\w-]+(?:=\S+)?)+)([^)\n;|`]*)", text):
            for w in m.group(2).split():
                if w.startswith("-"):
                    continue
                v = re.fullmatch(r"\$\(?\{?(\w+)\)?\}?", w.strip('"'))
                for mod in (var.get(v.group(1), []) if v else [w.strip('"\'\\')]):
                    if mod:
                        mods.setdefault(mod, os.path.relpath(f, ROOT))
    return mods


def link_libs():
    """{library: where} for -lNAME linked by the Makefiles and test builds."""
    libs = {}
    for f in build_files():
        text = read(f)
        for m in re.finditer(r"(?<![\w-])-l([a-z][\w+.-]*)", text):
            if m.group(1) not in ("t", "e"):     # test's -lt, -le
                libs.setdefault(m.group(1), os.path.relpath(f, ROOT))
    return libs


SHELL_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until",
               "for", "case", "esac", "in", "function", "exec", "!", "{", "}",
               "time", "command", "builtin", "local", "export", "return", "set",
               "trap", "shift", "unset", "readonly", "declare", "eval", "cd",
               "read", "wait", "exit", "echo", "printf", "test", "[", "[[", "]]",
               "true", "false", ":", "source", ".", "break", "continue", "let"}


def shell_commands(text):
    """Words in command position of a shell script (a good approximation)."""
    out = set()
    heredoc = None
    for line in text.splitlines():
        if heredoc is not None:             # a here-document is data, not commands
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        line = re.sub(r"(^|\s)#.*", "", line)
        line = re.sub(r"'[^']*'", "''", line)
        for part in re.split(r"\|\||&&|[|;`]|\$\(|\(|\bthen\b|\bdo\b|\belse\b", line):
            words = part.split()
            while words and (words[0] in SHELL_WORDS or re.match(r"^\w+=", words[0])
                             or words[0] in ("timeout", "-k", "nice", "env", "sudo")
                             or re.match(r"^[\d.]+[smh]?$", words[0])
                             or words[0].startswith('"$')):
                words = words[1:]
            if words and re.fullmatch(r"[A-Za-z][\w.+-]*|/[\w/.+-]+", words[0]):
                out.add(words[0])
    return out


def python_programs(text, name):
    """Programs a Python file runs: literal first words of subprocess calls
    and shutil.which, and /usr/bin/... string constants."""
    out = set()
    try:
        tree = ast.parse(text, name)
    except SyntaxError:
        return out
    consts = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            consts[node.targets[0].id] = node.value.value

    def first(arg):
        if isinstance(arg, ast.BinOp):
            return first(arg.left)
        if isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
            return first(arg.elts[0])
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value.split()[0] if arg.value.split() else None
        if isinstance(arg, ast.Name):
            return consts.get(arg.id)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else (
                fn.id if isinstance(fn, ast.Name) else "")
            if fname in ("run", "Popen", "call", "check_call", "check_output",
                         "which", "execvp", "execv") and node.args:
                p = first(node.args[0])
                if p and re.fullmatch(r"[A-Za-z][\w.+-]*|/[\w/.+-]+", p):
                    out.add(p)
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and re.fullmatch(r"/(usr/)?s?bin/[\w.+-]+", node.value)):
            out.add(node.value)
    return out


def test_programs():
    """{program: where} the tests, the demo and CI call."""
    progs = {}
    for f in files("tests/**/*.py", "tests/**/*.sh", "tests/run-all", ".ci/run",
                   "tests/**/*.pl"):
        text = read(f)
        rel = os.path.relpath(f, ROOT)
        m = re.match(r"#!\s*(\S+)(?:\s+(\S+))?", text)
        if m:
            progs.setdefault(m.group(2) if m.group(1).endswith("/env") else m.group(1), rel)
        if f.endswith(".py"):
            found = python_programs(text, f)
        elif f.endswith(".pl"):
            found = set()
        else:
            found = shell_commands(text)
        for p in found:
            progs.setdefault(p, rel)
    return progs


def python_modules():
    """{module: where}: top-level imports of the test code not from the
    standard library nor the repository."""
    local = {os.path.splitext(os.path.basename(f))[0] for f in files("**/*.py")}
    mods = {}
    for f in files("tests/**/*.py"):
        try:
            tree = ast.parse(read(f), f)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for n in names:
                top = n.split(".")[0]
                if top in sys.stdlib_module_names or top in local:
                    continue
                mods.setdefault(top, os.path.relpath(f, ROOT))
    return mods


class Covered(unittest.TestCase):
    """Everything the build and the tests use is on the one list."""

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile("/var/lib/dpkg/status"):
            raise unittest.SkipTest("not a Debian system (no dpkg database)")
        cls.covered = covered_set()

    def check_paths(self, what, paths):
        """paths: {name: (path, where)}; fails naming every uncovered one."""
        own = owners([p for p, _ in paths.values()])
        bad = []
        for name, (path, where) in sorted(paths.items()):
            pk = own.get(path, set())
            if not pk:
                bad.append("%s %s (%s, used in %s) belongs to no Debian package"
                           % (what, name, path, where))
            elif not pk & self.covered:
                bad.append("%s %s (used in %s) is in %s, which debian/control "
                           "does not cover" % (what, name, where, ", ".join(sorted(pk))))
        self.assertEqual(bad, [], "\n" + "\n".join(bad))

    def test_pkg_config_modules(self):
        mods = pkg_config_modules()
        for m in ("libtls", "libevent", "libsodium", "check"):
            self.assertIn(m, mods)          # the scan itself works
        paths, unknown = {}, []
        for mod, where in mods.items():
            r = run(["pkg-config", "--variable=pcfiledir", mod])
            if r.returncode != 0 or not r.stdout.strip():
                unknown.append("%s (%s)" % (mod, where))
                continue
            paths[mod] = (os.path.join(r.stdout.strip(), mod + ".pc"), where)
        self.assertEqual(unknown, [], "pkg-config modules not installed here")
        self.check_paths("pkg-config module", paths)

    def test_link_libraries(self):
        paths = {}
        for lib, where in link_libs().items():
            r = run(["cc", "-print-file-name=lib%s.so" % lib])
            p = r.stdout.strip()
            if not os.path.isabs(p):
                r = run(["cc", "-print-file-name=lib%s.a" % lib])
                p = r.stdout.strip()
            if os.path.isabs(p):
                paths["-l" + lib] = (p, where)
        self.assertIn("-lopendkim", paths)
        self.check_paths("library", paths)

    def test_programs(self):
        progs = test_programs()
        for p in ("swaks", "/usr/bin/python3", "openssl"):
            self.assertIn(p, progs)          # the scan itself works
        paths = {}
        for p, where in progs.items():
            path = p if os.path.isabs(p) else shutil.which(p)
            if path is None or not os.path.exists(path):
                continue                     # a shell function, or not a program
            if path.startswith("/usr/local/") and p in ("submitd", "submitctl"):
                continue
            paths[p] = (path, where)
        self.check_paths("program", paths)

    def test_python_modules(self):
        paths, missing = {}, []
        for m, where in python_modules().items():
            spec = importlib.util.find_spec(m)
            if spec is None:
                missing.append("%s (%s)" % (m, where))
                continue
            origin = spec.origin if spec.origin not in (None, "namespace") else \
                list(spec.submodule_search_locations)[0]
            paths[m] = (origin, where)
        self.assertEqual(missing, [], "Python modules the tests import are not installed")
        self.check_paths("Python module", paths)


class DepsScript(unittest.TestCase):
    """tests/tools/deps.sh on a control file made for the test."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        os.chmod(self.dir, 0o755)
        self.control = os.path.join(self.dir, "control")
        with open(self.control, "w") as f:
            f.write("Source: x\n"
                    "# Build-Depends: commented-out-package\n"
                    "Build-Depends: debhelper-compat (= 13), coreutils,\n"
                    "               submitd-no-such-package-a <!nocheck>,\n"
                    "               submitd-no-such-b [amd64] | coreutils,\n"
                    "               submitd-no-such-c:any | submitd-no-such-d,\n"
                    "\n"
                    "Package: x\n"
                    "Depends: ${shlibs:Depends}, ${misc:Depends}, dpkg (>= 1.0)\n"
                    "Description: y\n")
        os.chmod(self.control, 0o644)
        self.env = dict(os.environ, DEPS_CONTROL=self.control)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_list(self):
        r = run([DEPS, "--list"], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(),
                         ["debhelper", "coreutils", "submitd-no-such-package-a",
                          "submitd-no-such-b|coreutils",
                          "submitd-no-such-c|submitd-no-such-d", "dpkg"])

    def test_missing_names_exactly_the_missing(self):
        r = run([DEPS, "--missing"], env=self.env)
        self.assertEqual(r.returncode, 1)
        want = ["submitd-no-such-package-a", "submitd-no-such-c"]
        if not os.path.exists("/usr/bin/dh"):
            want.insert(0, "debhelper")
        self.assertEqual(r.stdout.split(), want)

    def test_install_not_root_names_them_and_fails(self):
        setpriv = shutil.which("setpriv")
        if os.getuid() == 0:
            if setpriv is None:
                self.skipTest("root without setpriv: cannot drop to test")
            # a copy nobody can reach (the clone may be in root's 0700 home)
            deps = os.path.join(self.dir, "deps.sh")
            shutil.copy(DEPS, deps)
            os.chmod(deps, 0o755)
            cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                   deps, "--install"]
        else:
            cmd = [DEPS, "--install"]
        r = run(cmd, env=self.env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        first = r.stderr.splitlines()[0]
        self.assertRegex(first, r"^deps: missing Debian packages \(debian/control\): ")
        named = first.split(": ", 2)[2].split()
        self.assertEqual([n for n in named if n != "debhelper"],
                         ["submitd-no-such-package-a", "submitd-no-such-c"])
        self.assertEqual(r.stdout, "")      # nothing installed, nothing tried

    def test_nothing_missing_is_quiet(self):
        with open(self.control, "w") as f:
            f.write("Source: x\nBuild-Depends: coreutils, dpkg\n")
        for mode in ("--missing", "--install"):
            r = run([DEPS, mode], env=self.env)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""), mode)

    def test_real_list_has_build_test_and_run_packages(self):
        names = [a[0] for a in listed()]
        for p in ("libtls-dev", "libevent-dev", "libsodium-dev", "check",
                  "python3-aiosmtpd", "swaks", "adduser", "debhelper"):
            self.assertIn(p, names)
        self.assertFalse([n for n in names if "$" in n or "(" in n or "<" in n], names)

    def test_make_check_installs_first(self):
        r = run(["make", "-n", "--no-print-directory", "check"], cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [x for x in r.stdout.splitlines() if x.strip()]
        self.assertIn("tests/tools/deps.sh --install", lines[0])
        for f in (".ci/run", "tests/demo.sh"):
            text = open(os.path.join(ROOT, f)).read()
            self.assertIn("tests/tools/deps.sh --install", text, f)
            self.assertNotRegex(text, r"apt-get install[^\n]*\b(libtls-dev|swaks)\b", f)


if __name__ == "__main__":
    unittest.main()
