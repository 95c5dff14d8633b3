// Minimal SVG charts for benchmark results (no dependencies): a line chart of a metric against
// payload size (log scale) with one line per series, and a horizontal bar chart for single values.
'use strict';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) =>
  v >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : v >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`;
const size = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : b >= 1024 ? `${b / 1024} KiB` : `${b} B`);

function logTicks(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

// series: [{ name, points: [{x, y, lo, hi}] }]; x = payload bytes. Log-log axes.
function lineChart({ title, yLabel, series }) {
  const W = 1100,
    H = 440,
    L = 70,
    R = 480,
    T = 40,
    B = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.lo ?? p.y, p.hi ?? p.y])).filter((v) => v > 0);
  const x0 = Math.log2(Math.min(...xs)),
    x1 = Math.log2(Math.max(...xs)) || x0 + 1;
  const y0 = Math.log10(Math.min(...ys)) - 0.1,
    y1 = Math.log10(Math.max(...ys)) + 0.1;
  const px = (x) => L + ((Math.log2(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y) => T + (1 - (Math.log10(y) - y0) / (y1 - y0 || 1)) * (H - T - B);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
  svg += `<rect width="100%" height="100%" fill="white"/><text x="${W / 2 - R / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`;
  for (const t of logTicks(10 ** y0, 10 ** y1)) {
    if (Math.log10(t) < y0 || Math.log10(t) > y1) continue;
    svg += `<line x1="${L}" x2="${W - R}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${L - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    svg += `<line x1="${px(x)}" x2="${px(x)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${size(x)}</text>`;
  }
  svg += `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">payload (log scale)</text>`;
  svg += `<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)} (log scale)</text>`;
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    svg += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`;
    for (const p of pts) {
      if (p.lo && p.hi) svg += `<line x1="${px(p.x)}" x2="${px(p.x)}" y1="${py(p.lo)}" y2="${py(p.hi)}" stroke="${c}"/>`;
      svg += `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3" fill="${c}"/>`;
    }
    svg += `<rect x="${W - R + 12}" y="${T + i * 18}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 18 + 10}">${esc(s.name)}</text>`;
  });
  return `${svg}</svg>\n`;
}

// bars: [{ name, y, lo, hi, baseline }]; linear or log x axis, one bar each, error whiskers.
function barChart({ title, xLabel, bars, log = true }) {
  const W = 1000,
    rowH = 22,
    L = 470,
    R = 90,
    T = 40,
    B = 40;
  const H = T + B + bars.length * rowH;
  const vals = bars.flatMap((b) => [b.lo ?? b.y, b.hi ?? b.y]).filter((v) => v > 0);
  const v0 = log ? Math.log10(Math.min(...vals)) - 0.2 : 0,
    v1 = log ? Math.log10(Math.max(...vals)) + 0.1 : Math.max(...vals) * 1.05;
  const px = (v) => L + (((log ? Math.log10(v) : v) - v0) / (v1 - v0 || 1)) * (W - L - R);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
  svg += `<rect width="100%" height="100%" fill="white"/><text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`;
  if (log) {
    for (const t of logTicks(10 ** v0, 10 ** v1)) {
      if (Math.log10(t) < v0 || Math.log10(t) > v1) continue;
      svg += `<line x1="${px(t)}" x2="${px(t)}" y1="${T}" y2="${H - B}" stroke="#ddd"/><text x="${px(t)}" y="${H - B + 14}" text-anchor="middle">${fmt(t)}</text>`;
    }
  }
  svg += `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}${log ? ' (log scale)' : ''}</text>`;
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    const c = b.baseline ? '#999' : COLORS[0];
    svg += `<text x="${L - 8}" y="${y + 15}" text-anchor="end">${esc(b.name)}</text>`;
    svg += `<rect x="${L}" y="${y + 4}" width="${Math.max(1, px(b.y) - L)}" height="${rowH - 8}" fill="${c}"/>`;
    if (b.lo && b.hi) svg += `<line x1="${px(b.lo)}" x2="${px(b.hi)}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" stroke="black"/>`;
    svg += `<text x="${px(b.y) + 6}" y="${y + 15}">${fmt(b.y)}</text>`;
  });
  return `${svg}</svg>\n`;
}

module.exports = { lineChart, barChart, size, fmt };
