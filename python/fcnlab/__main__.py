"""python3 -m fcnlab ARGS runs the fcnlab command line tool shipped in the
package (the same subcommands: synth-voc, prepare-voc, create-db, train, ...)."""
import os
import sys


def main():
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fcnlab")
    if not os.access(tool, os.X_OK):
        sys.exit(f"error: the fcnlab command line tool is missing from {tool}")
    os.execv(tool, [tool] + sys.argv[1:])


if __name__ == "__main__":
    main()
