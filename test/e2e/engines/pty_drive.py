#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal, like a person at a terminal would.

Usage: pty_drive.py TIMEOUT_SECONDS EXPECT SEND -- COMMAND [ARGS...]

Waits until the command's terminal output contains EXPECT, then types SEND and Enter (EXPECT and
SEND both empty: types nothing); collects all output until the command exits (or TIMEOUT_SECONDS
pass, then kills it) and prints one JSON object: {"output", "bytes", "status", "signal", "sent",
"timedOut"}, where "bytes" is every byte the terminal received, exactly (base64).
"""
import base64
import json
import os
import pty
import select
import signal
import sys
import time


def main() -> int:
    timeout = float(sys.argv[1])
    expect = sys.argv[2].encode()
    send = sys.argv[3].encode()
    if sys.argv[4] != '--':
        print('usage: pty_drive.py TIMEOUT EXPECT SEND -- COMMAND...', file=sys.stderr)
        return 2
    command = sys.argv[5:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b''
    sent = expect == b'' and send == b''
    timed_out = False
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the terminal's last holder went away
                break
            if not data:
                break
            output += data
        if not sent and expect in output:
            os.write(fd, send + b'\r')
            sent = True
    if timed_out:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    print(json.dumps({
        'output': output.decode('utf-8', 'replace'),
        'bytes': base64.b64encode(output).decode(),
        'status': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        'sent': sent,
        'timedOut': timed_out,
    }))
    return 0


if __name__ == '__main__':
    sys.exit(main())
