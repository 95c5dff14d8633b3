// How sizes, ages and modes read in the terminal tables (JSON keeps the raw numbers).

/** 64 B, 4.0 KiB, 1.5 MiB, ... */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** 42s, 5m, 3h, 12d: the largest whole unit. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Permission bits as four octal digits: 0600. */
export function mode(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}
