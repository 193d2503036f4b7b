#!/usr/bin/env python3
"""Sends commands to a running Audacity through mod-script-pipe and prints each answer.

Usage: audacity_pipe.py [--timeout SECONDS] COMMAND...
Each answer ends with "BatchCommand finished: OK" (or "Failed!") and an empty line. Exits 1 if a
command fails or gets no answer within the timeout (Audacity never answers a command sent before
its project window exists, so the caller first waits for the pipes and sends a harmless command).
"""
import os
import select
import sys
import time


def main():
    args = sys.argv[1:]
    timeout = 60.0
    if args[:1] == ["--timeout"]:
        timeout, args = float(args[1]), args[2:]
    uid = os.getuid()
    to_audacity = open(f"/tmp/audacity_script_pipe.to.{uid}", "w")
    from_audacity = os.open(f"/tmp/audacity_script_pipe.from.{uid}", os.O_RDONLY)
    pending = b""
    for command in args:
        to_audacity.write(command + "\n")
        to_audacity.flush()
        deadline = time.monotonic() + timeout
        answer = None
        while answer is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([from_audacity], [], [], left)[0]:
                print(f"FAIL: no answer to '{command}' in {timeout:.0f} s")
                return 1
            chunk = os.read(from_audacity, 65536)
            if not chunk:
                print(f"FAIL: Audacity closed the pipe during '{command}'")
                return 1
            pending += chunk
            end = pending.find(b"BatchCommand finished:")
            if end >= 0 and pending.find(b"\n\n", end) >= 0:
                stop = pending.find(b"\n\n", end) + 2
                answer, pending = pending[:stop].decode(errors="replace"), pending[stop:]
        print(f"> {command}\n{answer.strip()}")
        if "BatchCommand finished: OK" not in answer:
            print(f"FAIL: '{command}' failed")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
