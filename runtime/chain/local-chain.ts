/**
 * The built-in local chain (the wallet's network `devnet`) as the wallet sees it: its address
 * book in the data folder (devnet.json). Only read here; `offshift devnet up` (demo/devnet.ts)
 * starts the chain and writes the file, with what the demo alone needs (its buyer, its pid).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { statCached } from '../storage/stat-cache.js';
import { DEVNET_NETWORK, type NetworkConfig } from '../wallet/schema.js';

export const LOCAL_CHAIN_FILE = 'devnet.json';

export const localChainSchema = z.object({
  rpcUrl: z.string(),
  chainId: z.number().int(),
  token: z.string(),
  escrow: z.string(),
  fromBlock: z.number().int(),
});

export function localChainFile(home: string): string {
  return path.join(home, LOCAL_CHAIN_FILE);
}

const readers = new WeakMap<z.ZodType, (home: string) => unknown>();

/** The file parsed by `schema`; null when there is none, a clear error when it is damaged (read again only once the file changed). */
export function readLocalChainFile<T>(home: string, schema: z.ZodType<T>): T | null {
  let read = readers.get(schema);
  if (!read) readers.set(schema, (read = statCached(localChainFile, (h: string) => readLocalChainFileNow(h, schema), (v) => structuredClone(v))));
  return read(home) as T | null;
}

function readLocalChainFileNow<T>(home: string, schema: z.ZodType<T>): T | null {
  try {
    return schema.parse(JSON.parse(fs.readFileSync(localChainFile(home), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('devnet-invalid', `${localChainFile(home)} is damaged (${(error as Error).message}). Run \`offshift devnet down\` and delete it, then \`offshift devnet up\`.`);
  }
}

/** The network `devnet`, or a clear error when the local chain was never set up. */
export function localChainNetwork(home: string): NetworkConfig {
  const chain = readLocalChainFile(home, localChainSchema);
  if (!chain) throw new AppError('no-network', `The local chain has not been set up (no ${LOCAL_CHAIN_FILE}). Start it with \`offshift devnet up\`, or add a network in the wallet settings.`);
  return { name: DEVNET_NETWORK, ...chain, tokenSymbol: 'OFT', tokenDecimals: 18 };
}
