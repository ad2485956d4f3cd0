import { hexlify, randomBytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import type { Client } from '../../../runtime/api/client.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { silentLogger } from '../../../runtime/log.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';

/** The wallet.* and earnings.* commands through the agent's dispatcher (the API the dashboard uses). */
describe('wallet and earnings API', () => {
  let chain: TestChain;
  let temp: ReturnType<typeof makeTempHome>;
  let agent: Agent;
  let client: Client;

  beforeAll(async () => {
    chain = await startTestChain();
    temp = makeTempHome();
    agent = createAgent({ home: temp.home, log: silentLogger, env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' } });
    client = agent.client();
  });
  afterAll(async () => {
    await agent?.money.stop();
    await chain?.stop();
    temp?.cleanup();
  });

  it('creates a wallet, redeems a voucher, and reports earnings; amounts are decimal strings', async () => {
    const updates: unknown[] = [];
    agent.bus.subscribe((event, payload) => {
      if (event === 'wallet.update') updates.push(payload);
    });
    const none = await client.call('wallet.status', {});
    expect(none).toMatchObject({ exists: false, address: null });
    await client.call('wallet.settings', { addNetwork: { name: 'local', rpcUrl: chain.rpcUrl, chainId: chain.chainId, token: chain.token, escrow: chain.escrow }, network: 'local' });
    const created = await client.call('wallet.create', { password: 'api password 1' });
    expect(created.mnemonic.split(' ')).toHaveLength(12);
    await chain.fund(created.address, { eth: '1' });
    const signed = await signVoucher(chain.buyer, chain.chainId, chain.escrow, {
      buyer: chain.buyer.address,
      provider: created.address,
      jobId: hexlify(randomBytes(32)),
      cumulativeAmount: (tokens(3) + 7n).toString(),
      expiry: (await chain.now()) + 3600,
    });
    const { results } = await client.call('wallet.redeem', { voucher: signed });
    expect(results[0]).toMatchObject({ outcome: 'ok', paid: (tokens(3) + 7n).toString() });
    const status = await client.call('wallet.status', {});
    expect(status).toMatchObject({ address: created.address, tokenBalance: (tokens(3) + 7n).toString(), redeemed: (tokens(3) + 7n).toString() });
    const summary = await client.call('earnings.summary', { timeZone: 'UTC' });
    expect(summary).toMatchObject({ today: (tokens(3) + 7n).toString(), allTime: (tokens(3) + 7n).toString() });
    const series = await client.call('earnings.series', { unit: 'day', days: 7, timeZone: 'UTC' });
    expect(series.points).toHaveLength(7);
    expect(series.points[6]!.earned).toBe((tokens(3) + 7n).toString());
    const csv = await client.call('earnings.exportCsv', {});
    expect(csv.rows).toBe(1);
    expect(csv.filename).toMatch(/^offshift-earnings-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(updates).toContainEqual({ reason: 'created', address: created.address });
    expect(updates).toContainEqual({ reason: 'redeemed', address: created.address });
  });

  it('the two-step withdrawal and its refusals', async () => {
    const quote = await client.call('wallet.prepareWithdraw', { to: chain.deployer.address, amount: '5' });
    expect(BigInt(quote.maxFee)).toBeGreaterThan(0n);
    const sent = await client.call('wallet.withdraw', { quoteId: quote.quoteId });
    expect(sent.amount).toBe('5');
    await expect(client.call('wallet.prepareWithdraw', { to: '0x0000000000000000000000000000000000000000', amount: '1' })).rejects.toMatchObject({ code: 'invalid-address' });
  });

  it('refuses amounts given as numbers, and a key never comes back but from export', async () => {
    const r = await agent.dispatch('wallet.prepareWithdraw', { to: chain.deployer.address, amount: 5 });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const status = await client.call('wallet.status', {});
    expect(JSON.stringify(status)).not.toMatch(/privateKey|mnemonic/);
    await expect(client.call('wallet.export', { password: 'nope nope' })).rejects.toMatchObject({ code: 'wrong-password' });
    const exported = await client.call('wallet.export', { password: 'api password 1' });
    expect(exported.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
