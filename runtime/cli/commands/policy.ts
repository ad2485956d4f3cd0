/** `offshift policy status`: where the admin policy comes from, the version applied, the last check and the last refusal. */
import type { PolicyStatusView } from '../../policy/schema.js';
import type { CliCommand } from '../command.js';
import { withTarget } from './schedule-common.js';

export function formatPolicyStatus(s: PolicyStatusView, fromAgent: boolean): string {
  const source = s.source === 'url' ? `${s.url} (signed by ${s.signer}; pinned in ${s.file})` : s.source === 'file' ? s.file : `none (${s.file} does not exist)`;
  const lines = [
    `Source:        ${source}`,
    `Policy:        ${s.message}`,
    `Version:       ${s.version === null ? 'none' : `${s.version}${s.issuedAt ? ` (issued ${s.issuedAt})` : ''}`}`,
  ];
  if (s.pauseUntil) lines.push(`Pause until:   ${s.pauseUntil}`);
  if (s.source === 'url') {
    const check = s.lastCheck ? `${s.lastCheck.at}: ${s.lastCheck.result}` : fromAgent ? 'not yet' : 'not checked (no agent running; it checks when it starts)';
    lines.push(`Last check:    ${check}`);
  }
  const refusal = s.lastRefusal;
  lines.push(`Last refusal:  ${refusal ? `${refusal.at}${refusal.version === null ? '' : ` (version ${refusal.version})`}: ${refusal.why}` : 'none'}`);
  return lines.join('\n') + '\n';
}

export const policyCommands: CliCommand[] = [
  {
    name: 'policy status',
    summary: "Show the administrator's policy: its source (file or signed URL), the version applied, the last check and the last refusal.",
    usage: 'policy status [--json]',
    async run(args, io) {
      const { status, fromAgent } = await withTarget(io, async (t) =>
        t.kind === 'agent' ? { status: await t.client.call('policy.status'), fromAgent: true } : { status: t.service.policy.status(), fromAgent: false },
      );
      io.stdout(args.flags.has('json') ? JSON.stringify(status, null, 2) + '\n' : formatPolicyStatus(status, fromAgent));
      return 0;
    },
  },
];
