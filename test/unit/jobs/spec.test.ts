import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../../runtime/jobs/outcome.js';

const IMAGE = 'sha256:' + 'b'.repeat(64);
const parse = (spec: unknown) => parseJobSpec(spec, () => 'generated');

describe('job spec', () => {
  it('fills defaults and an id', () => {
    const spec = parse({ image: IMAGE, command: ['true'] });
    expect(spec).toMatchObject({ id: 'generated', gpus: 0, cpus: 1, memoryMiB: 512, network: 'none', env: {}, timeoutSeconds: 3600 });
  });
  it('accepts a digest reference and a local id', () => {
    expect(parse({ image: `ghcr.io/acme/train@sha256:${'c'.repeat(64)}`, command: ['x'] }).image).toContain('@sha256:');
    expect(parse({ image: `localhost:5000/a/b@sha256:${'c'.repeat(64)}`, command: ['x'] }).image).toContain('@sha256:');
    expect(parse({ image: IMAGE, command: ['x'] }).image).toBe(IMAGE);
  });
  it('refuses a tag-only image, saying how to pin it', () => {
    expect(() => parse({ image: 'ubuntu:22.04', command: ['true'] })).toThrow(/image: "ubuntu:22.04" is not pinned.*repo@sha256/);
    expect(() => parse({ image: 'ubuntu', command: ['true'] })).toThrow(/image:.*not pinned/);
    expect(() => parse({ image: 'ubuntu@sha256:123', command: ['true'] })).toThrow(/image:.*not a valid pinned/);
  });
  it('refuses unknown fields, privileged flags and host paths by name', () => {
    expect(() => parse({ image: IMAGE, command: ['true'], privileged: true })).toThrow(/"privileged": not a job field/);
    expect(() => parse({ image: IMAGE, command: ['true'], binds: ['/:/host'] })).toThrow(/"binds": not a job field/);
    expect(() => parse({ image: IMAGE, command: ['true'], hostPath: '/etc' })).toThrow(/"hostPath"/);
  });
  it('refuses negative or zero limits, naming the field', () => {
    expect(() => parse({ image: IMAGE, command: ['true'], cpus: -1 })).toThrow(/cpus:/);
    expect(() => parse({ image: IMAGE, command: ['true'], memoryMiB: 0 })).toThrow(/memoryMiB:/);
    expect(() => parse({ image: IMAGE, command: ['true'], diskMiB: -5 })).toThrow(/diskMiB:/);
    expect(() => parse({ image: IMAGE, command: ['true'], timeoutSeconds: 0 })).toThrow(/timeoutSeconds:/);
    expect(() => parse({ image: IMAGE, command: ['true'], gpus: -1 })).toThrow(/gpus/);
  });
  it('refuses an empty command and bad env names', () => {
    expect(() => parse({ image: IMAGE, command: [] })).toThrow(/command: a job needs a command/);
    expect(() => parse({ image: IMAGE, command: ['x'], env: { 'A=B': '1' } })).toThrow(/env/);
  });
  it('accepts network none or an allow-list of host[:port]', () => {
    expect(parse({ image: IMAGE, command: ['x'], network: { allow: ['pypi.org', 'files.example.com:443'] } }).network).toEqual({ allow: ['pypi.org', 'files.example.com:443'] });
    expect(() => parse({ image: IMAGE, command: ['x'], network: { allow: ['http://x.com/'] } })).toThrow(/network/);
    expect(() => parse({ image: IMAGE, command: ['x'], network: 'host' })).toThrow(/network/);
  });
  it('an allow-list port is 1 to 65535 (99999 once reached the egress proxy and crashed the agent)', () => {
    for (const port of [1, 443, 65535]) expect(parse({ image: IMAGE, command: ['x'], network: { allow: [`a.example:${port}`] } }).network).toEqual({ allow: [`a.example:${port}`] });
    for (const port of [0, 65536, 70000, 99999]) expect(() => parse({ image: IMAGE, command: ['x'], network: { allow: [`a.example:${port}`] } })).toThrow(/port 1 to 65535/);
  });
  it('accepts GPU requests as a count, all, or UUIDs', () => {
    expect(parse({ image: IMAGE, command: ['x'], gpus: 2 }).gpus).toBe(2);
    expect(parse({ image: IMAGE, command: ['x'], gpus: 'all' }).gpus).toBe('all');
    expect(parse({ image: IMAGE, command: ['x'], gpus: ['GPU-12345678-aaaa'] }).gpus).toEqual(['GPU-12345678-aaaa']);
    expect(() => parse({ image: IMAGE, command: ['x'], gpus: ['nvidia0'] })).toThrow(/gpus/);
  });
});
