/** A job's id on the escrow contract: bytes32 hex as is, anything else (a market's job id) hashed. */
import { id as keccakId } from 'ethers';

/** A job id: bytes32 hex as is, anything else hashed (keccak256 of its UTF-8). */
export function toJobId(job: string): string {
  return /^0x[0-9a-fA-F]{64}$/.test(job) ? job.toLowerCase() : keccakId(job);
}
