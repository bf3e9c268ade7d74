#!/usr/bin/python3
"""Stands in for `sendmail -t -i` in test_710_mail.py.

    sendmail-capture.py DIR [sendmail options...]

Reads one message from stdin and stores it as DIR/<ns>-<pid>.eml (written
to a temporary name first, so a reader never sees half a message), the
command line as the same name with .args. While DIR/fail exists it stores
nothing, writes that file's text (or a default) to stderr and exits 75
(EX_TEMPFAIL), as sendmail does when it cannot queue a message.
"""
import os
import sys
import time


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: sendmail-capture.py DIR [options]\n")
        return 64
    out = sys.argv[1]
    data = sys.stdin.buffer.read()
    flag = os.path.join(out, "fail")
    if os.path.exists(flag):
        with open(flag, encoding="utf-8", errors="replace") as f:
            sys.stderr.write(f.read() or "capture: told to fail\n")
        return 75
    name = "%d-%d" % (time.time_ns(), os.getpid())
    tmp = os.path.join(out, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    with open(os.path.join(out, name + ".args"), "w", encoding="utf-8") as f:
        f.write("\n".join(sys.argv[1:]) + "\n")
    os.rename(tmp, os.path.join(out, name + ".eml"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
