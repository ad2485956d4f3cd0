#!/usr/bin/env node
// Builds the output keeper (resources/output-keeper/keeper.c) into dist/output-keeper/keeper (a
// static binary). Without a C compiler, or when the compile fails, it says so in one line and
// succeeds: an agent that is not root then says why its jobs get no /output
// (runtime/sandbox/keeper-image.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
buildStaticC({
  label: 'output-keeper',
  what: 'the output keeper',
  why: 'so that jobs of an agent not running as root get an /output',
  source: path.join(here, 'keeper.c'),
  output: path.resolve(here, '..', '..', 'dist', 'output-keeper', 'keeper'),
  script: fileURLToPath(import.meta.url),
  extraArgs: ['-s'],
});
