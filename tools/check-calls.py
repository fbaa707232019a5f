#!/usr/bin/env python3
"""check-calls.py — finds circles in a program's file-level call and include graph.

A file a depends on a file b when a's object uses a symbol b's object defines (`nm`: a's
undefined symbols against b's defined ones), or when a.c or a.h includes b.h and b.c exists.
Every strongly connected set of two or more files is a circle: the script prints each, with
the symbols and includes that make each of its edges, and exits 1.

    tools/check-calls.py --objects BUILD/src/aegisd --sources SRC/src/aegisd \\
            [--prefix aegisd- --prefix libaegisd_la-] [--allow a,b ...]

Objects are the *.o files in --objects (and its .libs/) whose names start with a --prefix;
the file's name is what follows the prefix. --allow names a known circle by its files (the
whole set, comma-separated): it is reported but does not fail, and an --allow that matches
no circle fails (the list must shrink as circles are broken). Exit status: 0 no circle
outside --allow, 1 circles, 2 usage errors.
"""
import argparse
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def objects(objdir, prefixes):
    found = {}
    for d in (objdir, os.path.join(objdir, ".libs")):
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith(".o"):
                continue
            for p in prefixes:
                if f.startswith(p):
                    found.setdefault(f[len(p):-2], os.path.join(d, f))
    return found


def nm(path, *flags):
    out = subprocess.run(["nm", "-P", *flags, path], check=True, capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def graph(objs, srcdir):
    """{a: {b: [reasons]}} for a != b."""
    defined = {f: nm(p, "-g", "--defined-only") for f, p in objs.items()}
    owner = {}
    for f, syms in defined.items():
        for s in syms:
            owner.setdefault(s, f)
    edges = {f: {} for f in objs}
    for f, p in objs.items():
        for s in sorted(nm(p, "-u")):
            g = owner.get(s)
            if g and g != f:
                edges[f].setdefault(g, []).append(s)
    for f in list(objs):
        for ext in (".c", ".h"):
            path = os.path.join(srcdir, f + ext)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                if inc != f and inc in objs and os.path.exists(os.path.join(srcdir, inc + ".c")):
                    edges[f].setdefault(inc, []).append(f"#include {inc}.h")
    return edges


def circles(edges):
    """Tarjan's strongly connected components of two or more nodes, each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description="find circles in a program's file call/include graph")
    ap.add_argument("--objects", required=True)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--prefix", action="append", default=[])
    ap.add_argument("--allow", action="append", default=[])
    a = ap.parse_args()
    prefixes = a.prefix or ["aegisd-", "libaegisd_la-"]
    objs = objects(a.objects, prefixes)
    if not objs:
        print(f"check-calls: no objects named {' or '.join(p + '*.o' for p in prefixes)} in {a.objects}: "
              "build first", file=sys.stderr)
        return 2
    edges = graph(objs, a.sources)
    allowed = {tuple(sorted(x.split(","))) for x in a.allow}
    bad = 0
    found = circles(edges)
    for comp in found:
        known = tuple(comp) in allowed
        bad += not known
        print(f"{'known circle' if known else 'circle'}: {' '.join(comp)}")
        for f in comp:
            for g in comp:
                if g in edges[f]:
                    print(f"  {f} -> {g}: {', '.join(edges[f][g])}")
    for x in sorted(allowed - {tuple(c) for c in found}):
        print(f"check-calls: --allow {','.join(x)} names no circle any more: remove it", file=sys.stderr)
        bad += 1
    if not bad:
        print(f"check-calls: {len(objs)} files, no circle outside the known ones ({len(found)})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
