#!/usr/bin/env python3
"""fake_supervisor.py - plays a deployment's supervisor towards one workload
runtime (tests/cli/serve.sh): what a relay that lies can and cannot do.

  fake_supervisor.py capture EHAL STATE GUEST OUT
      runs workload "alice" sending a sealed message to "bob"; writes the
      sealed payload the relay sees to OUT
  fake_supervisor.py relay EHAL STATE GUEST SEALED
      runs workload "bob" with five receives, answered in turn with: the
      sealed message as from alice; as from mallory; from alice but one
      byte changed; from alice claiming another recipient; a plain one
      from alice.  The guest's output goes to stdout.

Frames: u32 little-endian length, then an op byte and its fields (u8, u32,
u64, and byte strings as u32 length + bytes); answers start with 0 (ok) or
1 (error, then a string).  See src/deploy/wire.h and bus.c.
"""
import os
import socket
import struct
import subprocess
import sys

OP_SEND, OP_RECEIVE = 1, 2


def read_frame(s):
    hdr = b""
    while len(hdr) < 4:
        k = s.recv(4 - len(hdr))
        if not k:
            return None
        hdr += k
    (n,) = struct.unpack("<I", hdr)
    body = b""
    while len(body) < n:
        k = s.recv(n - len(body))
        if not k:
            return None
        body += k
    return body


def frame(body):
    return struct.pack("<I", len(body)) + body


def bstr(b):
    return struct.pack("<I", len(b)) + b


def spawn(ehal, state, guest, workload, steps):
    sup, child = socket.socketpair()
    proc = subprocess.Popen(
        [ehal, "run", "--channel", "3", "--workload", workload, "--state-dir", state, "--", guest]
        + steps,
        pass_fds=(3,) if child.fileno() == 3 else (),
        preexec_fn=lambda: os.dup2(child.fileno(), 3),
        close_fds=False,
    )
    child.close()
    return sup, proc


def main():
    mode, ehal, state, guest, path = sys.argv[1:6]
    if mode == "capture":
        sup, proc = spawn(ehal, state, guest, "alice", ["send:bob:secret:enc"])
        body = read_frame(sup)
        assert body[0] == OP_SEND, body[0]
        (rlen,) = struct.unpack("<I", body[1:5])
        to = body[5 : 5 + rlen]
        enc = body[5 + rlen]
        (plen,) = struct.unpack("<I", body[6 + rlen : 10 + rlen])
        payload = body[10 + rlen : 10 + rlen + plen]
        assert to == b"bob" and enc == 1 and b"secret" not in payload
        open(path, "wb").write(payload)
        sup.sendall(frame(b"\x00" + struct.pack("<Q", 1)))
        sys.exit(proc.wait())
    sealed = open(path, "rb").read()
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    answers = [
        (b"alice", b"bob", 1, sealed),
        (b"mallory", b"bob", 1, sealed),
        (b"alice", b"bob", 1, bytes(tampered)),
        (b"alice", b"carol", 1, sealed),
        (b"alice", b"carol", 0, b"plain"),
    ]
    sup, proc = spawn(ehal, state, guest, "bob", ["recv:0"] * len(answers))
    for sender, recipient, enc, payload in answers:
        body = read_frame(sup)
        assert body and body[0] == OP_RECEIVE, body
        sup.sendall(frame(b"\x00\x01" + bstr(sender) + bstr(recipient) + bytes([enc]) + bstr(payload)))
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
