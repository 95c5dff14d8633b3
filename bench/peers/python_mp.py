#!/usr/bin/env python3
"""Python multiprocessing peers of the benchmark suite, the way a Python user writes them: Pipe,
Queue, SharedMemory + two Semaphores, and a Manager dict (shared state over messages). Two processes
each, 64 B payloads copied in and out on every hop, every reply checked. Prints one JSON row per
result (the contract of bench/lib/report.cjs), with p50/p99/p99.9 of the individual round trips.

  python3 bench/peers/python_mp.py [--quick]
"""
import json
import multiprocessing as mp
import os
import sys
import time
from multiprocessing import shared_memory

QUICK = "--quick" in sys.argv
REPS = 3 if QUICK else 5
ROUNDS = 1000 if QUICK else 4000
STREAM = 20000 if QUICK else 100000
SIZE = 64


def payload(i):
    return i.to_bytes(4, "little") + bytes(SIZE - 8) + i.to_bytes(4, "little")


def percentiles(samples_ns):
    s = sorted(samples_ns)
    pick = lambda p: s[min(len(s) - 1, max(0, int(-(-p / 100 * len(s) // 1)) - 1))] / 1000
    return {"p50": pick(50), "p99": pick(99), "p999": pick(99.9)}


def row(mechanism, mode, metric, runs, pct=None, note=""):
    r = {"area": "peers", "mechanism": mechanism, "mode": mode, "payload": SIZE, "metric": metric, "runs": runs,
         "placement": "unpinned", "baseline": True, "peer": "python", "note": note}
    if pct:
        r["percentiles"] = pct
    print(json.dumps(r), flush=True)


def round_trips(once, name, mode, note):
    runs, samples = [], []
    for i in range(200):
        once(i)
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        for i in range(ROUNDS):
            a = time.perf_counter_ns()
            once(i)
            samples.append(time.perf_counter_ns() - a)
        runs.append((time.perf_counter_ns() - t0) / ROUNDS / 1000)
    row(name, mode, "rtt_us", runs, percentiles(samples), note)


# ---- Pipe ----
def pipe_echo(conn):
    while True:
        m = conn.recv_bytes()
        if not m:
            break
        conn.send_bytes(m)


def pipe_sink(conn, n):
    for _ in range(REPS + 1):
        for i in range(n):
            m = conn.recv_bytes()
            if m[:4] != i.to_bytes(4, "little"):
                raise SystemExit("Pipe stream: out of order")
        conn.send_bytes(b"a")


def bench_pipe():
    a, b = mp.Pipe()
    p = mp.Process(target=pipe_echo, args=(b,))
    p.start()

    def once(i):
        a.send_bytes(payload(i))
        if a.recv_bytes() != payload(i):
            raise SystemExit("Pipe: wrong echo")

    round_trips(once, "Python multiprocessing Pipe", "send_bytes/recv_bytes", "one message in flight")
    a.send_bytes(b"")
    p.join()
    a, b = mp.Pipe()
    p = mp.Process(target=pipe_sink, args=(b, STREAM))
    p.start()
    runs = []
    for r in range(REPS + 1):
        t0 = time.perf_counter()
        for i in range(STREAM):
            a.send_bytes(payload(i))
        a.recv_bytes()
        if r:
            runs.append(STREAM / (time.perf_counter() - t0))
    p.join()
    row("Python multiprocessing Pipe", "send_bytes/recv_bytes", "msgs_per_s", runs, note="one way, acknowledged at the end")


# ---- Queue ----
def queue_echo(q_in, q_out):
    while True:
        m = q_in.get()
        if m is None:
            break
        q_out.put(m)


def queue_sink(q_in, q_out, n):
    for _ in range(REPS + 1):
        for i in range(n):
            m = q_in.get()
            if m[:4] != i.to_bytes(4, "little"):
                raise SystemExit("Queue stream: out of order")
        q_out.put(b"a")


def bench_queue():
    q1, q2 = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_echo, args=(q1, q2))
    p.start()

    def once(i):
        q1.put(payload(i))
        if q2.get() != payload(i):
            raise SystemExit("Queue: wrong echo")

    round_trips(once, "Python multiprocessing Queue", "put/get", "one message in flight")
    q1.put(None)
    p.join()
    q1, q2 = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_sink, args=(q1, q2, STREAM))
    p.start()
    runs = []
    for r in range(REPS + 1):
        t0 = time.perf_counter()
        for i in range(STREAM):
            q1.put(payload(i))
        q2.get()
        if r:
            runs.append(STREAM / (time.perf_counter() - t0))
    p.join()
    row("Python multiprocessing Queue", "put/get", "msgs_per_s", runs, note="one way, acknowledged at the end")


# ---- SharedMemory + two Semaphores ----
def shm_echo(name, ping, pong):
    shm = shared_memory.SharedMemory(name=name)
    while True:
        ping.acquire()
        m = bytes(shm.buf[:SIZE])  # copy out
        if m[:4] == b"\xff\xff\xff\xff":
            break
        shm.buf[SIZE:2 * SIZE] = m  # copy in
        pong.release()
    shm.close()


def bench_shm():
    shm = shared_memory.SharedMemory(create=True, size=4096)
    ping, pong = mp.Semaphore(0), mp.Semaphore(0)
    p = mp.Process(target=shm_echo, args=(shm.name, ping, pong))
    p.start()

    def once(i):
        shm.buf[:SIZE] = payload(i)
        ping.release()
        pong.acquire()
        if bytes(shm.buf[SIZE:2 * SIZE]) != payload(i):
            raise SystemExit("SharedMemory: wrong echo")

    round_trips(once, "Python SharedMemory + 2 Semaphores", "release/acquire", "payload copied into and out of the segment")
    shm.buf[:4] = b"\xff\xff\xff\xff"
    ping.release()
    p.join()
    shm.close()
    shm.unlink()


# ---- Manager dict: shared state over messages ----
def bench_manager():
    with mp.Manager() as m:
        d = m.dict()

        def once(i):
            d["k"] = payload(i)
            if d["k"] != payload(i):
                raise SystemExit("Manager: wrong value")

        # a set and a get: two round trips to the manager process
        round_trips(once, "Python Manager dict", "set + get", "shared state over messages: two requests to the manager process")


if __name__ == "__main__":
    mp.set_start_method("fork")
    for b in (bench_pipe, bench_queue, bench_shm, bench_manager):
        print(f"  .. {b.__name__[6:]}", file=sys.stderr, flush=True)
        b()
