#!/usr/bin/env python3
"""Compiles the C++ sources listed in a compile_commands.json with
-fsyntax-only, headers of another LibTorch searched first, in parallel.
Prints each failing source with its first errors; exits 1 if any failed.

    syntax_check.py BUILD_DIR --include DIR [--include DIR ...]
                    [--define NAME ...] [--undefine NAME ...]
                    [--under csrc|FILE] [--jobs N]
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def syntax_command(entry, includes, defines, undefines=(), compiler=None):
    """The entry's compiler call without its output, with `includes` ahead of
    every other header directory (-isystem comes before the compiler's own);
    `undefines` come last, so that they win over the entry's own -D.
    `compiler` replaces the entry's own compiler."""
    words = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "-o":
            skip = True
        elif word not in ("-c", entry["file"]):
            kept.append(word)
    extra = [f"-isystem{d}" for d in includes] + [f"-D{d}" for d in defines]
    launcher = 1 if os.path.basename(kept[0]) == "ccache" else 0
    compiler = compiler or kept[launcher]
    return ([compiler] + extra + kept[launcher + 1:] + [f"-U{d}" for d in undefines]
            + ["-fsyntax-only", entry["file"]])


def check(entry, includes, defines, undefines, compiler):
    result = subprocess.run(syntax_command(entry, includes, defines, undefines, compiler),
                            cwd=entry["directory"],
                            capture_output=True, text=True)
    return entry["file"], result.returncode, result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--include", action="append", default=[])
    parser.add_argument("--define", action="append", default=[])
    parser.add_argument("--undefine", action="append", default=[])
    parser.add_argument("--under", default="csrc", help="only this source, or the sources below this folder")
    parser.add_argument("--compiler", help="instead of the build's compiler (clang parses faster)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    with open(os.path.join(args.build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    root = os.path.abspath(args.under)
    chosen = {e["file"]: e for e in entries
              if os.path.abspath(e["file"]) == root
              or os.path.abspath(e["file"]).startswith(root + os.sep)}
    includes = [os.path.abspath(d) for d in args.include]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(check, e, includes, args.define, args.undefine,
                            args.compiler) for e in chosen.values()]
        for job in concurrent.futures.as_completed(jobs):
            source, code, errors = job.result()
            name = os.path.relpath(source)
            if code != 0:
                failed += 1
                print(f"FAILED {name}\n" + "\n".join(errors.splitlines()[:40]), flush=True)
            else:
                print(f"ok     {name}", flush=True)
    print(f"{len(chosen) - failed} of {len(chosen)} sources compile")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
