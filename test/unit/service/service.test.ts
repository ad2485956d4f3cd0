import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseAgentMode } from '../../../main/agent/agent-mode.js';
import { AGENT_NODE_FLAGS, agentNodeFlags } from '../../../runtime/agent/node-flags.js';
import { defaultServiceConfig, serviceLocation } from '../../../runtime/service/config.js';
import { launchdPlist, winswXml } from '../../../runtime/service/launchd-plist.js';
import { describeStep, installPlan, uninstallPlan } from '../../../runtime/service/plan.js';
import { runPlan } from '../../../runtime/service/run-plan.js';
import { systemdUnit } from '../../../runtime/service/systemd-unit.js';

const config = defaultServiceConfig('/usr/bin/node', '/opt/Offshift/dist/runtime/cli.js', 'linux');
const directives = (unit: string) => new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('the systemd unit (pure)', () => {
  const unit = systemdUnit(config);
  const d = directives(unit);

  it('runs the headless agent as its own user, in the docker group, with its data in /var/lib/offshift', () => {
    expect(d.get('User')).toBe('offshift');
    expect(d.get('Group')).toBe('offshift');
    expect(d.get('SupplementaryGroups')).toBe('docker');
    expect(d.get('ExecStart')).toBe(`/usr/bin/node ${AGENT_NODE_FLAGS.join(' ')} /opt/Offshift/dist/runtime/cli.js agent --port 7878`);
    expect(unit).toContain('Environment=OFFSHIFT_HOME=/var/lib/offshift');
    expect(d.get('StateDirectory')).toBe('offshift');
    expect(d.get('StateDirectoryMode')).toBe('0750');
    expect(unit).toContain('Environment=OFFSHIFT_TOKEN_MODE=0640');
    expect(d.get('WantedBy')).toBe('multi-user.target');
    expect(d.get('Restart')).toBe('on-failure');
  });

  it('is hardened, keeping only what the agent needs (Docker socket, /proc of other users, GPUs, the firewall capability)', () => {
    for (const [k, v] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', RestrictSUIDSGID: 'yes', LockPersonality: 'yes' })) expect(d.get(k), k).toBe(v);
    // The firewall: CAP_NET_ADMIN (iptables-nft); CAP_NET_RAW and the xtables lock for iptables-legacy.
    expect(d.get('CapabilityBoundingSet')).toBe('CAP_NET_ADMIN CAP_NET_RAW');
    expect(d.get('AmbientCapabilities')).toBe('CAP_NET_ADMIN CAP_NET_RAW');
    expect(d.get('ExecStartPre')).toBe('-+/bin/sh -c "umask 0077 && touch /run/xtables.lock && chgrp offshift /run/xtables.lock && chmod g+r /run/xtables.lock"');
    expect(unit).toContain('ReadWritePaths=-/run/docker.sock');
    expect(unit).toContain('ReadWritePaths=/var/lib/offshift');
    // Would break the agent: hidden processes (games), no GPU device nodes, no JIT.
    expect(d.has('ProtectProc')).toBe(false);
    expect(d.has('PrivateDevices')).toBe(false);
    expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    expect(d.has('PrivateUsers')).toBe(false);
  });

  it('quotes paths with spaces, and refuses what would make a broken or dangerous unit', () => {
    expect(directives(systemdUnit({ ...config, nodeFlags: [], cli: '/opt/My Apps/cli.js' })).get('ExecStart')).toBe('/usr/bin/node "/opt/My Apps/cli.js" agent --port 7878');
    expect(() => systemdUnit({ ...config, nodeFlags: ['--x; rm -rf /'] })).toThrow(/not a --flag/);
    expect(() => systemdUnit({ ...config, cli: 'dist/cli.js' })).toThrow(/absolute path/);
    expect(() => systemdUnit({ ...config, home: '/var/lib/x\nExecStartPre=/bin/rm -rf /' })).toThrow(/absolute path/);
    expect(() => systemdUnit({ ...config, user: 'root; rm' })).toThrow(/account name/);
    expect(() => systemdUnit({ ...config, port: 70000 })).toThrow(/port/);
  });
});

describe('install and uninstall plans (pure)', () => {
  it('install: group, user in docker, data folder owned by the service, the unit, enable --now; the installing user joins the group', () => {
    const plan = installPlan(config, 'UNIT', { addUser: 'alice' });
    const text = plan.map(describeStep);
    expect(plan.map((s) => s.kind)).toEqual(['run', 'run', 'run', 'mkdir', 'run', 'write', 'run', 'run']);
    expect(plan[0]).toMatchObject({ argv: ['groupadd', '--system', 'offshift'], unless: ['getent', 'group', 'offshift'] });
    expect(plan[1]).toMatchObject({ argv: expect.arrayContaining(['useradd', '--system', '--shell', '/usr/sbin/nologin', 'offshift']) });
    expect(plan[2]).toMatchObject({ argv: ['usermod', '--append', '--groups', 'docker', 'offshift'] });
    expect(plan[3]).toEqual({ kind: 'mkdir', why: 'the data folder', path: '/var/lib/offshift', mode: 0o750, owner: 'offshift', group: 'offshift' });
    expect(plan[4]).toMatchObject({ argv: ['usermod', '--append', '--groups', 'offshift', 'alice'] });
    expect(plan[5]).toMatchObject({ path: '/etc/systemd/system/offshift.service', content: 'UNIT', mode: 0o644 });
    expect(plan.at(-1)).toMatchObject({ argv: ['systemctl', 'enable', '--now', 'offshift.service'] });
    expect(text[1]).toContain('unless `id -u offshift` succeeds');
    expect(installPlan(config, 'UNIT').some((s) => s.kind === 'run' && s.argv.includes('alice'))).toBe(false);
  });

  it('uninstall keeps the data unless purged', () => {
    expect(uninstallPlan(config, { purge: false }).some((s) => s.kind === 'remove' && s.path === '/var/lib/offshift')).toBe(false);
    const purge = uninstallPlan(config, { purge: true });
    expect(purge.some((s) => s.kind === 'remove' && s.path === '/var/lib/offshift' && s.recursive)).toBe(true);
    expect(purge.some((s) => s.kind === 'run' && s.argv[0] === 'userdel')).toBe(true);
  });

  it('runPlan skips a step whose `unless` succeeds and stops at the first failure, saying what failed', () => {
    const ran: string[] = [];
    const runner = {
      exec: (argv: string[]) => {
        ran.push(argv.join(' '));
        if (argv[0] === 'getent') return { code: 0, output: '' };
        if (argv[0] === 'id') return { code: 1, output: 'no such user' };
        if (argv[0] === 'useradd') return { code: 9, output: 'useradd: group docker does not exist' };
        return { code: 0, output: '' };
      },
      print: () => {},
    };
    expect(() => runPlan(installPlan(config, 'UNIT'), runner)).toThrow(/system user offshift failed: `useradd .*` exited with 9: useradd: group docker does not exist/);
    expect(ran).toEqual(['getent group offshift', 'id -u offshift', expect.stringMatching(/^useradd /)]);
  });
});

describe('launchd and Windows service definitions (documented, pure)', () => {
  it('the plist names the label, the program and the data folder, escaped as XML', () => {
    const c = defaultServiceConfig('/usr/local/bin/node', '/Applications/Offshift & Co.app/cli.js', 'darwin');
    const plist = launchdPlist(c);
    expect(plist).toContain('<key>Label</key><string>dev.offshift.agent</string>');
    expect(plist).toContain('<string>/Applications/Offshift &amp; Co.app/cli.js</string>');
    expect(plist).toContain('<key>RunAtLoad</key><true/>');
    expect(plist.match(/<dict>/g)!.length).toBe(plist.match(/<\/dict>/g)!.length);
    expect(winswXml({ ...defaultServiceConfig('C:\\node.exe', 'C:\\Offshift\\cli.js', 'win32'), nodeFlags: [] })).toContain('<arguments>"C:\\Offshift\\cli.js" agent --port 7878</arguments>');
    expect(plist).toContain(`<string>${AGENT_NODE_FLAGS[0]}</string>`);
  });

  it('where the desktop app looks for the service', () => {
    expect(serviceLocation({}, 'linux')).toEqual({ home: '/var/lib/offshift', port: 7878 });
    expect(serviceLocation({ OFFSHIFT_SERVICE_HOME: '/tmp/s', OFFSHIFT_SERVICE_PORT: '9000' }, 'linux')).toEqual({ home: '/tmp/s', port: 9000 });
    expect(serviceLocation({ OFFSHIFT_SERVICE_PORT: 'x' }, 'linux').port).toBe(7878);
  });
});

describe('the agent\'s V8 flags', () => {
  it('are the shipped ones unless OFFSHIFT_AGENT_NODE_FLAGS says otherwise (empty: none; only --flags pass)', () => {
    expect(agentNodeFlags({})).toEqual([...AGENT_NODE_FLAGS]);
    expect(agentNodeFlags({ OFFSHIFT_AGENT_NODE_FLAGS: '' })).toEqual([]);
    expect(agentNodeFlags({ OFFSHIFT_AGENT_NODE_FLAGS: '--lite-mode --jitless' })).toEqual([]);
    expect(agentNodeFlags({ OFFSHIFT_AGENT_NODE_FLAGS: '--max-semi-space-size=2 ; rm -rf / --inspect --inspect=0.0.0.0:9229 --require=x --optimize-for-size' })).toEqual(['--max-semi-space-size=2', '--optimize-for-size']);
  });
});

describe('the agent under its V8 flags', () => {
  it('keeps WebAssembly, so Node\'s fetch (the chain RPC, the market) works; node accepts every flag without a warning', () => {
    const script = "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,async()=>{const r=await fetch('http://127.0.0.1:'+s.address().port);console.log(typeof WebAssembly, await r.text());s.close()})";
    const r = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('object ok');
    expect(r.status).toBe(0);
  });
});

describe('service or embedded (pure)', () => {
  it('attaches to a running service it may read the token of, and says so', () => {
    const mode = chooseAgentMode({}, { state: 'running', home: '/var/lib/offshift', port: 7878, token: 'a'.repeat(64), version: '0.1.0', pid: 99 });
    expect(mode).toMatchObject({ mode: 'service', port: 7878, token: 'a'.repeat(64) });
    expect((mode as { message: string }).message).toContain('Connected to the Offshift system service');
  });
  it('hosts its own agent otherwise, explaining when a service exists but cannot be used', () => {
    expect(chooseAgentMode({}, { state: 'absent' })).toEqual({ mode: 'embedded', note: null });
    expect(chooseAgentMode({}, { state: 'no-access', home: '/var/lib/offshift' })).toMatchObject({ mode: 'embedded', note: expect.stringContaining('usermod -aG offshift') });
    expect(chooseAgentMode({}, { state: 'not-running', home: '/var/lib/offshift', port: 7878 })).toMatchObject({ mode: 'embedded', note: expect.stringContaining('systemctl start offshift') });
  });
  it('OFFSHIFT_AGENT_MODE=embedded forces the app\'s own agent', () => {
    expect(chooseAgentMode({ OFFSHIFT_AGENT_MODE: 'embedded' }, { state: 'running', home: '/h', port: 1, token: 't', version: 'v', pid: 1 })).toEqual({ mode: 'embedded', note: null });
  });
});
