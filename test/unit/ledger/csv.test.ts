import { describe, expect, it } from 'vitest';
import { csvField } from '../../../runtime/ledger/csv.js';

describe('CSV cells a spreadsheet would run as formulas', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+1', `"'+1+1"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1', `"'\t=1"`],
    ['\r=1', `"'\r=1"`],
  ])('%j is written as text', (value, cell) => {
    expect(csvField(value)).toBe(cell);
  });
  it('leaves ordinary cells alone and still quotes commas, quotes and newlines', () => {
    expect(csvField('OFT')).toBe('OFT');
    expect(csvField('gpu-a;gpu-b')).toBe('gpu-a;gpu-b');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });
});
