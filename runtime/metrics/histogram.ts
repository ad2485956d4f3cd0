/** A Prometheus histogram kept in memory: cumulative buckets, sum and count. */
import type { Family } from './exposition.js';

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]! += 1;
  }

  family(): Family {
    return {
      name: this.name,
      help: this.help,
      type: 'histogram',
      samples: [
        ...this.bounds.map((le, i) => ({ suffix: '_bucket', labels: { le: String(le) }, value: this.counts[i]! })),
        { suffix: '_bucket', labels: { le: '+Inf' }, value: this.count },
        { suffix: '_sum', value: this.sum },
        { suffix: '_count', value: this.count },
      ],
    };
  }
}
