// Canvas charts for the traffic series: a stacked area per status class with axes, and a sparkline.
import type { StatusClass } from './api.js';

export const CLASS_COLORS: Record<StatusClass, string> = {
  '1xx': '#8b95a5',
  '2xx': '#2f9e6b',
  '3xx': '#3b7dd8',
  '4xx': '#e0a030',
  '5xx': '#d9534f',
};
// Bottom to top: the usual answers first, errors on top where they stand out.
const STACK_ORDER: StatusClass[] = ['2xx', '3xx', '1xx', '4xx', '5xx'];

export interface Series {
  /** Number of slots on the x axis (the newest sample is at the right edge). */
  slots: number;
  requests: number[];
  classes: Record<StatusClass, number[]>;
}

/** Sizes the canvas backing store to its CSS box and the screen's pixel ratio; returns a 2D context in CSS pixels. */
function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } | undefined {
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return undefined;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/** A round axis maximum at or above `n` (1, 2, 5, 10, 20, 50, …). */
function niceMax(n: number): number {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= n) return step * magnitude;
  return 10 * magnitude;
}

function formatRate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1).replace(/\.0$/, '') : n.toFixed(2).replace(/\.?0+$/, '');
}

/** Requests per second, stacked by status class, with a y axis in req/s and an x axis in seconds ago. */
export function drawStacked(canvas: HTMLCanvasElement, series: Series): void {
  const prepared = prepare(canvas);
  if (!prepared) return;
  const { ctx, width, height } = prepared;
  const left = 44;
  const right = 8;
  const top = 8;
  const bottom = 20;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  canvas.dataset.samples = String(series.requests.length);
  // One sample is a point in time: draw it as a one-second step so it is visible.
  if (series.requests.length === 1) series = { ...series, requests: twice(series.requests), classes: Object.fromEntries(Object.entries(series.classes).map(([k, v]) => [k, twice(v)])) as Series['classes'] };
  const n = series.requests.length;
  const max = niceMax(Math.max(0, ...series.requests));
  // The x axis spans `slots` seconds ending now; sample i is (n - 1 - i) seconds old.
  const x = (i: number) => left + plotW - ((n - 1 - i) / series.slots) * plotW;
  const y = (v: number) => top + plotH - (v / max) * plotH;

  ctx.font = '11px system-ui, -apple-system, "Segoe UI", sans-serif';
  ctx.fillStyle = '#6b7280';
  ctx.strokeStyle = '#e5e7eb';
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    const py = Math.round(y(value)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(left + plotW, py);
    ctx.stroke();
    ctx.fillText(formatRate(value), left - 6, py);
  }
  ctx.textBaseline = 'top';
  const seconds = series.slots;
  for (const [label, ago] of [[`-${seconds}s`, seconds], [`-${Math.round(seconds / 2)}s`, Math.round(seconds / 2)], ['now', 0]] as const) {
    const px = left + plotW - (ago / Math.max(1, seconds)) * plotW;
    ctx.textAlign = ago === 0 ? 'right' : ago === seconds ? 'left' : 'center';
    ctx.fillText(label, px, top + plotH + 6);
  }
  if (n === 0) return;

  const base = new Array<number>(n).fill(0);
  for (const cls of STACK_ORDER) {
    const values = series.classes[cls];
    if (!values.some((v) => v > 0)) continue;
    const upper = base.map((b, i) => b + (values[i] ?? 0));
    ctx.beginPath();
    ctx.moveTo(x(0), y(base[0]!));
    for (let i = 0; i < n; i++) ctx.lineTo(x(i), y(upper[i]!));
    for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(i), y(base[i]!));
    ctx.closePath();
    ctx.fillStyle = `${CLASS_COLORS[cls]}55`;
    ctx.fill();
    ctx.beginPath();
    for (let i = 0; i < n; i++) (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, x(i), y(upper[i]!));
    ctx.strokeStyle = CLASS_COLORS[cls];
    ctx.lineWidth = 1.5;
    ctx.stroke();
    for (let i = 0; i < n; i++) base[i] = upper[i]!;
  }
}

/** A small line of requests per second (the routers table). */
export function drawSparkline(canvas: HTMLCanvasElement, values: number[], slots: number, color = '#3b7dd8'): void {
  const prepared = prepare(canvas);
  if (!prepared) return;
  const { ctx, width, height } = prepared;
  const max = Math.max(1, ...values);
  canvas.dataset.samples = String(values.length);
  if (values.length === 1) values = twice(values);
  const n = values.length;
  ctx.strokeStyle = '#e5e7eb';
  ctx.beginPath();
  ctx.moveTo(0, height - 0.5);
  ctx.lineTo(width, height - 0.5);
  ctx.stroke();
  if (n === 0) return;
  const x = (i: number) => width - ((n - 1 - i) / slots) * width;
  const y = (v: number) => height - 1 - (v / max) * (height - 3);
  ctx.beginPath();
  ctx.moveTo(x(0), height);
  for (let i = 0; i < n; i++) ctx.lineTo(x(i), y(values[i]!));
  ctx.lineTo(x(n - 1), height);
  ctx.closePath();
  ctx.fillStyle = `${color}22`;
  ctx.fill();
  ctx.beginPath();
  for (let i = 0; i < n; i++) (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, x(i), y(values[i]!));
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

function twice(values: number[]): number[] {
  return [values[0] ?? 0, values[0] ?? 0];
}

export { formatRate };
