/**
 * A real anvil chain for a test file: started on a free port, the contracts compiled (cached)
 * and deployed, the demo buyer funded with a deposit; stopped by `stop()`.
 */
import { Wallet, type JsonRpcProvider } from 'ethers';
import { ANVIL_KEYS, startAnvil, type AnvilProcess } from '../../runtime/chain/anvil.js';
import { loadArtifacts } from '../../runtime/chain/compile.js';
import { deployContracts, depositToEscrow, mintTokens, sendEth, tokens, eth } from '../../runtime/chain/deploy.js';
import { makeProvider } from '../../runtime/chain/provider.js';

export interface TestChain {
  anvil: AnvilProcess;
  rpcUrl: string;
  chainId: number;
  provider: JsonRpcProvider;
  deployer: Wallet;
  buyer: Wallet;
  token: string;
  escrow: string;
  noticePeriod: number;
  /** anvil's evm_increaseTime + evm_mine. */
  advance(seconds: number): Promise<void>;
  /** The chain's current block timestamp (seconds). */
  now(): Promise<number>;
  /** Gives an address gas money and tokens. */
  fund(address: string, opts?: { eth?: string; tokens?: string }): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestChain(options: { deposit?: string; noticePeriod?: number } = {}): Promise<TestChain> {
  const artifacts = loadArtifacts();
  const anvil = await startAnvil();
  const provider = makeProvider(anvil.rpcUrl, anvil.chainId);
  const deployer = new Wallet(ANVIL_KEYS[0], provider);
  const buyer = new Wallet(ANVIL_KEYS[1], provider);
  let deployment: Awaited<ReturnType<typeof deployContracts>>;
  try {
    deployment = await deployContracts(deployer, artifacts, { noticePeriod: options.noticePeriod ?? 3600 });
    await mintTokens(deployer, deployment.token, buyer.address, tokens(1_000_000));
    await depositToEscrow(buyer, deployment.token, deployment.escrow, tokens(options.deposit ?? '1000'));
  } catch (error) {
    // Never leave an anvil behind when the setup fails.
    provider.destroy();
    await anvil.stop();
    throw error;
  }
  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    provider,
    deployer,
    buyer,
    token: deployment.token,
    escrow: deployment.escrow,
    noticePeriod: deployment.noticePeriod,
    async advance(seconds) {
      await provider.send('evm_increaseTime', [seconds]);
      await provider.send('evm_mine', []);
    },
    async now() {
      const block = await provider.getBlock('latest');
      return block!.timestamp;
    },
    async fund(address, opts = {}) {
      await sendEth(deployer, address, eth(opts.eth ?? '10'));
      if (opts.tokens) await mintTokens(deployer, deployment.token, address, tokens(opts.tokens));
    },
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
  };
}
