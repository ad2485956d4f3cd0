/** `offshift buyer submit`'s image flags (--image-size, --max-pull-seconds) and its pull progress line. */
import { describe, expect, it } from 'vitest';
import { buyerSubmitCommand, jobFromArgs, pullProgressLine } from '../../../runtime/cli/commands/buyer.js';
import { argSpecFromUsage, parseArgs } from '../../../runtime/cli/args.js';

const IMAGE = `registry.example/render@sha256:${'ab'.repeat(32)}`;
const args = (...flags: string[]) => parseArgs([...flags, '--image', IMAGE, '--', 'render'], argSpecFromUsage(buyerSubmitCommand.usage));

describe('buyer submit: image flags', () => {
  it('passes --image-size and --max-pull-seconds into the job, and leaves them out when not given', () => {
    expect(jobFromArgs(args('--image-size', '4800000000', '--max-pull-seconds', '600')).job).toMatchObject({ imageSizeBytes: 4_800_000_000, maxPullSeconds: 600 });
    const { job } = jobFromArgs(args());
    expect(job).not.toHaveProperty('imageSizeBytes');
    expect(job).not.toHaveProperty('maxPullSeconds');
  });

  it('refuses a size or a limit that is not a whole number in bounds, naming the flag', () => {
    expect(() => jobFromArgs(args('--image-size', '4.5'))).toThrow(/--image-size must be a whole number/);
    expect(() => jobFromArgs(args('--max-pull-seconds', '0'))).toThrow(/--max-pull-seconds must be a whole number, at least 1/);
    expect(() => jobFromArgs(args('--image-size', String(600 * 1024 ** 3)))).toThrow(/^--image-size: /);
    expect(() => jobFromArgs(args('--max-pull-seconds', '100000'))).toThrow(/^--max-pull-seconds: /);
  });

  it('prints the pull as MB of MB, its rate and the time left, or what is known of it', () => {
    expect(pullProgressLine({ type: 'pull-progress', jobId: 'j1', bytes: 1_234_500_000, totalBytes: 4_800_000_000, bytesPerSecond: 38_200_000 })).toBe(
      'Job j1: pulling the image on the provider (not billed): 1,234.5 of 4,800.0 MB (25%) · 38.2 MB/s · about 94 s left',
    );
    expect(pullProgressLine({ type: 'pull-progress', jobId: 'j1', bytes: 0, totalBytes: null, bytesPerSecond: null })).toBe('Job j1: pulling the image on the provider (not billed): 0.0 MB');
  });
});
