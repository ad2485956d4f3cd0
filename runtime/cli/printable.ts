/**
 * Text that another party wrote (a market's close reason or refusal, a URL, an offer's words)
 * made safe to print on a terminal: control characters (ESC sequences that clear the screen or
 * move the cursor, a newline that forges a line of our own) and bidirectional overrides are shown
 * as escapes, never obeyed.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
