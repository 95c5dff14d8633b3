"""Python multiprocessing.Manager proxies: the shared state a Python user would reach for.

A Manager process owns a dict and a Value; a client process measures one operation at a time
(dict get / set of 8 bytes, Value += 1 under the Manager's Lock) and prints one JSON line:
{"get_p50_us", "get_p99_us", "set_p50_us", "incr_p50_us", "get_ops_per_s", "incr_ops_per_s"}.
With --pin, the client runs on CPU 0 and the Manager process on CPU 1 (as the other sides of the
store benchmark do).
Usage: python3 bench/peers/store_manager.py N [--pin]
"""
import json
import multiprocessing as mp
import os
import sys
import time


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def client(d, v, lock, n, out, pin):
    if pin:
        os.sched_setaffinity(0, {0})
    d["k"] = b"x" * 8
    get, put, incr = [], [], []
    for _ in range(n):
        t = time.perf_counter_ns()
        d["k"]
        get.append((time.perf_counter_ns() - t) / 1000)
    for _ in range(n):
        t = time.perf_counter_ns()
        d["k"] = b"y" * 8
        put.append((time.perf_counter_ns() - t) / 1000)
    for _ in range(n):
        t = time.perf_counter_ns()
        with lock:
            v.value += 1
        incr.append((time.perf_counter_ns() - t) / 1000)
    out.put(
        {
            "get_p50_us": pct(get, 50),
            "get_p99_us": pct(get, 99),
            "set_p50_us": pct(put, 50),
            "incr_p50_us": pct(incr, 50),
            "get_ops_per_s": n / (sum(get) / 1e6),
            "incr_ops_per_s": n / (sum(incr) / 1e6),
            "value_ok": v.value == n,
        }
    )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    pin = "--pin" in sys.argv
    with mp.Manager() as m:
        if pin:
            os.sched_setaffinity(m._process.pid, {1})
        d, v, lock = m.dict(), m.Value("i", 0), m.Lock()
        out = mp.Queue()
        p = mp.Process(target=client, args=(d, v, lock, n, out, pin))
        p.start()
        r = out.get()
        p.join()
    print(json.dumps(r))
