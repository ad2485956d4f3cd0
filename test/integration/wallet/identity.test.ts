/**
 * An identity per machine, with real parts: a real anvil chain, the reference market and
 * in-process agents. A data folder made on machine X and copied onto machine Y (another
 * OFFSHIFT_MACHINE_ID_FILE) makes its own identity there, keeps the copied keystore aside, says
 * why (a notice, wallet status), and the market never sees the copied address sign in; X started
 * again keeps its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { silentLogger } from '../../../runtime/log.js';
import { appSpecificId } from '../../../runtime/wallet/machine-id.js';
import { openMoneyParts } from '../../../runtime/wallet/money.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempDir } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

const PASSWORD = 'correct horse battery staple';

describe('an identity per machine', () => {
  let chain: TestChain;
  let market: RunningMarket;
  let root: string;
  /** Every address the market let sign in, in order. */
  const signedIn: string[] = [];

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '10' });
    market = await startMarket({ port: 0, dbFile: null, chainId: chain.chainId, escrow: chain.escrow, log: silentLogger, offerTtlMs: 5000 });
    const connected = market.market.providerConnected.bind(market.market);
    market.market.providerConnected = ((address: string, ...rest: unknown[]) => {
      signedIn.push(address.toLowerCase());
      return (connected as (...a: unknown[]) => unknown)(address, ...rest);
    }) as typeof market.market.providerConnected;
    root = makeTempDir('offshift-identity-');
    fs.writeFileSync(path.join(root, 'machine-x'), 'aaaa0000aaaa0000aaaa0000aaaa0000\n');
    fs.writeFileSync(path.join(root, 'machine-y'), 'bbbb0000bbbb0000bbbb0000bbbb0000\n');
    fs.writeFileSync(path.join(root, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  }, 180_000);
  afterAll(async () => {
    await market?.close();
    await chain?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const homeA = () => path.join(root, 'home-a');
  const homeB = () => path.join(root, 'home-b');
  const env = (machine: string) => ({ ...process.env, NODE_ENV: 'test', OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', OFFSHIFT_MACHINE_ID_FILE: path.join(root, machine), PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });

  function agentOn(home: string, machine: string, passwordFile: string | null = path.join(root, 'password')): { agent: Agent; notices: Array<{ title: string; message: string }> } {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(home, 'devnet.json'),
      JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: Number(new URL(chain.rpcUrl).port), pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
    );
    const agent = createAgent({ home, log: silentLogger, env: env(machine), idleSource: null, market: { enabled: true, demo: false, ...(passwordFile ? { passwordFile } : {}), backoff: { minMs: 200, maxMs: 1000 } } });
    agent.schedule.settings.update('market', { url: market.url });
    const notices: Array<{ title: string; message: string }> = [];
    agent.bus.subscribe((event, payload) => {
      if (event === 'notice') notices.push(payload as { title: string; message: string });
    });
    return { agent, notices };
  }

  async function connected(agent: Agent): Promise<string> {
    await until('the agent to sign in to the market', async () => (await agent.client().call('market.status', {})).state === 'connected', 30_000);
    return (await agent.client().call('wallet.status', {})).address!;
  }

  let addressA = '';

  it('machine X makes a wallet, records the machine beside the keystore, and signs in with it', async () => {
    const { agent } = agentOn(homeA(), 'machine-x');
    try {
      addressA = (await agent.client().call('wallet.create', { password: PASSWORD })).address;
      const record = JSON.parse(fs.readFileSync(path.join(homeA(), 'wallet-identity.json'), 'utf8')) as Record<string, unknown>;
      expect(record).toMatchObject({ version: 1, address: addressA, machineId: appSpecificId('aaaa0000aaaa0000aaaa0000aaaa0000'), how: 'created' });
      expect((fs.statSync(path.join(homeA(), 'wallet-identity.json')).mode & 0o777).toString(8)).toBe('600');
      await agent.start();
      expect(await connected(agent)).toBe(addressA);
      expect(signedIn).toContain(addressA.toLowerCase());
    } finally {
      await agent.stop();
    }
  }, 120_000);

  it('the folder copied onto machine Y: its own identity, the copied keystore kept aside, why said, and the copied key never signs in', async () => {
    fs.cpSync(homeA(), homeB(), { recursive: true });
    const copiedKeystore = fs.readFileSync(path.join(homeB(), 'wallet-keystore.json'), 'utf8');
    const before = signedIn.length;
    const { agent, notices } = agentOn(homeB(), 'machine-y');
    try {
      await agent.start();
      const addressB = await connected(agent);
      expect(addressB).not.toBe(addressA);
      const kept = fs.readdirSync(homeB()).filter((f) => /^wallet-keystore\.cloned-.*\.json$/.test(f));
      expect(kept).toHaveLength(1);
      expect(fs.readFileSync(path.join(homeB(), kept[0]!), 'utf8')).toBe(copiedKeystore);
      const status = await agent.client().call('wallet.status', {});
      const why = `This data folder was copied from machine ${appSpecificId('aaaa0000aaaa0000aaaa0000aaaa0000').slice(0, 8)} (host `;
      expect(status.identityNote).toContain(why);
      expect(status.identityNote).toContain(`this machine made its own identity ${addressB} and never signs in with the copied key`);
      expect(notices.map((n) => n.message)).toEqual([status.identityNote]);
      const after = signedIn.slice(before);
      expect(after).toContain(addressB.toLowerCase());
      expect(after).not.toContain(addressA.toLowerCase());
      // The new key is unlocked with the service's password file, as the copied one was.
      expect(status.unlocked).toBe(true);
    } finally {
      await agent.stop();
    }
  }, 120_000);

  it('copied onto machine Y where no password file is set (a desktop): no wallet until the owner makes one, the market off and saying why', async () => {
    const homeD = path.join(root, 'home-d');
    fs.cpSync(homeA(), homeD, { recursive: true });
    const before = signedIn.length;
    const { agent, notices } = agentOn(homeD, 'machine-y', null);
    try {
      await agent.start();
      let last = '';
      await until('the market link to wait for a wallet', async () => {
        const m = await agent.client().call('market.status', {});
        last = `${m.state}: ${m.reason}`;
        return m.state === 'wallet-locked';
      }, 10_000, { detail: () => last });
      const status = await agent.client().call('wallet.status', {});
      expect(status.exists).toBe(false);
      expect(status.identityNote).toMatch(/needs its own identity: create or import a wallet/);
      expect(notices).toHaveLength(1);
      const { address } = await agent.client().call('wallet.create', { password: PASSWORD });
      expect(await connected(agent)).toBe(address);
      expect((await agent.client().call('wallet.status', {})).identityNote).toContain(`this machine made its own identity ${address}`);
      expect(signedIn.slice(before)).not.toContain(addressA.toLowerCase());
    } finally {
      await agent.stop();
    }
  }, 120_000);

  it('a copied key that no agent checked yet does not unlock (the command line opening the wallet itself)', async () => {
    const homeC = path.join(root, 'home-c');
    fs.cpSync(homeA(), homeC, { recursive: true });
    const parts = openMoneyParts({ home: homeC, log: silentLogger, scryptN: 1024, machineFacts: async () => ({ machineId: appSpecificId('bbbb0000bbbb0000bbbb0000bbbb0000'), hostname: 'y', source: 'test' }) });
    try {
      await expect(parts.wallet.unlock(PASSWORD)).rejects.toMatchObject({ code: 'wallet-copied' });
      expect(parts.wallet.isUnlocked()).toBe(false);
    } finally {
      parts.db.close();
    }
  });

  it('machine X started again keeps its own identity and says nothing of a copy', async () => {
    const before = signedIn.length;
    const { agent, notices } = agentOn(homeA(), 'machine-x');
    try {
      await agent.start();
      expect(await connected(agent)).toBe(addressA);
      expect((await agent.client().call('wallet.status', {})).identityNote).toBeNull();
      expect(notices).toEqual([]);
      expect(signedIn.slice(before)).toEqual(expect.arrayContaining([addressA.toLowerCase()]));
    } finally {
      await agent.stop();
    }
  }, 120_000);
});
