#!/usr/bin/python3
"""Function length statistics over C sources: median, p90 and the longest.

Reads function definitions with universal-ctags (start and end line of each)
and prints the count, median, p90 and max in lines. Usage:
    scripts/funclen.py [DIR ...]        (default: src)
    scripts/funclen.py --longest 10 src
"""
import json
import os
import subprocess
import sys


def c_files(dirs):
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in sorted(names):
                if n.endswith(".c"):
                    yield os.path.join(root, n)


def functions(path):
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+ne", "--kinds-C=f", "-o", "-", path],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("kind") == "function" and "end" in tag:
            yield tag["name"], tag["end"] - tag["line"] + 1


def percentile(sorted_vals, p):
    """The nearest-rank percentile of an ascending list."""
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def main(argv):
    longest = 0
    if len(argv) >= 2 and argv[0] == "--longest":
        longest = int(argv[1])
        argv = argv[2:]
    dirs = argv or ["src"]
    rows = [(n, f, path) for path in c_files(dirs) for f, n in functions(path)]
    if not rows:
        print("no functions found")
        return 1
    lens = sorted(r[0] for r in rows)
    mid = len(lens) // 2
    median = lens[mid] if len(lens) % 2 else (lens[mid - 1] + lens[mid]) / 2
    print(f"functions {len(lens)}  median {median}  p90 {percentile(lens, 90)}  max {lens[-1]}")
    for n, f, path in sorted(rows, reverse=True)[:longest]:
        print(f"{n:5d}  {path}:{f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
