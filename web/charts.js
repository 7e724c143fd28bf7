// Small SVG charts for the admin console: lines and stacked bars, no library.
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00", "#868e96"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(width, height, max, labels, title) {
  const pad = { left: 44, right: 12, top: 24, bottom: 28 };
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  root.append(svg("text", { x: pad.left, y: 15, class: "title" }, title));
  const plotH = height - pad.top - pad.bottom;
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }));
    const value = (max * i) / 4;
    root.append(svg("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" },
      value >= 100 ? Math.round(value) : Math.round(value * 100) / 100));
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
export function lineChart({ title, labels, series, width = 560, height = 220, max }) {
  const values = series.flatMap((s) => s.values).filter((v) => typeof v === "number");
  const top = max ?? (Math.max(0, ...values) || 1) * 1.1;
  const { root, pad, plotW, plotH } = frame(width, height, top, labels, title);
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
export function barChart({ title, labels, series, width = 560, height = 220 }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const top = (Math.max(0, ...totals) || 1) * 1.1;
  const { root, pad, plotW, plotH } = frame(width, height, top, labels, title);
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
