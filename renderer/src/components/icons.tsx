/** Small stroke icons (24×24, currentColor), drawn here rather than pulled from a library. */
import type { ReactElement } from 'react';

const paths: Record<string, ReactElement> = {
  gpu: (
    <>
      <rect x="3" y="6" width="18" height="12" rx="2" />
      <rect x="7" y="9" width="6" height="6" rx="1" />
      <path d="M16 10h2M16 14h2M6 18v2M10 18v2M14 18v2M18 18v2" />
    </>
  ),
  check: (
    <>
      <path d="M9 12l2 2 4-4" />
      <path d="M12 3l7 3v6c0 4.5-3 7.5-7 9-4-1.5-7-4.5-7-9V6z" />
    </>
  ),
  refresh: (
    <>
      <path d="M20 11a8 8 0 10-2.3 5.7" />
      <path d="M20 4v7h-7" />
    </>
  ),
  pass: <path d="M5 12.5l4.5 4.5L19 7.5" />,
  warn: (
    <>
      <path d="M12 4l9 16H3z" />
      <path d="M12 10v4M12 17.5v.01" />
    </>
  ),
  fail: <path d="M6 6l12 12M18 6L6 18" />,
  plug: (
    <>
      <path d="M9 3v5M15 3v5M6 8h12v3a6 6 0 01-12 0z" />
      <path d="M12 17v4" />
    </>
  ),
  key: (
    <>
      <circle cx="8" cy="15" r="4" />
      <path d="M11 12l9-9M17 6l3 3M14 9l2 2" />
    </>
  ),
};

export function Icon({ name, size = 18, className }: { name: keyof typeof paths | string; size?: number; className?: string }) {
  return (
    <svg className={className} width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {paths[name] ?? null}
    </svg>
  );
}
