/** The Schedule page's form parts: a labelled field (shown locked when the administrator set it) and a number input that reports only valid numbers. */
import { useEffect, useState, type ReactNode } from 'react';
import { LockNote } from '../components/LockNote.js';

export function Field({ label, locked, children }: { label: string; locked: boolean; children: ReactNode }) {
  return (
    <label className={`sched-field${locked ? ' is-locked' : ''}`} data-locked={locked ? 'true' : 'false'}>
      <span className="sched-label">{label}</span>
      <span className="sched-control">
        {children}
        {locked ? <LockNote /> : null}
      </span>
    </label>
  );
}

export function NumberInput({ value, min, max, disabled, onChange, testId }: { value: number; min: number; max: number; disabled: boolean; onChange: (v: number) => void; testId?: string }) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  return (
    <input
      type="number"
      className="sched-number"
      value={text}
      min={min}
      max={max}
      disabled={disabled}
      data-testid={testId}
      onChange={(e) => {
        setText(e.target.value);
        const n = Number(e.target.value);
        if (e.target.value !== '' && Number.isFinite(n) && n >= min && n <= max) onChange(n);
      }}
    />
  );
}
