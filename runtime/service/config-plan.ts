/**
 * `offshift service install --config FILE`: the steps that put a studio's pre-seeded config in
 * the admin policy's place before the service starts (pure, like plan.ts). The policy file is the
 * administrator's: owned by root, readable by everyone (the service's user and the desktop app's
 * users read it), writable by no one else; its folder likewise.
 */
import path from 'node:path';
import { policyFileText, type ParsedStudioConfig } from '../policy/studio-config.js';
import type { Step } from './plan.js';

/** Where an earlier version kept the payout address beside the policy file; it is in the policy now. */
export const OLD_PAYOUT_FILE = 'payout.json';

export function studioConfigSteps(config: Extract<ParsedStudioConfig, { ok: true }>, policyFile: string): Step[] {
  const dir = path.dirname(policyFile);
  const steps: Step[] = [
    { kind: 'mkdir', why: 'the administrator\'s folder', path: dir, mode: 0o755, owner: 'root', group: 'root' },
    { kind: 'write', why: 'the studio\'s settings as the administrator\'s policy (what it sets is locked)', path: policyFile, content: policyFileText(config.policy), mode: 0o644 },
  ];
  steps.push({ kind: 'remove', why: 'the payout file of an earlier version (the payout address is in the policy now)', path: path.join(dir, OLD_PAYOUT_FILE), recursive: false });
  return steps;
}
