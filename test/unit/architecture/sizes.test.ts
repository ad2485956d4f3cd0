// The size rules (sizes.config.js, docs/architecture.md "Sizes"): every source file and every
// function within its limit, or named as an exception with its reason; no exception left that
// is no longer needed.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SOURCE_DIRS, sourceFiles } from './source-files.js';
import { repoRoot } from '../../../floors.config.js';
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, sizeExceptions } from '../../../sizes.config.js';

interface Measure {
  key: string;
  lines: number;
}

/** The file's length, and every function in it longer than the limit (nested ones counted on their own too). */
function measure(file: string, text: string): { file: Measure; longFunctions: Measure[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const longFunctions: Measure[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > MAX_FUNCTION_LINES) longFunctions.push({ key: `${file}#${functionName(node, first + 1)}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file: { key: file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) }, longFunctions };
}

function functionName(node: ts.Node, line: number): string {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  return `(anonymous, line ${line})`;
}

describe('the size rules', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);
  const measured = files.map((f) => measure(f, fs.readFileSync(path.join(repoRoot, f), 'utf8')));
  const tooLong = [
    ...measured.filter((m) => m.file.lines > MAX_FILE_LINES).map((m) => m.file),
    ...measured.flatMap((m) => m.longFunctions),
  ];

  it(`has no file over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES}, apart from the named exceptions`, () => {
    expect(files.length).toBeGreaterThan(300);
    expect(tooLong.filter((m) => !(m.key in sizeExceptions)).map((m) => `${m.key}: ${m.lines} lines`)).toEqual([]);
  });

  it('names no exception that is no longer needed, and gives each its reason', () => {
    const keys = new Set(tooLong.map((m) => m.key));
    expect(Object.keys(sizeExceptions).filter((k) => !keys.has(k))).toEqual([]);
    expect(Object.entries(sizeExceptions).filter(([, why]) => why.trim().length < 20)).toEqual([]);
  });

  it('sees a long function and a long file', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const m = measure('x.ts', `export function long() {\n${body}\n}\nconst short = () => 1;\n`);
    expect(m.longFunctions).toEqual([{ key: 'x.ts#long', lines: MAX_FUNCTION_LINES + 2 }]);
    expect(m.file.lines).toBe(MAX_FUNCTION_LINES + 3);
  });
});
