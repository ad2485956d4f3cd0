import { Interface } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ESCROW_ABI, TOKEN_ABI } from '../../../runtime/chain/abi.js';
import { compileContracts, loadArtifacts } from '../../../runtime/chain/compile.js';

/** The agent uses hand-written ABIs (no compile at run time): they must match the sources. */
describe('contract ABIs', () => {
  const artifacts = loadArtifacts();

  function signatures(abi: readonly unknown[]): string[] {
    const iface = new Interface(abi as never);
    const out: string[] = [];
    iface.forEachFunction((f) => out.push(`function ${f.format('sighash')} -> ${f.outputs.map((o) => o.type).join(',')}`));
    iface.forEachEvent((e) => out.push(`event ${e.format('sighash')}`));
    iface.forEachError((e) => out.push(`error ${e.format('sighash')}`));
    return out.sort();
  }

  it('the escrow ABI the agent uses is exactly the compiled one', () => {
    expect(signatures(ESCROW_ABI)).toEqual(signatures(artifacts.contracts.OffshiftEscrow!.abi));
  });

  it('every token function the agent uses exists in the compiled token', () => {
    const compiled = new Set(signatures(artifacts.contracts.TestToken!.abi));
    for (const s of signatures(TOKEN_ABI)) expect(compiled, s).toContain(s);
  });

  it('the cache is keyed by the sources: a fresh compile gives the cached artifacts', () => {
    const fresh = compileContracts();
    expect(fresh.key).toBe(artifacts.key);
    expect(fresh.contracts.OffshiftEscrow!.bytecode).toBe(artifacts.contracts.OffshiftEscrow!.bytecode);
  }, 120_000); // solc (WebAssembly, one core): 6 s alone, several times that beside the integration files
});
