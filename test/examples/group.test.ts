// The process-group examples, run as a user would: the parallel sum (by its launcher), and the
// hybrid web server (processes that hand requests to each other by messages, each with worker
// threads sharing one segment under a Mutex): answers checked, every process and thread took part.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const examples = path.join(__dirname, '..', '..', 'examples');

it('examples/parallel-sum: 4 processes add 1..N', () => {
  const out = execFileSync(process.execPath, [path.join(examples, 'parallel-sum', 'run.cjs'), '4', '1000000'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const r = JSON.parse(out.trim().split('\n').pop() as string);
  expect(r.total).toBe(500000500000);
  expect(r.expected).toBe(r.total);
  expect(r.counts).toEqual([250000, 250000, 250000, 250000]);
});

it('examples/hybrid-server: requests are answered by every process and every thread', async () => {
  const child = spawn(process.execPath, [path.join(examples, 'hybrid-server', 'run.cjs'), '3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        const m = /"port":(\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error('the server exited before listening')));
    });
    const base = `http://127.0.0.1:${port}`;
    const ns = [1, 10, 999, 1000, 12345, 3, 7, 100, 5000];
    const answers = (await Promise.all(ns.map((n) => fetch(`${base}/sum?n=${n}`).then((r) => r.json())))) as {
      n: number;
      answer: number;
      rank: number;
    }[];
    for (const [i, n] of ns.entries()) {
      expect(answers[i]?.n).toBe(n);
      expect(answers[i]?.answer).toBe((n * (n + 1) * (2 * n + 1)) / 6);
    }
    expect(new Set(answers.map((a) => a.rank))).toEqual(new Set([0, 1, 2]));
    const stats = (await fetch(`${base}/stats`).then((r) => r.json())) as { rank: number; threads: number[] }[];
    expect(stats.map((s: { rank: number }) => s.rank)).toEqual([0, 1, 2]);
    for (const s of stats) for (const jobs of s.threads.slice(0, 3)) expect(jobs).toBeGreaterThan(0);
    await fetch(`${base}/quit`).then((r) => r.text());
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect(readdirSync('/dev/shm').filter((f) => f.startsWith('interproc-hybrid-'))).toEqual([]);
});
