import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadArtifacts } from '../../../runtime/chain/compile.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(import.meta.url);
// electron-builder's own YAML reader and JSON schema (both come with electron-builder).
const yaml = require('js-yaml') as { load(text: string): unknown };
const Ajv = require('ajv') as new (options: object) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown[] } };

interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  win: { target: string[] };
  mac: { target: string[] };
  publish: Array<{ provider: string; url: string }>;
  npmRebuild: boolean;
}

const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('electron-builder.yml', () => {
  it('is valid against electron-builder\'s schema', () => {
    const schema = JSON.parse(fs.readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as unknown;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('names the app and packages the built bundles, unpacking the native SQLite module', () => {
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
    expect(config.productName).toBe('Offshift');
    expect(config.files).toContain('dist/**/*');
    expect(config.files).toContain('package.json');
    expect(config.asarUnpack.some((p) => p.includes('better-sqlite3'))).toBe(true);
  });

  it('builds AppImage and deb on Linux, NSIS on Windows, dmg and zip (for updates) on macOS, with an icon that exists', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg', 'zip']);
    expect(fs.existsSync(path.join(root, config.linux.icon))).toBe(true);
  });

  it('flips the fuses that would turn the app into a plain Node or let it load other code', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
  });

  it('publishes update feeds over https, and rebuilds native modules only when packaging', () => {
    expect(config.publish.every((p) => p.url.startsWith('https://'))).toBe(true);
    expect(config.npmRebuild).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // `npm ci` never rebuilds for Electron: no install hook runs electron-builder.
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[hook] ?? '').not.toMatch(/electron-builder|install-app-deps/);
    expect(pkg.scripts.dist).toMatch(/npm run -s build && electron-builder/);
  });

  it('the packaged app carries only what it runs: build and test tools are devDependencies, the contracts ship compiled', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };
    for (const buildOnly of ['solc', '@openzeppelin/contracts', 'react', 'react-dom', 'qrcode', 'zustand', 'electron', 'electron-builder', 'vite']) {
      expect(pkg.dependencies[buildOnly], buildOnly).toBeUndefined();
      expect(pkg.devDependencies[buildOnly], buildOnly).toBeDefined();
    }
    expect(pkg.dependencies['electron-updater']).toBeDefined();
    expect(pkg.scripts.build).toContain('build:contracts');
    expect(config.files).toContain('!resources/contracts/**');
  });

  it('without solc (a packaged app) the contracts load from the artifacts the build wrote, or the error says how to make them', () => {
    const temp = makeTempHome('offshift-artifacts-');
    try {
      const compiled = loadArtifacts({ dir: path.join(root, 'resources', 'contracts') });
      const file = path.join(temp.home, 'artifacts.json');
      fs.writeFileSync(file, JSON.stringify(compiled));
      const loaded = loadArtifacts({ solc: false, prebuilt: file });
      expect(loaded.contracts.OffshiftEscrow!.bytecode).toBe(compiled.contracts.OffshiftEscrow!.bytecode);
      expect(() => loadArtifacts({ solc: false, prebuilt: path.join(temp.home, 'missing.json') })).toThrow(/npm ci && npm run build/);
    } finally {
      temp.cleanup();
    }
  }, 120_000);

  it('`npm run agent` starts the agent with the V8 flags it ships with everywhere', async () => {
    const { AGENT_NODE_FLAGS } = await import('../../../runtime/agent/node-flags.js');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.agent).toContain(`node ${AGENT_NODE_FLAGS.join(' ')} dist/runtime/cli.js agent`);
  });

  it('points package.json "main" at the built main process', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main/main.js');
  });
});
