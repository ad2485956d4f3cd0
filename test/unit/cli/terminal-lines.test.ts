import { describe, expect, it } from 'vitest';
import { TerminalLines } from '../../../runtime/cli/terminal-lines.js';

function terminal() {
  const t = { stdout: '', stderr: '', screen: '' };
  const lines = new TerminalLines({ stdout: (s) => ((t.stdout += s), (t.screen += s)), stderr: (s) => ((t.stderr += s), (t.screen += s)) });
  return { t, lines };
}

describe('TerminalLines', () => {
  it('a line left open on one output is ended (on stderr) before the other output writes', () => {
    const { t, lines } = terminal();
    lines.write('stdout', 'partial');
    lines.write('stderr', '[egress] connected\n');
    lines.write('stdout', ' more\n');
    expect(t.screen).toBe('partial\n[egress] connected\n more\n');
    // stdout holds exactly the job's bytes.
    expect(t.stdout).toBe('partial more\n');
  });
  it('a stream continuing its own line is not split; endLine ends an open line once', () => {
    const { t, lines } = terminal();
    lines.write('stderr', 'a');
    lines.write('stderr', 'b');
    lines.endLine();
    lines.endLine();
    lines.write('stdout', '{"result":1}\n');
    expect(t.stderr).toBe('ab\n');
    expect(t.stdout).toBe('{"result":1}\n');
  });
  it('nothing is added after a complete line or for empty text', () => {
    const { t, lines } = terminal();
    lines.write('stdout', 'done\n');
    lines.write('stderr', '');
    lines.endLine();
    expect(t.screen).toBe('done\n');
  });
});
