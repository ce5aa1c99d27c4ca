#!/usr/bin/env python3
"""Writes the fuzz seed corpus: one valid encoded message per file, for every message type."""
import os
import sys

import msgpack

V = 2
N1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
N2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
SEEDS = {
    "hello-client": [V, 100, 1, {"role": "client", "nonce": N1, "version": "0.1.0"}],
    "hello-worker": [V, 100, 2, {"role": "worker", "nonce": N1, "version": "0.1.0",
                                 "host": "node-07", "pid": 4242, "slots": 8, "mem": 1 << 36,
                                 "slurm_job": "123_4"}],
    "challenge": [V, 105, 17, {"nonce": N2, "proof": N1}],
    "auth": [V, 106, 18, {"proof": N2}],
    "welcome": [V, 101, 3, {"worker_id": 17, "heartbeat_ms": 2000}],
    "bye": [V, 102, 4, {"worker_id": 17}],
    "error": [V, 103, 5, {"status": 5, "message": "wrong token"}],
    "ack": [V, 104, 6, {}],
    "ack-cancel": [V, 104, 7, {"cancel": [(5 << 32) | 1, (5 << 32) | 2]}],
    "submit": [V, 200, 8, {"pipeline": '{"name":"p","steps":[{"op":"anc"}]}',
                           "inputs": ["/data/a.edf", "/data/b.edf"], "output": "/out"}],
    "accepted": [V, 201, 9, {"jobs": [1, 2, 3]}],
    "status": [V, 202, 10, {"what": "job", "job": 3}],
    "status-reply": [V, 203, 11, {"content_type": "application/json", "body": '{"jobs":[]}'}],
    "status-reply-metrics": [V, 203, 11, {"content_type": "text/plain; version=0.0.4",
                                          "body": "neurodag_messages_total 3\n"}],
    "cancel": [V, 204, 12, {"job": 9}],
    "gc": [V, 400, 19, {"older_than_ms": 0}],
    "task-request": [V, 300, 13, {"worker_id": 3, "free_slots": 1, "results": [
        {"task": (1 << 32) | 2, "attempt": 1, "ok": True, "elapsed_us": 1500,
         "result": '{"triggers":[1,2,3]}'},
        {"task": (1 << 32) | 3, "attempt": 2, "ok": False, "error": "aas: window too big"}]}],
    "task-assign": [V, 301, 14, {"tasks": [
        {"task": 2 << 32, "attempt": 1, "spec": '{"op":"detect_triggers"}'},
        {"task": (2 << 32) | 1, "attempt": 3, "spec": '{"op":"highpass"}', "deps": "{}"}]}],
    "idle": [V, 302, 15, {"retry_ms": 500}],
    "heartbeat": [V, 303, 16, {"worker_id": 3, "running": [(4 << 32) | 10]}],
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
for name, msg in SEEDS.items():
    with open(os.path.join(out, name + ".msgpack"), "wb") as f:
        f.write(msgpack.packb(msg, use_bin_type=True))
