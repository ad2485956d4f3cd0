/**
 * `offshift service install --config FILE`: the steps that put a studio's pre-seeded config in
 * the admin policy's place before the service starts (pure, like plan.ts). The policy file is the
 * administrator's: owned by root, readable by everyone (the service's user and the desktop app's
 * users read it), writable by no one else; its folder likewise.
 */
import path from 'node:path';
import { payoutFileText, policyFileText, type ParsedStudioConfig } from '../policy/studio-config.js';
import type { Step } from './plan.js';

/** The payout address, beside the policy file (the policy file has no place for it yet). */
export const PAYOUT_FILE = 'payout.json';

export function studioConfigSteps(config: Extract<ParsedStudioConfig, { ok: true }>, policyFile: string): Step[] {
  const dir = path.dirname(policyFile);
  const steps: Step[] = [
    { kind: 'mkdir', why: 'the administrator\'s folder', path: dir, mode: 0o755, owner: 'root', group: 'root' },
    { kind: 'write', why: 'the studio\'s settings as the administrator\'s policy (what it sets is locked)', path: policyFile, content: policyFileText(config.policy), mode: 0o644 },
  ];
  const payout = path.join(dir, PAYOUT_FILE);
  if (config.payoutAddress) steps.push({ kind: 'write', why: 'the payout address (recorded; nothing pays it yet)', path: payout, content: payoutFileText(config.payoutAddress), mode: 0o644 });
  else steps.push({ kind: 'remove', why: 'a payout address from an earlier config', path: payout, recursive: false });
  return steps;
}
