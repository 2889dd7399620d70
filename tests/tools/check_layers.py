#!/usr/bin/python3
"""check_layers.py [--graph] [--calls OBJDIR] [ROOT] — the layering of
submitd's source tree.

The folders of the daemon are floors, bottom to top (README.md, "Layout").
A file may include headers of its own folder and of folders below it,
never above: the bottom floor (lib/) includes nothing of the project
outside itself.  This script reads every .c and .h of the floors under
ROOT (default: the repository this script is in) and fails, naming
file:line, on:

  - an #include "x/..." of a folder above the file's own;
  - an #include "x/..." of a folder that is not a floor (tests/, bench/...);
  - an #include "name.h" without a folder (it would hide which floor);
  - a top-level folder holding C sources that is neither a floor nor one
    of the folders of tests and tools (a new folder must take a floor).

Tests, benchmarks and fuzzers (tests/, bench/, fuzz/) may include anything.

With --calls OBJDIR (the Makefile's $(BUILD)/obj), the same holds for the
functions the object files call, read with nm(1): a file that declared a
function of a folder above it by hand would pass the include check, not
this one.  It also fails on files that call each other in a circle, but
for the one kept on purpose (KEPT: the SMTP session, one state machine in
three files, see smtpd/smtp_session.c).

Exit status 0 when the layering holds, 1 when not, 2 on usage errors.
With --graph, prints the folder-to-folder include edges as well.
"""
import os
import re
import subprocess
import sys

# Bottom to top.  The order of the Makefile's DIRS, and of README's Layout.
FLOORS = ["lib", "conf", "proto", "dkim", "auth", "relay", "queue", "ctl",
          "smtpd"]
# Folders of tests and tools: may include any floor, nothing includes them.
FREE = {"tests", "bench", "fuzz"}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')

# Files (folder/name, no suffix) that may call each other: one state machine
# split for size, as their opening comments say.
KEPT = [{"smtpd/smtp_session", "smtpd/smtp_auth", "smtpd/smtp_data"}]


