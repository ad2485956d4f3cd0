/**
 * A small SVG line chart over a time window: value axis with units, time axis, the current
 * value. No chart library; the arithmetic is in lib/chart-scale.ts.
 */
import { useId } from 'react';
import { linePath, scale, timeTicks, valueAxis, type Domain, type Point } from '../lib/chart-scale.js';
import { formatNumber, formatReading } from '../lib/format.js';

export interface LineChartProps {
  testId: string;
  title: string;
  unit: string;
  decimals: number;
  points: readonly Point[];
  /** The right edge of the time axis (Unix ms): the newest sample. */
  end: number | null;
  windowMs: number;
  range: Partial<Domain>;
  /** Formats the current value (default: number and unit). */
  format?: (value: number) => string;
  /** Shown beside the current value, e.g. "of 11 GiB". */
  suffix?: string;
}

const W = 320;
const H = 150;
const PAD = { left: 40, right: 10, top: 18, bottom: 22 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

export function LineChart({ testId, title, unit, decimals, points, end, windowMs, range, format, suffix }: LineChartProps) {
  const gradientId = useId();
  const latest = points.length > 0 ? points[points.length - 1]! : null;
  const current = latest?.v ?? null;
  const axis = valueAxis(points, range);
  const path = end === null ? '' : linePath(points, end, windowMs, axis, PLOT_W, PLOT_H);
  const area = path && end !== null ? areaPath(path) : '';
  const axisDecimals = axis.ticks.some((t) => !Number.isInteger(t)) ? 1 : 0;
  const valueText = current !== null && format ? format(current) : formatReading(current, unit, decimals);
  const windowText = windowMs >= 60_000 ? `${windowMs / 60_000} minute${windowMs === 60_000 ? '' : 's'}` : `${windowMs / 1000} seconds`;

  return (
    <figure className="chart" data-testid={testId} data-value={current ?? ''} data-samples={points.length}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-value" data-testid="chart-value">
          {valueText}
          {suffix && current !== null ? <span className="chart-suffix"> {suffix}</span> : null}
        </span>
      </figcaption>
      <svg className="chart-svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} over the last ${windowText}, now ${valueText}`}>
        <defs>
          <linearGradient id={gradientId} x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" className="chart-fill-top" />
            <stop offset="100%" className="chart-fill-bottom" />
          </linearGradient>
        </defs>
        <g transform={`translate(${PAD.left},${PAD.top})`}>
          {axis.ticks.map((tick) => {
            const y = scale(tick, axis, PLOT_H, true);
            return (
              <g key={tick} className="chart-ytick">
                <line x1={0} x2={PLOT_W} y1={y} y2={y} className="chart-grid" />
                <text x={-6} y={y} dy="0.32em" textAnchor="end" className="chart-label">
                  {formatNumber(tick, axisDecimals)}
                </text>
              </g>
            );
          })}
          <text x={-6} y={-10} className="chart-unit" textAnchor="end">
            {unit}
          </text>
          {timeTicks(windowMs).map(({ offsetMs, label }) => {
            const x = PLOT_W - (offsetMs / windowMs) * PLOT_W;
            return (
              <text key={offsetMs} x={x} y={PLOT_H + 15} textAnchor={offsetMs === 0 ? 'end' : offsetMs === windowMs ? 'start' : 'middle'} className="chart-label">
                {label}
              </text>
            );
          })}
          <line x1={0} x2={PLOT_W} y1={PLOT_H} y2={PLOT_H} className="chart-axis" />
          {area ? <path d={area} fill={`url(#${gradientId})`} className="chart-area" /> : null}
          {path ? <path d={path} className="chart-line" data-testid="chart-line" /> : null}
          {!path ? (
            <text x={PLOT_W / 2} y={PLOT_H / 2} textAnchor="middle" className="chart-empty">
              {points.length === 0 ? 'Waiting for telemetry…' : 'No reading from the GPU tool'}
            </text>
          ) : null}
        </g>
      </svg>
    </figure>
  );
}

/** Closes each segment of a line path down to the x axis, for the soft fill under it. */
function areaPath(line: string): string {
  return line
    .split(/(?=M)/)
    .map((segment) => {
      const coords = [...segment.matchAll(/[ML]([\d.]+),([\d.]+)/g)];
      if (coords.length === 0) return '';
      const first = coords[0]![1];
      const last = coords[coords.length - 1]![1];
      return `${segment.trim()} L${last},${PLOT_H} L${first},${PLOT_H} Z`;
    })
    .join(' ');
}
