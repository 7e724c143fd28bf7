// Small SVG charts for the admin console: lines and stacked bars, no library.
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00", "#868e96"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const TICKS = 4;

/** A round top for the axis (1, 2, 2.5 or 5 × a power of ten per tick) at or above the largest value. */
export function niceTop(value, ticks = TICKS) {
  if (!(value > 0)) return ticks;
  const raw = value / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw - 1e-9);
  return step * ticks;
}

/** A tick's label: milliseconds past two seconds read as seconds; no long fractions. */
export function tickLabel(value, unit) {
  if (unit === "ms" && value >= 2000) return `${Math.round((value / 1000) * 10) / 10} s`;
  const shown = Math.abs(value) >= 10 ? Math.round(value) : Math.round(value * 100) / 100;
  return unit === "ms" ? `${shown} ms` : String(shown);
}

function frame(width, height, max, labels, title, unit, days) { // days: points with data on a per-day chart
  const pad = { left: 50, right: 12, top: 24, bottom: 28 };
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  root.append(svg("text", { x: pad.left, y: 15, class: "title" }, title));
  if (days !== undefined && days <= 1) {
    // One point is not a trend: say so rather than draw a lone dot on an empty grid.
    root.append(svg("text", { x: width - pad.right, y: 15, class: "axis one-day", "text-anchor": "end" },
      days === 1 ? "one day of data so far" : "no data yet"));
  }
  const plotH = height - pad.top - pad.bottom;
  for (let i = 0; i <= TICKS; i++) {
    const y = pad.top + plotH - (plotH * i) / TICKS;
    root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" },
      tickLabel((max * i) / TICKS, unit)));
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  const plotW = width - pad.left - pad.right;
  labels.forEach((label, i) => {
    if (i % step) return;
    const x = pad.left + (labels.length === 1 ? plotW / 2 : (plotW * i) / (labels.length - 1));
    root.append(svg("text", { x, y: height - 8, class: "axis", "text-anchor": "middle" }, label));
  });
  return { root, pad, plotW, plotH };
}

function legend(series) {
  const box = document.createElement("div");
  box.className = "legend";
  series.forEach((s, i) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = s.color || COLORS[i % COLORS.length];
    item.append(swatch, s.name);
    box.append(item);
  });
  return box;
}

/** Lines over shared x labels; null values leave a gap. */
export function lineChart({ title, labels, series, width = 560, height = 220, max, unit, daily = false }) {
  const values = series.flatMap((s) => s.values).filter((v) => typeof v === "number");
  const top = max ?? niceTop(Math.max(0, ...values));
  const days = daily ? labels.filter((_, i) => series.some((s) => typeof s.values[i] === "number")).length : undefined;
  const { root, pad, plotW, plotH } = frame(width, height, top, labels, title, unit, days);
  const x = (i) => pad.left + (labels.length === 1 ? plotW / 2 : (plotW * i) / (labels.length - 1));
  const y = (v) => pad.top + plotH - (plotH * v) / top;
  series.forEach((s, k) => {
    const color = s.color || COLORS[k % COLORS.length];
    let d = "";
    s.values.forEach((v, i) => {
      if (typeof v !== "number") { d += " "; return; }
      d += (d.trim() === "" || d.endsWith(" ") ? "M" : "L") + x(i).toFixed(1) + "," + y(v).toFixed(1);
    });
    root.append(svg("path", { d: d.trim().replace(/ +/g, " "), fill: "none", stroke: color, "stroke-width": 2 }));
    s.values.forEach((v, i) => {
      if (typeof v === "number" && s.values.length <= 60) root.append(svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: color }));
    });
  });
  const wrap = document.createElement("figure");
  wrap.append(root, legend(series));
  return wrap;
}

/** Stacked bars, one per x label. */
export function barChart({ title, labels, series, width = 560, height = 220, daily = false }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const top = niceTop(Math.max(0, ...totals));
  const days = daily ? totals.filter((v) => v > 0).length : undefined;
  const { root, pad, plotW, plotH } = frame(width, height, top, labels, title, undefined, days);
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, slot * 0.6);
  labels.forEach((_, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] || 0;
      if (!v) return;
      const h = (plotH * v) / top;
      const yTop = pad.top + plotH - (plotH * base) / top - h;
      const bar = svg("rect", { x: pad.left + slot * i + (slot - barW) / 2, y: yTop, width: barW, height: h,
                                fill: s.color || COLORS[k % COLORS.length] });
      bar.append(svg("title", {}, `${s.name}: ${v}`));
      root.append(bar);
      base += v;
    });
  });
  // Labels here are spread over slots, not points: redraw them centred on the bars.
  root.querySelectorAll("text.axis[text-anchor='middle']").forEach((node) => node.remove());
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % step) return;
    root.append(svg("text", { x: pad.left + slot * i + slot / 2, y: height - 8, class: "axis", "text-anchor": "middle" }, label));
  });
  const wrap = document.createElement("figure");
  wrap.append(root, legend(series));
  return wrap;
}
