import { JsonRpcProvider, Network } from 'ethers';
import { AppError } from '../api/errors.js';
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
