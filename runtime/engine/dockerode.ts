/**
 * Loads dockerode without the parts Offshift never uses on a local engine. dockerode requires
 * ssh2 (for ssh:// hosts, which Offshift refuses) and gRPC (for BuildKit sessions) as soon as it
 * loads: about 30 MB of an idle agent's memory. Before the first load, their two entry points
 * are put in require's cache as thin wrappers that load the real module on first call.
 */
import type Docker from 'dockerode';
import Module, { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let dockerode: typeof Docker | null = null;

function deferOnFirstCall(file: string): void {
  if (require.cache[file]) return;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function loadOnFirstCall(this: unknown, ...args: unknown[]) {
    delete require.cache[file];
    const real = require(file) as (...a: unknown[]) => unknown;
    return real.apply(this, args);
  };
  require.cache[file] = stub;
}

export function loadDockerode(): typeof Docker {
  if (dockerode) return dockerode;
  try {
    const dockerodeDir = path.dirname(require.resolve('dockerode'));
    const modemDir = path.dirname(createRequire(require.resolve('dockerode')).resolve('docker-modem'));
    deferOnFirstCall(path.join(modemDir, 'ssh.js'));
    deferOnFirstCall(path.join(dockerodeDir, 'session.js'));
  } catch {
    // A different layout of the package: load it whole.
  }
  dockerode = require('dockerode') as typeof Docker;
  return dockerode;
}
