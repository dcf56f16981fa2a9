#!/usr/bin/env python3
"""Import cycles between the modules of a crate, from its `use crate::…`, `crate::…` and
`super::…` paths (comments and doc links ignored).

Usage: scripts/module_cycles.py crates/trainer/src [more src dirs]

Prints, per crate, the cycles (strongly connected components of more than one module) between
files and between top-level modules (folders), and exits with 1 when there is one.
"""

import re
import sys
from pathlib import Path


def module_of(src: Path, file: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] if "\"" not in line else line
                     for line in text.splitlines()
                     if not line.lstrip().startswith("//"))


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` → [a::b, a::c::d, a::c::e]."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{" and depth == 0:
            start = i
            break
    if start is None:
        return [tree]
    prefix = tree[:start]
    inner = tree[start + 1:tree.rindex("}")]
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    return [p for item in items if item.strip() for p in expand(prefix + item.strip())]


def references(text: str, here: tuple) -> list:
    paths = []
    for use in re.findall(r"\buse\s+([^;]+);", text):
        for p in expand(re.sub(r"\s+", "", use)):
            paths.append(p)
    paths += re.findall(r"(?<![:\w])(?:crate|super|self)(?:::\w+)+", text)
    out = []
    for p in paths:
        p = re.sub(r"\bas\w+$", "", p)
        segs = [s for s in p.split("::") if s]
        if not segs:
            continue
        if segs[0] == "crate":
            out.append(tuple(segs[1:]))
        elif segs[0] == "self" and len(segs) > 1:
            out.append(tuple(list(here) + segs[1:]))
        elif segs[0] == "super" and segs[1:] != ["*"]:
            base = list(here)
            while segs and segs[0] == "super":
                base = base[:-1]
                segs = segs[1:]
            out.append(tuple(base + segs))
    return out


def sccs(graph: dict) -> list:
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                result.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return result


def crate_cycles(src: Path) -> bool:
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    file_graph, folder_graph = {}, {}
    for mod, file in modules.items():
        text = strip_comments(file.read_text())
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        for ref in references(text, mod):
            target = ref
            while target and target not in modules:
                target = target[:-1]
            if not target or target == mod:
                continue
            file_graph.setdefault(mod, set()).add(target)
            a, b = mod[:1], target[:1]
            if a and b and a != b:
                folder_graph.setdefault(a, set()).add(b)
    name = lambda m: "::".join(m) or "crate"
    found = False
    for label, graph in (("files", file_graph), ("top-level modules", folder_graph)):
        for comp in sccs(graph):
            found = True
            print(f"{src}: cycle between {label}: {', '.join(name(m) for m in comp)}")
    if not found:
        print(f"{src}: no import cycles ({len(modules)} modules)")
    return found


if __name__ == "__main__":
    bad = [crate_cycles(Path(d)) for d in sys.argv[1:]]
    sys.exit(1 if any(bad) else 0)
