// SVG charts for the benchmark results, drawn by hand (no dependency; see docs/benchmarks.md,
// "Charts", for why no charting library): a line chart (one line per series, log or linear axes,
// whiskers for the spread) and a horizontal bar chart (one bar per row, whisker = min–max, a tick
// for p99 when known). Axes carry units and 1-2-5 ticks; the legend sits beside the plot.
'use strict';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const DASH = ['', '6 3', '2 3', '8 3 2 3'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) =>
  v >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : v >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`;
const size = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : b >= 1024 ? `${b / 1024} KiB` : `${b} B`);

// 1-2-5 ticks between min and max on a log axis (fewer when the range is wide).
function logTicks(min, max) {
  const ticks = [];
  const decades = Math.log10(max / min);
  const steps = decades > 4 ? [1] : decades > 2 ? [1, 3] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++)
    for (const s of steps) {
      const t = s * 10 ** e;
      if (t >= min && t <= max) ticks.push(t);
    }
  return ticks;
}

function linTicks(min, max, n = 5) {
  const step = 10 ** Math.floor(Math.log10((max - min) / n || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= n) ?? step * 10;
  const ticks = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + 1e-9; t += nice) ticks.push(+t.toPrecision(6));
  return ticks;
}

function header(W, H, title, subtitle) {
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`;
  svg += `<rect width="100%" height="100%" fill="white"/><text x="20" y="26" font-size="17" font-weight="bold">${esc(title)}</text>`;
  if (subtitle) svg += `<text x="20" y="46" fill="#555">${esc(subtitle)}</text>`;
  return svg;
}

// series: [{ name, points: [{ x, y, lo, hi }] }]. x: payload bytes (log, labelled as sizes) unless xKind 'linear'.
function lineChart({ title, subtitle, yLabel, xLabel = 'message size (log scale)', xKind = 'size', yLog = true, series }) {
  const W = 1100;
  const H = 520;
  const L = 90;
  const R = 380;
  const T = 70;
  const B = 60;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.lo ?? p.y, p.hi ?? p.y])).filter((v) => v > 0);
  const xLogScale = xKind === 'size';
  const fx = xLogScale ? Math.log2 : (v) => v;
  const x0 = fx(xs[0]);
  const x1 = fx(xs[xs.length - 1]) === x0 ? x0 + 1 : fx(xs[xs.length - 1]);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const fy = yLog ? Math.log10 : (v) => v;
  const y0 = yLog ? Math.log10(yMin) - 0.05 : 0;
  const y1 = yLog ? Math.log10(yMax) + 0.05 : yMax * 1.08;
  const px = (x) => L + ((fx(x) - x0) / (x1 - x0)) * (W - L - R);
  const py = (y) => T + (1 - (fy(y) - y0) / (y1 - y0 || 1)) * (H - T - B);
  let svg = header(W, H, title, subtitle);
  const yt = yLog ? logTicks(10 ** y0, 10 ** y1) : linTicks(0, yMax * 1.08);
  for (const t of yt)
    svg += `<line x1="${L}" x2="${W - R}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/><text x="${L - 8}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  for (const x of xs)
    svg += `<line x1="${px(x)}" x2="${px(x)}" y1="${T}" y2="${H - B}" stroke="#f0f0f0"/><text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${xKind === 'size' ? size(x) : x}</text>`;
  svg += `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`;
  svg += `<text x="${(L + W - R) / 2}" y="${H - 16}" text-anchor="middle">${esc(xLabel)}</text>`;
  svg += `<text transform="translate(22 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}${yLog ? ' (log scale)' : ''}</text>`;
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const dash = DASH[Math.floor(i / COLORS.length) % DASH.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    svg += `<polyline fill="none" stroke="${c}" stroke-width="2.2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`;
    for (const p of pts) {
      if (p.lo && p.hi)
        svg += `<line x1="${px(p.x)}" x2="${px(p.x)}" y1="${py(p.lo)}" y2="${py(p.hi)}" stroke="${c}" stroke-width="1.2"/>`;
      svg += `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${c}"/>`;
    }
    const ly = T + i * 20;
    svg += `<line x1="${W - R + 16}" x2="${W - R + 40}" y1="${ly + 6}" y2="${ly + 6}" stroke="${c}" stroke-width="3"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="${W - R + 46}" y="${ly + 10}">${esc(s.name)}</text>`;
  });
  return `${svg}</svg>\n`;
}

// bars: [{ name, y, lo, hi, p99, baseline }]; log x axis. Grey bars: not this library.
function barChart({ title, subtitle, xLabel, bars, log = true }) {
  const W = 1240;
  const rowH = 24;
  const L = 620;
  const R = 110;
  const T = 70;
  const B = 50;
  const H = T + B + bars.length * rowH;
  const vals = bars.flatMap((b) => [b.lo ?? b.y, b.hi ?? b.y, b.p99 ?? b.y]).filter((v) => v > 0);
  const v0 = log ? Math.log10(Math.min(...vals)) - 0.1 : 0;
  const v1 = log ? Math.log10(Math.max(...vals)) + 0.05 : Math.max(...vals) * 1.05;
  const px = (v) => L + (((log ? Math.log10(v) : v) - v0) / (v1 - v0 || 1)) * (W - L - R);
  let svg = header(W, H, title, subtitle);
  if (log)
    for (const t of logTicks(10 ** v0, 10 ** v1))
      svg += `<line x1="${px(t)}" x2="${px(t)}" y1="${T}" y2="${H - B}" stroke="#e5e5e5"/><text x="${px(t)}" y="${H - B + 16}" text-anchor="middle">${fmt(t)}</text>`;
  svg += `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}${log ? ' (log scale)' : ''}</text>`;
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    const c = b.baseline ? '#9a9a9a' : COLORS[0];
    svg += `<text x="${L - 8}" y="${y + 16}" text-anchor="end">${esc(b.name)}</text>`;
    svg += `<rect x="${L}" y="${y + 5}" width="${Math.max(1, px(b.y) - L)}" height="${rowH - 10}" fill="${c}"/>`;
    if (b.lo && b.hi) svg += `<line x1="${px(b.lo)}" x2="${px(b.hi)}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" stroke="black"/>`;
    if (b.p99)
      svg += `<line x1="${px(b.p99)}" x2="${px(b.p99)}" y1="${y + 4}" y2="${y + rowH - 4}" stroke="#d62728" stroke-width="2"/>`;
    svg += `<text x="${Math.max(px(b.y), b.hi ? px(b.hi) : 0) + 6}" y="${y + 16}">${fmt(b.y)}</text>`;
  });
  const lx = 20;
  svg += `<rect x="${lx}" y="${H - 30}" width="12" height="12" fill="${COLORS[0]}"/><text x="${lx + 18}" y="${H - 20}">interproc</text>`;
  svg += `<rect x="${lx + 100}" y="${H - 30}" width="12" height="12" fill="#9a9a9a"/><text x="${lx + 118}" y="${H - 20}">baselines, peers, floors</text>`;
  if (bars.some((b) => b.p99))
    svg += `<line x1="${lx + 300}" x2="${lx + 300}" y1="${H - 32}" y2="${H - 18}" stroke="#d62728" stroke-width="2"/><text x="${lx + 306}" y="${H - 20}">p99</text>`;
  return `${svg}</svg>\n`;
}

module.exports = { lineChart, barChart, size, fmt };
