// The security rows: the default permissions of what each model creates, and whether a process of
// another user can open or connect to it, found by trying (as uid/gid `nobody` when run as root;
// otherwise the row says it was not tried).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Column } from './column';

export interface SecurityResult {
  mode: string;
  /** Permission bits granted to group and others. */
  openBits: number;
  otherUser: 'refused' | 'allowed' | 'not tried';
  detail: string;
}

const NOBODY = 65534;

// What the other user's process runs: open the file read-write, or connect to the socket.
const PROBE = `
const [kind, p] = process.argv.slice(1);
const done = (r) => { process.stdout.write(r); process.exit(0); };
if (kind === 'file') { try { require('fs').openSync(p, 'r+'); done('allowed'); } catch (e) { done('refused ' + e.code); } }
else { const s = require('net').connect(p); s.on('connect', () => done('allowed')); s.on('error', (e) => done('refused ' + e.code)); }
`;

function tryAs(uid: number, kind: string, p: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', PROBE, kind, p], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let outText = '';
    let errText = '';
    child.stdout.on('data', (d) => (outText += d));
    child.stderr.on('data', (d) => (errText += d));
    child.on('error', (e) => resolve(`could not run: ${e.message}`));
    child.on('close', () => resolve(outText.trim() || `could not run: ${errText.trim().split('\n')[0]}`));
  });
}

export async function security(col: Column, dir: string): Promise<SecurityResult> {
  const obj = await col.securityObject!(dir);
  try {
    const st = fs.statSync(obj.path);
    const mode = st.mode & 0o777;
    const bits = mode & 0o077;
    const openBits = bits
      .toString(2)
      .split('')
      .filter((b) => b === '1').length;
    const modeText = `0${mode.toString(8)} ${obj.kind === 'socket' ? 'socket file' : obj.path.split('/').slice(0, 3).join('/')}`;
    if (process.getuid?.() !== 0)
      return { mode: modeText, openBits, otherUser: 'not tried', detail: 'not root: cannot run as another uid' };
    const r = await tryAs(NOBODY, obj.kind, obj.path);
    if (r.startsWith('could not run')) return { mode: modeText, openBits, otherUser: 'not tried', detail: r };
    return { mode: modeText, openBits, otherUser: r === 'allowed' ? 'allowed' : 'refused', detail: `uid ${NOBODY}: ${r}` };
  } finally {
    await obj.close();
  }
}
