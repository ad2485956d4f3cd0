import { JsonRpcProvider, Network, type Provider, type TransactionReceipt, type TransactionResponse } from 'ethers';
import { AppError } from '../errors.js';
import { rpcCall } from './anvil.js';

/**
 * A JSON-RPC provider bound to one chain id (no endless network auto-detection when the RPC is
 * down), polling fast enough for a local chain.
 */
export function makeProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: Network.from(chainId), batchMaxCount: 1, cacheTimeout: -1 });
  provider.pollingInterval = 250;
  return provider;
}

/** The RPC's chain id, or a clear error when it does not answer. */
export async function fetchChainId(rpcUrl: string, timeoutMs = 5000): Promise<number> {
  try {
    return Number(await rpcCall(rpcUrl, 'eth_chainId', [], timeoutMs));
  } catch (error) {
    throw new AppError(
      'rpc-unreachable',
      `The chain's RPC at ${rpcUrl} does not answer (${(error as Error).message}). Check the network settings, or start the local chain with \`offshift devnet up\`.`,
    );
  }
}

export async function checkChainId(rpcUrl: string, expected: number): Promise<void> {
  const actual = await fetchChainId(rpcUrl);
  if (actual !== expected) {
    throw new AppError('chain-mismatch', `The RPC at ${rpcUrl} serves chain ${actual}, but this network is configured for chain ${expected}. Fix the RPC URL or the chain id in the network settings.`);
  }
}

/**
 * Waits for a transaction's receipt by asking for it until it comes or the time is up (null).
 * Not ethers' waitForTransaction: that one waits for a *next* block event after a first miss,
 * and on an automining local chain (anvil) no further block may ever come, so a receipt that
 * landed between its first look and its first poll was never seen (a 20 s hang, seen under load).
 */
export async function waitForReceipt(provider: Pick<Provider, 'getTransactionReceipt'>, hash: string, timeoutMs: number, pollMs = 250): Promise<TransactionReceipt | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() + pollMs > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Waits until a sent transaction is mined and succeeded (deployment and devnet set-up). */
export async function mined(tx: TransactionResponse, timeoutMs = 60_000): Promise<TransactionReceipt> {
  const receipt = await waitForReceipt(tx.provider, tx.hash, timeoutMs);
  if (!receipt) throw new AppError('tx-timeout', `Transaction ${tx.hash} was not mined within ${timeoutMs / 1000} s. Is the chain running?`);
  if (receipt.status !== 1) throw new AppError('tx-reverted', `Transaction ${tx.hash} was reverted by the chain.`);
  return receipt;
}
