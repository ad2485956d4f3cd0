/** The sign-in message (EIP-4361, "Sign-In with Ethereum") both roles sign, written and read field for field. */
import type { Role } from './common.js';

export interface SignInFields {
  domain: string;
  address: string;
  uri: string;
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime: string;
  role: Role;
}

const STATEMENT: Record<Role, string> = {
  provider: 'Sign in to the Offshift market as a provider.',
  buyer: 'Sign in to the Offshift market as a buyer.',
};

/** The EIP-4361 ("Sign-In with Ethereum") text, field for field. */
export function signInMessage(f: SignInFields): string {
  return [
    `${f.domain} wants you to sign in with your Ethereum account:`,
    f.address,
    '',
    STATEMENT[f.role],
    '',
    `URI: ${f.uri}`,
    'Version: 1',
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
    `Expiration Time: ${f.expirationTime}`,
  ].join('\n');
}

/** Parses an EIP-4361 message of the form above; null when it is not one. */
export function parseSignInMessage(text: string): SignInFields | null {
  const lines = text.split('\n');
  if (lines.length !== 11 || lines[2] !== '' || lines[4] !== '' || lines[6] !== 'Version: 1') return null;
  const head = /^(.{1,255}) wants you to sign in with your Ethereum account:$/.exec(lines[0]!);
  const address = /^0x[0-9a-fA-F]{40}$/.exec(lines[1]!);
  const role = (Object.keys(STATEMENT) as Role[]).find((r) => STATEMENT[r] === lines[3]);
  const field = (line: string | undefined, name: string) => (line?.startsWith(`${name}: `) ? line.slice(name.length + 2) : null);
  const uri = field(lines[5], 'URI');
  const chainId = Number(field(lines[7], 'Chain ID'));
  const nonce = field(lines[8], 'Nonce');
  const issuedAt = field(lines[9], 'Issued At');
  const expirationTime = field(lines[10], 'Expiration Time');
  if (!head || !address || !role || !uri || !Number.isSafeInteger(chainId) || chainId <= 0 || !nonce || !issuedAt || !expirationTime) return null;
  return { domain: head[1]!, address: address[0], uri, chainId, nonce, issuedAt, expirationTime, role };
}
