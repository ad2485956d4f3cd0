import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken, TOKEN_FILE } from '../../../runtime/api/token.js';
import type { Logger } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: { cleanup: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.cleanup()));
function home(): string {
  const t = makeTempHome('offshift-token-');
  temps.push(t);
  return t.home;
}
function recordingLog(lines: string[]): Logger {
  const put = (msg: string, fields?: Record<string, unknown>) => lines.push(msg + ' ' + JSON.stringify(fields ?? {}));
  return { debug: put, info: put, warn: put, error: put };
}

describe('the API token file', () => {
  it('is made when missing (mode 0600, logged with its file, not its value) and read back unchanged', () => {
    const h = home();
    const lines: string[] = [];
    const token = loadOrCreateToken(h, recordingLog(lines));
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(path.join(h, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toContain(path.join(h, TOKEN_FILE));
    expect(lines.join('\n')).not.toContain(token);
    expect(loadOrCreateToken(h)).toBe(token);
  });

  it.each([
    ['empty', '', /it is empty/],
    ['garbage', 'hello, not a token\n', /does not hold a token/],
    ['a short hex string', 'abcdef\n', /does not hold a token/],
  ])('refuses an %s file with the file named and what to do, and leaves it as it was', (_name, content, why) => {
    const h = home();
    const file = path.join(h, TOKEN_FILE);
    fs.writeFileSync(file, content);
    expect(() => loadOrCreateToken(h)).toThrow(why);
    expect(() => loadOrCreateToken(h)).toThrow(file);
    expect(() => loadOrCreateToken(h)).toThrow(/Remove it/);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
  });

  it('refuses a folder in its place with a clear error, not EISDIR', () => {
    const h = home();
    fs.mkdirSync(path.join(h, TOKEN_FILE));
    expect(() => loadOrCreateToken(h)).toThrow(/is unusable: it is a folder/);
    expect(fs.statSync(path.join(h, TOKEN_FILE)).isDirectory()).toBe(true);
  });
});
