import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Contract, Wallet, hexlify, randomBytes, type AddressLike } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESCROW_ABI, TOKEN_ABI } from '../../../runtime/chain/abi.js';
import { freePort } from '../../../runtime/chain/anvil.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { silentLogger } from '../../../runtime/log.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { keystorePath } from '../../../runtime/wallet/keystore.js';
import type { SignedVoucher, VoucherData } from '../../../runtime/wallet/schema.js';
import { WalletService } from '../../../runtime/wallet/service.js';
import { contractVoucher, signVoucher } from '../../../runtime/wallet/voucher.js';
import { mined } from '../../../runtime/chain/provider.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';

/** A JSON-RPC proxy in front of anvil that can go away, even right after forwarding a transaction. */
async function startProxy(target: string) {
  let down = false;
  let dropAfterSend = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (down) return req.socket.destroy();
      const body = Buffer.concat(chunks).toString();
      const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await upstream.text();
      if (dropAfterSend && body.includes('eth_sendRawTransaction')) {
        // The transaction reached the chain; the answer never reaches the wallet, and the RPC stays down.
        down = true;
        return req.socket.destroy();
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    goDownAfterNextSend() {
      dropAfterSend = true;
    },
    setDown(value: boolean) {
      down = value;
      dropAfterSend = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('wallet on a real anvil chain and a real database', () => {
  let chain: TestChain;
  let temp: ReturnType<typeof makeTempHome>;
  let db: Db;
  let ledger: Ledger;
  let wallet: WalletService;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let address: string;
  let token: Contract;
  const password = 'correct horse battery';

  const open = () => {
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
    ledger = new Ledger(db);
    wallet = new WalletService({ home: temp.home, ledger, log: silentLogger, scryptN: 1024, receiptTimeoutMs: 20_000 });
  };
  const balance = async (who: AddressLike) => (await token.getFunction('balanceOf')(who)) as bigint;
  async function voucher(jobId: string, amount: bigint, over: Partial<VoucherData> = {}): Promise<SignedVoucher> {
    return signVoucher(chain.buyer, chain.chainId, chain.escrow, {
      buyer: chain.buyer.address,
      provider: address,
      jobId,
      cumulativeAmount: amount.toString(),
      expiry: (await chain.now()) + 86_400,
      ...over,
    });
  }

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    proxy = await startProxy(chain.rpcUrl);
    temp = makeTempHome();
    open();
    token = new Contract(chain.token, TOKEN_ABI, chain.provider);
  });
  afterAll(async () => {
    db?.close();
    await proxy?.close();
    await chain?.stop();
    temp?.cleanup();
  });

  it('adds a network only when its RPC serves the chain id given', async () => {
    const net = { name: 'test', rpcUrl: proxy.url, chainId: chain.chainId, token: chain.token, escrow: chain.escrow, fromBlock: 0 };
    await expect(wallet.updateSettings({ addNetwork: { ...net, chainId: 1 } })).rejects.toMatchObject({ code: 'chain-mismatch' });
    await expect(wallet.updateSettings({ addNetwork: { ...net, escrow: chain.buyer.address } })).rejects.toThrow(/no contract at the escrow/);
    const settings = await wallet.updateSettings({ addNetwork: net, network: 'test' });
    expect(settings.network).toBe('test');
  });

  it('creates an encrypted keystore (0600), refuses a second, and unlocks only with the password', async () => {
    const created = await wallet.create(password);
    address = created.address;
    expect(created.mnemonic.split(' ')).toHaveLength(12);
    expect(fs.statSync(keystorePath(temp.home)).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(keystorePath(temp.home), 'utf8');
    expect(text).not.toContain(created.mnemonic.split(' ')[0]! + ' ');
    const json = JSON.parse(text) as { crypto?: { kdf: string }; Crypto?: { kdf: string } };
    expect((json.crypto ?? json.Crypto)!.kdf).toBe('scrypt');
    await expect(wallet.create(password)).rejects.toMatchObject({ code: 'wallet-exists' });
    wallet.lock();
    await expect(wallet.unlock('wrong password')).rejects.toMatchObject({ code: 'wrong-password' });
    await expect(wallet.exportKey('wrong password')).rejects.toMatchObject({ code: 'wrong-password' });
    const exported = await wallet.exportKey(password);
    expect(exported.mnemonic).toBe(created.mnemonic);
    expect(new Wallet(exported.privateKey).address).toBe(address);
    await wallet.unlock(password);
    const status = await wallet.status();
    expect(status).toMatchObject({ exists: true, unlocked: true, address, tokenBalance: '0', nativeBalance: '0', redeemable: '0', chainError: null });
    await chain.fund(address, { eth: '1' });
  });

  it("redeems a job's vouchers: the ledger and the balances agree to the base unit", async () => {
    const job = hexlify(randomBytes(32));
    const first = tokens('1.5') + 1n;
    const second = tokens('4.25') + 3n;
    const r1 = await wallet.redeemVoucher(await voucher(job, first));
    expect(r1).toMatchObject({ outcome: 'ok', paid: first.toString() });
    const r2 = await wallet.redeemVoucher(await voucher(job, second));
    expect(r2).toMatchObject({ outcome: 'ok', paid: (second - first).toString() });
    expect(await balance(address)).toBe(second);
    const status = await wallet.status();
    expect(status.tokenBalance).toBe(second.toString());
    expect(status.redeemed).toBe(second.toString());
    expect(ledger.totals()).toMatchObject({ redeemed: second.toString(), redeemable: '0', earned: second.toString() });
    const row = ledger.jobs().jobs.find((j) => j.marketJobId === job)!;
    expect(row).toMatchObject({ status: 'redeemed', redeemTx: r2.txHash, paid: second.toString() });
  });

  it('a redeemed voucher submitted again pays nothing and says it was already redeemed', async () => {
    const job = hexlify(randomBytes(32));
    const v = await voucher(job, tokens(2));
    await wallet.redeemVoucher(v);
    const before = await balance(address);
    await expect(wallet.redeemVoucher(v)).rejects.toMatchObject({ code: 'already-redeemed', message: expect.stringMatching(/already redeemed/) });
    expect(await balance(address)).toBe(before);
  });

  it('a tampered voucher is refused before anything is sent', async () => {
    const v = await voucher(hexlify(randomBytes(32)), tokens(1));
    const tampered = { ...v, voucher: { ...v.voucher, cumulativeAmount: tokens(100).toString() } };
    const nonce = await chain.provider.getTransactionCount(address);
    await expect(wallet.redeemVoucher(tampered)).rejects.toMatchObject({ code: 'voucher-invalid' });
    const otherSigner = await signVoucher(Wallet.createRandom(), chain.chainId, chain.escrow, v.voucher);
    await expect(wallet.redeemVoucher(otherSigner)).rejects.toMatchObject({ code: 'voucher-invalid' });
    await expect(wallet.redeemVoucher({ ...v, voucher: { ...v.voucher, provider: chain.buyer.address } })).rejects.toMatchObject({ code: 'voucher-not-ours' });
    await expect(wallet.redeemVoucher({ voucher: { ...v.voucher, cumulativeAmount: 12 }, signature: v.signature })).rejects.toMatchObject({ code: 'voucher-invalid' });
    expect(await chain.provider.getTransactionCount(address)).toBe(nonce);
  });

  it('an expired voucher is refused with its expiry, kept as refused evidence and never counted', async () => {
    const v = await voucher(hexlify(randomBytes(32)), tokens(1), { expiry: (await chain.now()) + 5 });
    await chain.advance(10);
    const before = ledger.totals();
    await expect(wallet.redeemVoucher(v)).rejects.toMatchObject({ code: 'voucher-expired', message: expect.stringMatching(/expired at/) });
    expect(db.prepare('SELECT count(*) AS n FROM ledger_vouchers WHERE market_job_id = ?').get(v.voucher.jobId.toLowerCase())).toEqual({ n: 0 });
    expect(ledger.refusedVouchers().vouchers[0]).toMatchObject({ kind: 'expired', voucher: { jobId: v.voucher.jobId.toLowerCase() } });
    expect(ledger.totals()).toEqual(before);
  });

  it('an RPC that goes away mid-redeem leaves a state that a retry completes without paying twice', async () => {
    const job = hexlify(randomBytes(32));
    const amount = tokens('3.333');
    const v = await voucher(job, amount);
    const before = await balance(address);
    proxy.goDownAfterNextSend();
    await expect(wallet.redeemVoucher(v)).rejects.toMatchObject({ code: 'rpc-unreachable' });
    const stored = db.prepare('SELECT status, submitted_tx FROM ledger_vouchers WHERE market_job_id = ?').get(job) as { status: string; submitted_tx: string };
    expect(stored.status).toBe('redeemable');
    expect(stored.submitted_tx).toMatch(/^0x[0-9a-f]{64}$/);
    // The transaction did reach the chain.
    expect(await balance(address)).toBe(before + amount);
    proxy.setDown(false);
    const retry = await wallet.redeemVoucher(v);
    expect(retry).toMatchObject({ outcome: 'ok', txHash: stored.submitted_tx, paid: amount.toString() });
    expect(await balance(address)).toBe(before + amount);
    expect(ledger.jobs().jobs.find((j) => j.marketJobId === job)).toMatchObject({ status: 'redeemed', paid: amount.toString() });
    expect(BigInt(ledger.totals().redeemed)).toBe(await balance(address));
  });

  it('reconciliation restores redeem records the database lost, and payments made by others', async () => {
    // A voucher redeemed on chain by someone else (anyone may submit one).
    const job = hexlify(randomBytes(32));
    const v = await voucher(job, tokens(7));
    await wallet.addVoucher(v);
    const escrow = new Contract(chain.escrow, ESCROW_ABI, chain.deployer);
    await mined(await escrow.getFunction('redeem')(contractVoucher(v.voucher), v.signature));
    expect(ledger.totals().redeemable).toBe(tokens(7).toString());
    expect((await wallet.reconcile()).added).toBe(1);
    expect(ledger.totals()).toMatchObject({ redeemable: '0' });
    const onChain = await balance(address);
    expect(BigInt(ledger.totals().redeemed)).toBe(onChain);

    // The database is lost entirely: a fresh one rebuilt from the chain agrees to the base unit.
    const jobsBefore = ledger.jobs(1000).jobs.filter((j) => j.status === 'redeemed').map((j) => [j.marketJobId, j.paid, j.redeemTx]);
    db.close();
    for (const f of fs.readdirSync(temp.home)) if (f.startsWith(DATABASE_FILE)) fs.rmSync(path.join(temp.home, f));
    open();
    await wallet.unlock(password);
    expect(ledger.totals().redeemed).toBe('0');
    const result = await wallet.reconcile();
    expect(result.added).toBeGreaterThanOrEqual(5);
    expect(BigInt(ledger.totals().redeemed)).toBe(onChain);
    const jobsAfter = ledger.jobs(1000).jobs.map((j) => [j.marketJobId, j.paid, j.redeemTx]);
    expect(jobsAfter.sort()).toEqual(jobsBefore.sort());
    // Running it again adds nothing.
    expect((await wallet.reconcile({ full: true })).added).toBe(0);
    expect(BigInt(ledger.totals().redeemed)).toBe(onChain);
  });

  it('withdraws in two steps: checks the address, shows the fee, then sends', async () => {
    const to = Wallet.createRandom().address;
    await expect(wallet.prepareWithdraw(to.toLowerCase().replace('0x', '0X'), '1')).rejects.toMatchObject({ code: 'invalid-address' });
    const badChecksum = to.slice(0, 2) + (to[2] === to[2]!.toUpperCase() ? to[2]!.toLowerCase() : to[2]!.toUpperCase()) + to.slice(3);
    if (/[a-fA-F]/.test(to[2]!)) await expect(wallet.prepareWithdraw(badChecksum, '1')).rejects.toThrow(/checksum/);
    await expect(wallet.prepareWithdraw('0x0000000000000000000000000000000000000000', '1')).rejects.toThrow(/zero address/);
    await expect(wallet.prepareWithdraw(chain.escrow, '1')).rejects.toThrow(/escrow/);
    const held = await balance(address);
    await expect(wallet.prepareWithdraw(to, (held + 1n).toString())).rejects.toMatchObject({ code: 'insufficient-balance' });
    const amount = tokens(2) + 5n;
    const quote = await wallet.prepareWithdraw(to, amount.toString());
    expect(BigInt(quote.gasLimit)).toBeGreaterThan(21_000n);
    expect(BigInt(quote.maxFee)).toBe(BigInt(quote.gasLimit) * BigInt(quote.maxFeePerGas));
    expect(await balance(to)).toBe(0n);
    const sent = await wallet.withdraw(quote.quoteId);
    expect(sent.to).toBe(to);
    expect(await balance(to)).toBe(amount);
    expect(await balance(address)).toBe(held - amount);
    await expect(wallet.withdraw(quote.quoteId)).rejects.toMatchObject({ code: 'not-found' });
    expect((await wallet.status()).withdrawn).toBe(amount.toString());
  });

  it('an RPC that goes away mid-withdraw: retrying the same withdrawal completes it, and pays once', async () => {
    const to = Wallet.createRandom().address;
    const held = await balance(address);
    const amount = tokens(1) + 7n;
    const quote = await wallet.prepareWithdraw(to, amount.toString());
    proxy.goDownAfterNextSend();
    await expect(wallet.withdraw(quote.quoteId)).rejects.toMatchObject({ code: 'rpc-unreachable', message: expect.stringMatching(/retry it \(the same transaction is sent again, never a second one\)/) });
    // It did reach the chain.
    expect(await balance(to)).toBe(amount);
    proxy.setDown(false);
    const retry = await wallet.withdraw(quote.quoteId);
    expect(retry).toMatchObject({ to, amount: amount.toString() });
    expect(await balance(to)).toBe(amount);
    expect(await balance(address)).toBe(held - amount);
    // Used up now: a third try is refused.
    await expect(wallet.withdraw(quote.quoteId)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a corrupt keystore is reported and kept byte for byte', async () => {
    const file = keystorePath(temp.home);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, '{"address": "nope", "crypto": 1');
    const damaged = fs.readFileSync(file);
    wallet.lock();
    await expect(wallet.unlock(password)).rejects.toMatchObject({ code: 'keystore-corrupt' });
    await expect(wallet.create(password)).rejects.toMatchObject({ code: 'wallet-exists' });
    expect(fs.readFileSync(file)).toEqual(damaged);
    fs.writeFileSync(file, original, { mode: 0o600 });
  });

  it('an unreachable RPC is a clear error, and status still answers', async () => {
    proxy.setDown(true);
    try {
      await wallet.unlock(password);
      const status = await wallet.status();
      expect(status.address).toBe(address);
      expect(status.tokenBalance).toBeNull();
      expect(status.chainError).toMatch(/does not answer/);
      await expect(wallet.redeemVoucher(await voucher(hexlify(randomBytes(32)), 1n))).rejects.toMatchObject({ code: 'rpc-unreachable' });
    } finally {
      proxy.setDown(false);
    }
  });
});
