#!/usr/bin/env python3
"""Sends QMP commands to a QEMU monitor socket, one JSON object per argument, in order.

Usage: qmp.py SOCKET '{"execute": ...}' ...   Exits non-zero on the first error reply.
"""
import json
import socket
import sys


def replies(sock):
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("qmp: QEMU closed the monitor socket")
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        if line.strip():
            yield json.loads(line)


def command_reply(stream):
    for msg in stream:
        if "return" in msg or "error" in msg:
            return msg


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sys.argv[1])
    stream = replies(sock)
    next(stream)  # greeting
    for i, cmd in enumerate(['{"execute": "qmp_capabilities"}'] + sys.argv[2:]):
        sock.sendall(cmd.encode() + b"\n")
        reply = command_reply(stream)
        if "error" in reply:
            raise SystemExit(f"qmp: {cmd} failed: {reply['error']}")
        if i > 0:
            print(json.dumps(reply["return"]))


if __name__ == "__main__":
    main()
