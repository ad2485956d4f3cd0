#!/usr/bin/env node
// Builds the demo job's renderer (resources/demo-job/render.c) into dist/demo-job/render (a static
// binary). Without a C compiler, or when the compile fails, it says so in one line and succeeds:
// the agent then says why the demo cannot run (runtime/demo/image.ts). The compiler's output in
// full with OFFSHIFT_DEMO_VERBOSE=1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
buildStaticC({
  label: 'demo-job',
  what: 'the demo job',
  why: 'to run the demo network',
  source: path.join(here, 'render.c'),
  output: path.resolve(here, '..', '..', 'dist', 'demo-job', 'render'),
  script: fileURLToPath(import.meta.url),
  extraArgs: ['-lm'],
  verbose: process.env.OFFSHIFT_DEMO_VERBOSE === '1',
});
