#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Lists two-file import cycles between the modules of Rust crates: file A names module B
(`use crate::b::X`, `super::b::f()`, `b::X` for a child module b) and B names A.

    scripts/module-cycles.py [CRATE_ROOT ...]   (default: src/lib.rs emulator/src/lib.rs)

A path through a re-export (`pub use`, `pub(crate) use`, also a glob one) counts as a use of the
module that defines the item, so a facade `mod.rs` that re-exports its children is not in a cycle
with them. `super::` inside an inline module (`mod tests { ... }`) counts from that module.
It reads the source as text (braces outside string literals and comments, one line at a
time): a heuristic, not a compiler. Prints one line per cycle; exits 1 when there is any.
"""

import re
import sys
from pathlib import Path

ITEM_RE = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?(?:async\s+)?"
    r"(?:fn|struct|enum|type|const|static|trait|union|mod)\s+(\w+)",
    re.M,
)
MOD_DECL_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)
USE_RE = re.compile(r"^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M | re.S)
PATH_RE = re.compile(r"\b(?:crate|super|self)(?:::\w+)+")
INLINE_MOD_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{")
STRING_RE = re.compile(r'r#*"[^"]*"#*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'')


class Module:
    """One source file: its module path and what it imports."""

    def __init__(self, path, file):
        self.path = path  # tuple of segments from the crate root
        self.file = file
        self.text = file.read_text(encoding="utf-8")
        self.children = set(MOD_DECL_RE.findall(self.text))
        self.items = set(ITEM_RE.findall(self.text))
        self.reexports = {}  # name -> absolute path
        self.glob_reexports = []  # absolute module paths


def expand_use(tree):
    """`a::{b, c::{d, e as f}}` → [([a, b], None), ([a, c, d], None), ([a, c, e], "f")]."""
    tree = re.sub(r"\s*(::|\{|\}|,)\s*", r"\1", " ".join(tree.split()))
    brace = tree.find("{")
    if brace >= 0:
        prefix = [s for s in tree[:brace].split("::") if s]
        inner = tree[brace + 1 : tree.rindex("}")]
        return [
            (prefix + rest, alias) for part in split_top(inner) for rest, alias in expand_use(part)
        ]
    path, _, alias = tree.partition(" as ")
    return [([s for s in path.split("::") if s], alias or None)]


def split_top(inner):
    """Splits `a, b::{c, d}, e` at top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return [p for p in parts if p]


def load_crate(root_file):
    """Every module file reachable from the crate root by `mod x;` declarations."""
    modules = {}
    pending = [((), Path(root_file))]
    while pending:
        path, file = pending.pop()
        module = Module(path, file)
        modules[path] = module
        is_dir_owner = file.name in ("lib.rs", "main.rs", "mod.rs")
        base = file.parent if is_dir_owner else file.parent / file.stem
        for child in module.children:
            for candidate in (base / f"{child}.rs", base / child / "mod.rs"):
                if candidate.exists():
                    pending.append((path + (child,), candidate))
                    break
    return modules


def absolute(module, inline, segments):
    """The absolute path of `segments` as written in `module` (inside `inline` inline mods)."""
    here = list(module.path) + list(inline)
    if segments[0] == "crate":
        return segments[1:]
    if segments[0] in ("super", "self"):
        while segments and segments[0] in ("super", "self"):
            if segments[0] == "super":
                here = here[:-1]
            segments = segments[1:]
        return here + segments
    if not inline and segments[0] in module.children:
        return here + segments
    return None  # an external crate, a local item, a prelude name


def resolve(modules, segments, depth=0):
    """The module that defines what the absolute path `segments` names."""
    best = ()
    for n in range(len(segments), -1, -1):
        if tuple(segments[:n]) in modules:
            best = tuple(segments[:n])
            break
    rest = segments[len(best) :]
    module = modules[best]
    if rest and depth < 8 and rest[0] not in module.children:
        target = module.reexports.get(rest[0])
        if target:
            return resolve(modules, target + rest[1:], depth + 1)
        if rest[0] not in module.items:
            for glob in module.glob_reexports:
                found = resolve(modules, glob + rest, depth + 1)
                if found != tuple(glob) or rest[0] in modules[found].items:
                    return found
    return best


def scan(module):
    """The module's code with strings and comments blanked, and the inline modules (`mod x {`)
    each line is in."""
    lines, contexts = [], []
    inline, depths, depth = [], [], 0
    in_block_comment = False
    for line in module.text.splitlines():
        code = STRING_RE.sub('""', line)
        if in_block_comment:
            code, in_block_comment = (code.split("*/", 1)[1], False) if "*/" in code else ("", True)
        code = code.split("//")[0]
        if "/*" in code:
            code, in_block_comment = code.split("/*")[0], "*/" not in code
        match = INLINE_MOD_RE.match(code)
        if match:
            inline.append(match.group(1))
            depths.append(depth)
        lines.append(code)
        contexts.append(tuple(inline))
        depth += code.count("{") - code.count("}")
        while depths and depth <= depths[-1]:
            inline.pop()
            depths.pop()
    return "\n".join(lines), contexts


def uses(module):
    """(inline context, segments, alias, public) of every path in a `use` and of every other
    `crate::`/`super::`/`self::` path the module writes."""
    code, contexts = scan(module)
    found = []
    for match in USE_RE.finditer(code):
        inline = contexts[code.count("\n", 0, match.start())]
        for segments, alias in expand_use(match.group(2)):
            found.append((inline, segments, alias, match.group(1) is not None))
    outside_uses = USE_RE.sub(lambda m: "\n" * m.group(0).count("\n"), code)
    child_re = re.compile(r"(?<![\w:])(?:%s)(?:::\w+)+" % "|".join(module.children or ["$^"]))
    for number, line in enumerate(outside_uses.split("\n")):
        for match in list(PATH_RE.finditer(line)) + list(child_re.finditer(line)):
            found.append((contexts[number], match.group(0).split("::"), None, False))
    return found


def edges_of(modules):
    """Module path → the module paths it uses (through re-exports)."""
    found = {path: uses(module) for path, module in modules.items()}
    for path, module in modules.items():
        for inline, segments, alias, public in found[path]:
            target = absolute(module, inline, segments) if public and not inline else None
            if not target:
                continue
            if target[-1] == "*":
                module.glob_reexports.append(target[:-1])
            else:
                module.reexports[alias or target[-1]] = target
    edges = {}
    for path, module in modules.items():
        targets = set()
        for inline, segments, _, _ in found[path]:
            while len(segments) > 1 and segments[-1] in ("*", "self"):
                segments = segments[:-1]
            target = absolute(module, inline, segments)
            if target is not None:
                targets.add(resolve(modules, target))
        targets.discard(path)
        edges[path] = targets
    return edges


def main(roots):
    cycles = []
    for root in roots:
        modules = load_crate(root)
        edges = edges_of(modules)
        for a, targets in edges.items():
            for b in targets:
                if a < b and a in edges.get(b, ()):
                    cycles.append(f"{modules[a].file} <-> {modules[b].file}")
    for cycle in sorted(cycles):
        print(cycle)
    print(f"{len(cycles)} two-file cycle(s) in {', '.join(roots)}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src/lib.rs", "emulator/src/lib.rs"]))
