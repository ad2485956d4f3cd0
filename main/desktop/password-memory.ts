/**
 * The wallet password kept in the OS keychain through Electron's safeStorage: encrypted by a key
 * that the keychain holds (macOS Keychain, Windows DPAPI, Linux Secret Service or KWallet), and
 * written to a 0600 file in the data folder. Refused where the backend is not a real keychain:
 * Linux's `basic_text` encrypts with a key written in Chromium's source, so the "encrypted"
 * password would be readable by anyone who copies the file.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
  encryptString(text: string): Buffer;
  decryptString(data: Buffer): string;
}

export interface KeychainStatus {
  available: boolean;
  backend: string;
  reason: string | null;
}

/** Pure: may the password be kept, and if not, why (in words for the Settings page). */
export function keychainStatus(platform: NodeJS.Platform, encryptionAvailable: boolean, backend: string | null): KeychainStatus {
  const name = platform === 'darwin' ? 'macOS Keychain' : platform === 'win32' ? 'Windows DPAPI' : (backend ?? 'unknown');
  if (!encryptionAvailable) return { available: false, backend: name, reason: 'The system offers no keychain to Offshift right now, so the password cannot be remembered.' };
  if (platform === 'linux') {
    if (backend === 'basic_text' || backend === 'unknown' || backend === null) {
      return {
        available: false,
        backend: name,
        reason:
          'No keychain runs in this session (Electron would fall back to "basic_text", a key that is the same on every computer, so the password would be readable by anyone with the file). Install and unlock GNOME Keyring or KWallet, then reopen Offshift.',
      };
    }
  }
  return { available: true, backend: name, reason: null };
}

export const PASSWORD_FILE = 'wallet-password.bin';

export class PasswordMemory {
  constructor(
    private readonly dir: string,
    private readonly storage: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  private get file(): string {
    return path.join(this.dir, PASSWORD_FILE);
  }

  status(): KeychainStatus {
    return keychainStatus(this.platform, this.storage.isEncryptionAvailable(), this.storage.getSelectedStorageBackend?.() ?? null);
  }

  get remembered(): boolean {
    return fs.existsSync(this.file);
  }

  /** Keeps the password; throws with the reason where the keychain is not a real one. */
  remember(password: string): void {
    const s = this.status();
    if (!s.available) throw new Error(s.reason ?? 'no keychain');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.tmp`;
    fs.writeFileSync(temp, this.storage.encryptString(password), { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  /** The kept password, or null (none, or it cannot be decrypted any more: then it is forgotten). */
  recall(): string | null {
    if (!this.status().available) return null;
    let data: Buffer;
    try {
      data = fs.readFileSync(this.file);
    } catch {
      return null;
    }
    try {
      return this.storage.decryptString(data);
    } catch {
      this.forget();
      return null;
    }
  }

  forget(): void {
    fs.rmSync(this.file, { force: true });
  }
}
