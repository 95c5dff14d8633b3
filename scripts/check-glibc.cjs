// node scripts/check-glibc.cjs FILE.node... [--max 2.28]: fails when a shared object needs a
// GLIBC_x.y symbol version newer than --max (default 2.28, the oldest glibc the prebuilds
// promise), and prints the highest version each file needs. Reads the ELF version-needs section
// itself (SHT_GNU_verneed), so it works for cross-built files without binutils of that target.
'use strict';
const fs = require('node:fs');
const { parseArgs } = require('node:util');

const SHT_GNU_VERNEED = 0x6ffffffe;

/** Every version name (GLIBC_2.17, GCC_3.0, ...) that a 64-bit little-endian ELF file needs. */
function neededVersions(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: not a 64-bit LE ELF file`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const section = (i) => {
    const o = shoff + i * shentsize;
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      link: b.readUInt32LE(o + 0x28),
      info: b.readUInt32LE(o + 0x2c),
    };
  };
  const names = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link).offset;
    const str = (off) => b.toString('latin1', strtab + off, b.indexOf(0, strtab + off));
    let need = s.offset;
    for (let n = 0; n < s.info; n++) {
      const cnt = b.readUInt16LE(need + 2);
      let aux = need + b.readUInt32LE(need + 8);
      for (let a = 0; a < cnt; a++) {
        names.push(str(b.readUInt32LE(aux + 8)));
        aux += b.readUInt32LE(aux + 12);
      }
      need += b.readUInt32LE(need + 12);
    }
  }
  return names;
}

const cmp = (x, y) => {
  const [a, b] = [x.split('.').map(Number), y.split('.').map(Number)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

const { values, positionals } = parseArgs({ options: { max: { type: 'string', default: '2.28' } }, allowPositionals: true });
let failed = false;
for (const file of positionals) {
  const glibc = neededVersions(file)
    .filter((v) => v.startsWith('GLIBC_2'))
    .map((v) => v.slice(6))
    .sort(cmp);
  const highest = glibc.at(-1) ?? 'none';
  const ok = glibc.every((v) => cmp(v, values.max) <= 0);
  console.log(`${file}: needs GLIBC ${highest} (at most ${values.max} allowed): ${ok ? 'ok' : 'TOO NEW'}`);
  if (!ok) failed = true;
}
process.exit(failed ? 1 : 0);
