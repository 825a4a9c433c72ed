#!/usr/bin/env python3
"""Runs a lesson program once and checks its exit status and output.

    run_program.py [--status N] [--stdout-has TEXT]... [--stderr-has TEXT]...
                   [--stdout-lacks TEXT]... [--timeout SECONDS] -- PROGRAM [ARGS...]
"""
import argparse
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--stdout-has", action="append", default=[])
    parser.add_argument("--stdout-lacks", action="append", default=[])
    parser.add_argument("--stderr-has", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                             env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        print(f"FAIL: {' '.join(command)} did not exit within {args.timeout} s")
        return 1
    print(f"$ {' '.join(command)}\n--- stdout\n{run.stdout}--- stderr\n{run.stderr}--- exit status {run.returncode}")
    problems = []
    if run.returncode != args.status:
        problems.append(f"exit status {run.returncode}, expected {args.status}")
    problems += [f"stdout lacks {text!r}" for text in args.stdout_has if text not in run.stdout]
    problems += [f"stdout has {text!r}" for text in args.stdout_lacks if text in run.stdout]
    problems += [f"stderr lacks {text!r}" for text in args.stderr_has if text not in run.stderr]
    if "Traceback" in run.stderr or "terminate called" in run.stderr:
        problems.append("the program crashed instead of reporting the error")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
