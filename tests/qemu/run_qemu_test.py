#!/usr/bin/env python3
r"""Run one QEMU end-to-end test.

Boots QEMU with the given arguments, reads the serial console, and keeps
the whole serial log in --log. The test passes only when every --expect
pattern has been seen, in order, and the --finish pattern after them; it
fails at once on any --fail pattern, and fails when --timeout (seconds of
wall time) runs out first. QEMU is always killed at the end.

--send-after REGEX TEXT (repeatable) types TEXT on QEMU's stdin, which is
then a pipe (otherwise /dev/null). The sends go strictly one after another,
in the order given: a send starts once the previous one has been written
completely and REGEX matches the serial output seen so far (all of it, from
the start), and its bytes go one every --send-interval seconds, so that a
guest polling a one-byte receive register keeps up. TEXT takes Python
escapes (\r, \n, \x01, \\). The log's trailer says when each send went.
"""
import argparse
import codecs
import os
import re
import select
import signal
import subprocess
import sys
import time

DEFAULT_FAIL = [r"PANIC", r"unexpected exception on CPU", r"^\S*FAIL\b"]


def unescape(text):
    """TEXT of --send-after as bytes: Python escapes decoded, the rest UTF-8."""
    return codecs.escape_decode(text.encode("utf-8"))[0]


def check_ranges(ranges, text):
    """None when every --range holds, else the failure verdict."""
    for regex, lo, hi in ranges:
        found = list(re.finditer(regex, text, re.M))
        if not found:
            return "FAIL (no match for range /%s/)" % regex
        value = int(found[-1].group(1), 0)
        if not int(lo, 0) <= value <= int(hi, 0):
            return "FAIL (/%s/ gave %d, outside [%s, %s])" % (regex, value, lo, hi)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--log", required=True, help="serial log file to write")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--expect", action="append", default=[], help="regex, in order")
    ap.add_argument("--reject", action="append", default=[], help="regex that must never appear")
    ap.add_argument("--finish", required=True, help="regex of the final marker")
    ap.add_argument("--no-default-fail", action="store_true")
    ap.add_argument("--range", nargs=3, action="append", default=[], metavar=("REGEX", "MIN", "MAX"),
                    help="after the finish marker, the number REGEX's first group captures (its last "
                         "match) must lie in [MIN, MAX]")
    ap.add_argument("--unordered", action="store_true",
                    help="the --expect patterns may appear in any order (guests running side by side)")
    ap.add_argument("--send-after", nargs=2, action="append", default=[], metavar=("REGEX", "TEXT"),
                    help="once REGEX has been seen (and the previous send is done), type TEXT on QEMU's stdin")
    ap.add_argument("--send-interval", type=float, default=0.02, help="seconds between two bytes sent")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.qemu[1:] if a.qemu and a.qemu[0] == "--" else a.qemu
    if not cmd:
        ap.error("no QEMU command given after --")

    fail_res = [re.compile(p, re.M) for p in (a.reject + ([] if a.no_default_fail else DEFAULT_FAIL))]
    expect_res = [re.compile(p, re.M) for p in a.expect]
    finish_re = re.compile(a.finish, re.M)
    try:
        sends = [(re.compile(r, re.M), r, unescape(t)) for r, t in a.send_after]
    except (re.error, ValueError) as e:
        ap.error("--send-after: %s" % e)

    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
    log = open(a.log, "wb")
    log.write(("# " + " ".join(cmd) + "\n").encode())
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if sends else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    text = ""
    pos = 0          # where the next expected pattern is searched from
    next_expect = 0
    verdict = None
    deadline = time.monotonic() + a.timeout
    start = time.monotonic()
    next_send = 0    # the send waiting for its pattern, or being written
    sending = b""    # what is left of the send being written
    next_byte = 0.0  # when its next byte may go
    send_log = []    # trailer lines for the log
    try:
        while verdict is None:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                missing = a.expect[next_expect] if next_expect < len(a.expect) else a.finish
                verdict = "FAIL (timeout after %.0fs waiting for /%s/)" % (a.timeout, missing)
                if next_send < len(sends):
                    verdict += " (send %d %s for /%s/)" % (
                        next_send + 1, "still being written" if sending else "still waiting",
                        sends[next_send][1])
                break
            if sending and now >= next_byte:
                try:
                    proc.stdin.write(sending[:1])
                    proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass  # QEMU is gone: the read side below says so
                sending = sending[1:]
                next_byte = now + a.send_interval
                if not sending:
                    send_log.append("# send %d: done at %.1fs" % (next_send + 1, now - start))
                    next_send += 1
            wait = min(left, 0.5)
            if sending:
                wait = max(0.0, min(wait, next_byte - time.monotonic()))
            r, _, _ = select.select([proc.stdout], [], [], wait)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    proc.wait()
                    missing = a.expect[next_expect] if next_expect < len(a.expect) else a.finish
                    verdict = "FAIL (QEMU exited with %d before /%s/)" % (proc.returncode, missing)
                    break
                log.write(chunk)
                log.flush()
                text += chunk.decode("utf-8", "replace").replace("\r", "")
            for fr in fail_res:
                m = fr.search(text)
                if m:
                    line = text[text.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
                    verdict = "FAIL (failure marker: %s)" % line.strip()
                    break
            if verdict:
                break
            if not sending and next_send < len(sends) and sends[next_send][0].search(text):
                sending = sends[next_send][2]
                next_byte = time.monotonic()
                send_log.append("# send %d: /%s/ seen at %.1fs, typing %r" % (
                    next_send + 1, sends[next_send][1], next_byte - start, sending))
                if not sending:
                    next_send += 1
            if a.unordered:
                missing = [i for i, r in enumerate(expect_res) if not r.search(text)]
                next_expect = len(expect_res) if not missing else missing[0]
                pos = 0
            else:
                while next_expect < len(expect_res):
                    m = expect_res[next_expect].search(text, pos)
                    if not m:
                        break
                    pos = m.end()
                    next_expect += 1
            if next_expect == len(expect_res):
                m = finish_re.search(text, pos)
                if m:
                    verdict = check_ranges(a.range, text) or "PASS"
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        for line in send_log:
            log.write(("\n" + line).encode())
        log.write(("\n# verdict: %s after %.1fs\n" % (verdict, time.monotonic() - start)).encode())
        log.close()
    print("QEMU-TEST %s: %s (log: %s)" % (a.name, verdict, a.log))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
