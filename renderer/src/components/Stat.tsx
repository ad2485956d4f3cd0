/** A labelled figure on a card (balances, earnings totals). */
export function Stat({ label, value, unit, testId }: { label: string; value: string; unit: string; testId?: string }) {
  return (
    <div className="card money-stat">
      <div className="label">{label}</div>
      <div className="value" data-testid={testId}>
        {value}
        <span className="unit">{unit}</span>
      </div>
    </div>
  );
}
