#!/usr/bin/python3
"""check_layers.py [--graph] [ROOT] — the layering of submitd's source tree.

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
Exit status 0 when the layering holds, 1 when not, 2 on usage errors.
With --graph, prints the folder-to-folder include edges as well.
"""
import os
import re
import sys

# Bottom to top.  The order of the Makefile's DIRS, and of README's Layout.
FLOORS = ["lib", "conf", "proto", "dkim", "auth", "relay", "queue", "ctl",
          "smtpd"]
# Folders of tests and tools: may include any floor, nothing includes them.
FREE = {"tests", "bench", "fuzz"}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')


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


def main(argv):
    args = argv[1:]
    graph = "--graph" in args
    args = [a for a in args if a != "--graph"]
    if len(args) > 1 or any(a.startswith("-") for a in args):
        sys.stderr.write("usage: check_layers.py [--graph] [ROOT]\n")
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    root = args[0] if args else os.path.normpath(os.path.join(here, "..", ".."))
    if not os.path.isdir(root):
        sys.stderr.write("check_layers: %s: not a directory\n" % root)
        return 2
    problems, nfiles, edges = check(root)
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
    print("check_layers: %d files, every include runs downward (%s)"
          % (nfiles, " < ".join(FLOORS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
