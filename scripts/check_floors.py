#!/usr/bin/env python3
"""Checks that no source or public header includes from a higher floor.

    python3 scripts/check_floors.py [ROOT]

The floors (ARCHITECTURE.md, "Areas and their floors"), lowest first; a file
may include from its own floor and those below. Exits 1 naming each include
that runs upward.
"""
import os
import re
import sys

FLOORS = {
    "util": 0,
    "models": 1, "data": 1,
    "caffe": 2,
    "io": 3,
    "train": 4, "infer": 4, "deploy": 4,
    "serve": 5,
    "tools": 6, "bindings": 6,
}
# The deprecated forwarding header points up on purpose (ARCHITECTURE.md).
EXEMPT = {os.path.join("include", "fcnlab", "models", "model_io.h")}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def area_of_include(source_dir, included):
    """The area an include names, or None for one outside the project."""
    if included.startswith("fcnlab/"):
        parts = included.split("/")
        return parts[1] if len(parts) > 2 else None
    path = os.path.normpath(os.path.join(source_dir, included))
    for top in ("csrc", os.path.join("include", "fcnlab")):
        if path.startswith(top + os.sep):
            return path[len(top) + 1:].split(os.sep)[0]
    return None


def violations(root):
    found = []
    for top in ("csrc", os.path.join("include", "fcnlab")):
        for directory, _, files in os.walk(os.path.join(root, top)):
            relative_dir = os.path.relpath(directory, root)
            below_top = os.path.relpath(relative_dir, top).split(os.sep)
            area = below_top[0]
            if area not in FLOORS:
                continue
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(relative_dir, name)
                if path in EXEMPT:
                    continue
                with open(os.path.join(root, path), encoding="utf-8") as source:
                    for number, line in enumerate(source, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        target = area_of_include(relative_dir, match.group(1))
                        if target in FLOORS and FLOORS[target] > FLOORS[area]:
                            found.append(f"{path}:{number}: {area}/ includes {match.group(1)} "
                                         f"from {target}/, a higher floor")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = violations(os.path.abspath(root))
    for line in found:
        print(line)
    print(f"{len(found)} includes run up a floor")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
