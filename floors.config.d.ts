// Types of floors.config.js (plain JS, for eslint.config.js to import).
import type { ESLint } from 'eslint';

export const repoRoot: string;
export const floors: { name: string; paths: string[] }[];
export const upwardExceptions: { from: string; to: string }[];
export function isContract(file: string): boolean;
export function floorOf(file: string): number;
export function importProblem(from: string, to: string): string | null;
export const floorsPlugin: ESLint.Plugin;
