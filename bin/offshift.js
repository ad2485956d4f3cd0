#!/usr/bin/env node
// The installed `offshift` command: the built CLI (npm's `prepare` builds it on install).
process.env.OFFSHIFT_CLI_MAIN = '1';
await import('../dist/runtime/cli.js');
