import fs from 'node:fs';

export type ElectronBinary = { found: true; path: string } | { found: false; reason: string };

/**
 * The electron package's main export is the path of its binary; requiring it throws when the
 * binary was never downloaded (its postinstall did not run). Never throws itself.
 */
export function findElectronBinary(requireFn: (id: string) => unknown, exists: (file: string) => boolean = fs.existsSync): ElectronBinary {
  let exported: unknown;
  try {
    exported = requireFn('electron');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'MODULE_NOT_FOUND') return { found: false, reason: 'the electron package is not installed (run `npm ci`)' };
    return { found: false, reason: 'the electron package has no downloaded binary' };
  }
  if (typeof exported !== 'string' || exported.length === 0) return { found: false, reason: 'the electron package did not name a binary' };
  if (!exists(exported)) return { found: false, reason: `the Electron binary is missing at ${exported}` };
  return { found: true, path: exported };
}
