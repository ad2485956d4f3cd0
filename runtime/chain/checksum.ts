/**
 * An address in its checksummed form (EIP-55), remembered: checksumming hashes the address
 * (keccak), and the market checksums the same few addresses (this wallet, the escrow, a buyer)
 * several times at every offer. An invalid address throws as `getAddress` does, and is not kept.
 */
import { getAddress } from 'ethers';

const KEPT = 4096;
const known = new Map<string, string>();

export function checksummed(address: string): string {
  let sum = known.get(address);
  if (sum === undefined) {
    sum = getAddress(address);
    if (known.size >= KEPT) known.clear();
    known.set(address, sum);
  }
  return sum;
}
