// The peers a user would pick instead, in the same run as the library's rows: Python multiprocessing
// (Pipe, Queue, SharedMemory + Semaphore, Manager), Redis through ioredis against a redis-server the
// runner starts on a Unix socket in a temporary folder (and stops), zeromq.js over ipc://, and Node
// worker_threads + MessagePort as an in-process reference. Each is skipped with a clear line when it
// cannot run here. Run: node bench/scenarios/peers.cjs [--quick]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { progress, repetitions, quick } = require('../lib/report.cjs');

const PEERS = path.join(__dirname, '..', 'peers');
const NODE_PEERS = path.join(PEERS, 'node-peers.cjs');
const common = { reps: repetitions, rounds: quick ? 1000 : 4000, count: quick ? 20000 : 100000, sizes: [64, 65536] };

function skip(what, why) {
  progress(`skipped ${what}: ${why}`);
  process.stdout.write(`${JSON.stringify({ skip: `${what}: ${why}` })}\n`);
}

// Runs a program whose stdout is result rows: passed through to the runner as they come.
function passThrough(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    child.stdout.on('data', (d) => process.stdout.write(d));
    child.on('error', (err) => resolve(err.message));
    child.on('exit', (code, signal) => resolve(code === 0 ? null : `exited with ${signal ?? code}`));
  });
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const canRequire = (m) => {
  try {
    require.resolve(m);
    return true;
  } catch {
    return false;
  }
};

async function python() {
  if (!has('python3')) return skip('Python multiprocessing', 'python3 is not installed');
  progress('Python multiprocessing: Pipe, Queue, SharedMemory + 2 Semaphores, Manager dict');
  const err = await passThrough('python3', [path.join(PEERS, 'python_mp.py'), ...(quick ? ['--quick'] : [])]);
  if (err) skip('Python multiprocessing (part)', err);
}

async function redis() {
  if (!has('redis-server')) return skip('Redis', 'redis-server is not installed (Debian: apt-get install redis-server)');
  if (!canRequire('ioredis')) return skip('Redis', 'the ioredis package is not installed (a devDependency: npm install)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const server = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  try {
    for (let i = 0; !fs.existsSync(socket); i++) {
      if (i > 200 || server.exitCode !== null) return skip('Redis', 'redis-server did not start');
      await new Promise((r) => setTimeout(r, 25));
    }
    progress(`Redis ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.split(' ')[2]} via ioredis`);
    const err = await passThrough(process.execPath, [NODE_PEERS, 'redis', JSON.stringify({ ...common, socket })]);
    if (err) skip('Redis (part)', err);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function zeromq() {
  if (!canRequire('zeromq')) return skip('zeromq.js', 'the zeromq package is not installed (optional)');
  try {
    require('zeromq');
  } catch (err) {
    return skip('zeromq.js', `its addon does not load: ${err.message.split('\n')[0]}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-zmq-'));
  const endpoint = `ipc://${path.join(dir, 'z')}`;
  const rep = spawn(process.execPath, [NODE_PEERS, 'zmq-rep', JSON.stringify({ ...common, endpoint })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      rep.stdout.once('data', resolve);
      rep.once('exit', () => reject(new Error('the REP side exited')));
    });
    progress(`zeromq.js ${require('zeromq').version} over ipc://`);
    const err = await passThrough(process.execPath, [NODE_PEERS, 'zmq', JSON.stringify({ ...common, endpoint })]);
    if (err) skip('zeromq.js (part)', err);
  } catch (err) {
    skip('zeromq.js', err.message);
  } finally {
    rep.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function worker() {
  progress('Node worker_threads + MessagePort (one process: a reference)');
  const err = await passThrough(process.execPath, [NODE_PEERS, 'worker', JSON.stringify(common)]);
  if (err) skip('worker_threads (part)', err);
}

(async () => {
  for (const peer of [python, redis, zeromq, worker]) await peer();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