def sources(root, folder):
    """The .c and .h files of FOLDER (subfolders too), sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".c", ".h")):
                found.append(os.path.join(dirpath, name))
    return found


def stray_folders(root):
    """Top-level folders with C sources that are neither floors nor free."""
    stray = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if (name.startswith(".") or name in FLOORS or name in FREE or
                name.startswith("build") or not os.path.isdir(path)):
            continue
        if sources(root, name):
            stray.append(name)
    return stray


def check_file(root, path, rank, edges):
    """Problems of one file as "file:line: text" strings; fills EDGES."""
    rel = os.path.relpath(path, root)
    own = rel.split(os.sep)[0]
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m is None:
                continue
            target = m.group(1)
            where = "%s:%d: #include \"%s\"" % (rel, lineno, target)
            if "/" not in target:
                problems.append("%s: no folder: write \"%s/%s\" (the folder "
                                "says which floor it is on)"
                                % (where, own, target))
                continue
            folder = target.split("/")[0]
            if folder not in rank:
                problems.append("%s: %s/ is not a floor of the daemon "
                                "(floors: %s)"
                                % (where, folder, " < ".join(FLOORS)))
                continue
            if folder != own:
                edges.add((own, folder))
            if rank[folder] > rank[own]:
                problems.append("%s runs upward: %s/ is above %s/ "
                                "(floors, bottom to top: %s)"
                                % (where, folder, own, " < ".join(FLOORS)))
    return problems


def check(root):
    """(problems, number of files, folder edges) for the tree at ROOT."""
    rank = {name: i for i, name in enumerate(FLOORS)}
    problems, edges, nfiles = [], set(), 0
    for name in stray_folders(root):
        problems.append("%s/: holds C sources but is not a floor: give it "
                        "one in tests/tools/check_layers.py (FLOORS) and in "
                        "the Makefile (DIRS)" % name)
    for folder in FLOORS:
        for path in sources(root, folder):
            nfiles += 1
            problems += check_file(root, path, rank, edges)
    return problems, nfiles, edges


def nm(objs, *flags):
    """{object: [symbol names]} as nm(1) lists them for OBJS with FLAGS."""
    found = {obj: [] for obj in objs}
    if not objs:
        return found
    r = subprocess.run(["nm", "-A"] + list(flags) + list(objs),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        raise RuntimeError("nm: %s" % r.stderr.strip())
    for line in r.stdout.splitlines():
        # "OBJ:ADDR T name" or "OBJ:   U name": no ':' in C names
        obj, _, rest = line.rpartition(":")
        if obj in found and rest.split():
            found[obj].append(rest.split()[-1])
    return found


def call_graph(objdir):
    """{file: {file: [symbols]}} for the objects of the floors in OBJDIR."""
    units = {}
    for folder in FLOORS:
        d = os.path.join(objdir, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".o"):
                units[os.path.join(d, name)] = "%s/%s" % (folder, name[:-2])
    defined = {}
    for obj, syms in nm(sorted(units), "-g", "--defined-only").items():
        for sym in syms:
            defined[sym] = units[obj]
    calls = {}
    for obj, syms in nm(sorted(units), "-u").items():
        unit = units[obj]
        calls.setdefault(unit, {})
        for sym in syms:
            callee = defined.get(sym)
            if callee is not None and callee != unit:
                calls[unit].setdefault(callee, []).append(sym)
    return calls


def circles(calls):
    """The strongly connected sets of two files or more (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(calls.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(scc)

    for v in sorted(calls):
        if v not in index:
            visit(v)
    return found


def check_calls(objdir):
    """(problems, objects, file-to-file call edges) for OBJDIR."""
    rank = {name: i for i, name in enumerate(FLOORS)}
    calls = call_graph(objdir)
    problems = []
    for unit in sorted(calls):
        own = unit.split("/")[0]
        for callee, syms in sorted(calls[unit].items()):
            folder = callee.split("/")[0]
            if rank[folder] > rank[own]:
                problems.append("%s.o calls %s() of %s.c, which runs upward: "
                                "%s/ is above %s/" % (unit, sorted(syms)[0],
                                                      callee, folder, own))
    for scc in circles(calls):
        if any(scc <= kept for kept in KEPT):
            continue
        edges = ["%s -> %s (%s)" % (a, b, sorted(calls[a][b])[0])
                 for a in sorted(scc) for b in sorted(calls[a]) if b in scc]
        problems.append("files that call each other in a circle: %s; break "
                        "it with a callback or a shared lower file, or list "
                        "them in KEPT with the reason in their opening "
                        "comments" % "; ".join(edges))
    return problems, len(calls), sum(len(c) for c in calls.values())


def main(argv):
    args = argv[1:]
    graph = "--graph" in args
    args = [a for a in args if a != "--graph"]
    objdir = None
    if "--calls" in args:
        i = args.index("--calls")
        if i + 1 >= len(args):
            args.append("-")	# a usage error below
        else:
            objdir = args[i + 1]
            del args[i:i + 2]
    if len(args) > 1 or any(a.startswith("-") for a in args):
        sys.stderr.write("usage: check_layers.py [--graph] [--calls OBJDIR] "
                         "[ROOT]\n")
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    root = args[0] if args else os.path.normpath(os.path.join(here, "..", ".."))
    if not os.path.isdir(root):
        sys.stderr.write("check_layers: %s: not a directory\n" % root)
        return 2
    if objdir is not None and not os.path.isdir(objdir):
        sys.stderr.write("check_layers: %s: not a directory (build first)\n"
                         % objdir)
        return 2
    problems, nfiles, edges = check(root)
    nobjs = ncalls = 0
    if objdir is not None:
        more, nobjs, ncalls = check_calls(objdir)
        problems += more
    if graph:
        rank = {name: i for i, name in enumerate(FLOORS)}
        for a, b in sorted(edges, key=lambda e: (-rank[e[0]], -rank[e[1]])):
            print("%s/ -> %s/" % (a, b))
    for p in problems:
        sys.stderr.write(p + "\n")
    if problems:
        sys.stderr.write("check_layers: %d problem(s) in %d files\n"
                         % (len(problems), nfiles))
        return 1
    if nfiles == 0:
        sys.stderr.write("check_layers: no source file under %s\n" % root)
        return 1
    if objdir is not None and nobjs == 0:
        sys.stderr.write("check_layers: no object file under %s\n" % objdir)
        return 1
    print("check_layers: %d files, every include runs downward (%s)"
          % (nfiles, " < ".join(FLOORS)))
    if objdir is not None:
        print("check_layers: %d objects, %d file-to-file calls, every call "
              "runs downward, no circle but the kept ones" % (nobjs, ncalls))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
