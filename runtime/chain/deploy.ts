/** Deploys the test token and the escrow, and funds accounts: the local chain's setup steps. */
import { Contract, ContractFactory, parseEther, parseUnits, type Signer } from 'ethers';
import { mined } from './provider.js';
import { ESCROW_ABI, TOKEN_ABI } from './abi.js';
import { artifact, type Artifacts } from './compile.js';

export const TOKEN_DECIMALS = 18;
export const DEFAULT_NOTICE_PERIOD_S = 7 * 24 * 3600;

export interface Deployment {
  token: string;
  escrow: string;
  noticePeriod: number;
}

export async function deployContracts(deployer: Signer, artifacts: Artifacts, options: { noticePeriod?: number } = {}): Promise<Deployment> {
  const noticePeriod = options.noticePeriod ?? DEFAULT_NOTICE_PERIOD_S;
  const tokenArtifact = artifact(artifacts, 'TestToken');
  const escrowArtifact = artifact(artifacts, 'OffshiftEscrow');
  const token = await new ContractFactory(tokenArtifact.abi as never, tokenArtifact.bytecode, deployer).deploy('Offshift Test Token', 'OFT');
  await mined(token.deploymentTransaction()!);
  const tokenAddress = await token.getAddress();
  const escrow = await new ContractFactory(escrowArtifact.abi as never, escrowArtifact.bytecode, deployer).deploy(tokenAddress, noticePeriod);
  await mined(escrow.deploymentTransaction()!);
  return { token: tokenAddress, escrow: await escrow.getAddress(), noticePeriod };
}

export function tokenContract(address: string, runner: Signer | import('ethers').Provider): Contract {
  return new Contract(address, TOKEN_ABI, runner);
}
export function escrowContract(address: string, runner: Signer | import('ethers').Provider): Contract {
  return new Contract(address, ESCROW_ABI, runner);
}

/** Mints `tokens` (whole tokens) to `to` with the minter's key. */
export async function mintTokens(minter: Signer, token: string, to: string, baseUnits: bigint): Promise<void> {
  const tx = await tokenContract(token, minter).getFunction('mint')(to, baseUnits);
  await mined(tx);
}

export async function sendEth(from: Signer, to: string, wei: bigint): Promise<void> {
  const tx = await from.sendTransaction({ to, value: wei });
  await mined(tx);
}

/** Approves and deposits `baseUnits` into the escrow from `buyer`. */
export async function depositToEscrow(buyer: Signer, token: string, escrow: string, baseUnits: bigint): Promise<void> {
  await mined(await tokenContract(token, buyer).getFunction('approve')(escrow, baseUnits));
  await mined(await escrowContract(escrow, buyer).getFunction('deposit')(baseUnits));
}

export const tokens = (n: string | number): bigint => parseUnits(String(n), TOKEN_DECIMALS);
export const eth = (n: string | number): bigint => parseEther(String(n));
