// The floor plan (docs/architecture.md, floors.config.js) over the whole import graph: every
// source file is on a floor, no import goes up a floor or across parties except the named
// exceptions, and there is no import cycle (type-only imports included).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SOURCE_DIRS, sourceFiles } from './source-files.js';
import { floorOf, importProblem, repoRoot, upwardExceptions } from '../../../floors.config.js';

/** Each file's relative imports (static, dynamic, `export … from`, type-only), resolved to files. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.posix.join(path.posix.dirname(from), spec).replace(/\.js$/, '');
    return [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`].find((candidate) => known.has(candidate));
  };
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(repoRoot, file), 'utf8'), true, true);
    const targets = importedFiles.filter((i) => i.fileName.startsWith('.')).map((i) => resolve(file, i.fileName));
    graph.set(file, [...new Set(targets.filter((t): t is string => t !== undefined))]);
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan): each one is a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the floor plan', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);
  const graph = importGraph(files);
  const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(300);
    expect(edges.length).toBeGreaterThan(1000);
  });

  it('puts every source file on a floor (a new folder is placed in floors.config.js)', () => {
    expect(files.filter((f) => floorOf(f) < 0)).toEqual([]);
  });

  it('has no import going up a floor or across parties, apart from the named exceptions', () => {
    expect(edges.map(({ from, to }) => importProblem(from, to)).filter(Boolean)).toEqual([]);
  });

  it('names no exception that is no longer taken', () => {
    const strip = (f: string) => f.replace(/\.tsx?$/, '');
    const taken = (e: { from: string; to: string }) => edges.some(({ from, to }) => strip(from) === e.from && strip(to) === e.to);
    expect(upwardExceptions.filter((e) => !taken(e))).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('sees an upward import and a cycle when there is one', () => {
    expect(importProblem('runtime/jobs/service.ts', 'runtime/api/server.ts')).toMatch(/may not import/);
    expect(importProblem('market/server.ts', 'buyer/client.ts')).toMatch(/different parties/);
    expect(importProblem('runtime/api/server.ts', 'runtime/jobs/service.ts')).toBeNull();
    const loop = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(cycles(loop)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
