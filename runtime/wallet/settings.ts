/**
 * The wallet's settings: the network in use, the networks the owner added, the auto-redeem
 * threshold. One small JSON file in the data folder (wallet-settings.json), validated by zod and
 * written atomically. (Kept apart from runtime/settings/settings.json for now: see docs/money.md.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { statCached } from '../storage/stat-cache.js';
import { defaultWalletSettings, walletSettingsPatchSchema, walletSettingsSchema, type WalletSettings } from './schema.js';

export const WALLET_SETTINGS_FILE = 'wallet-settings.json';

export function walletSettingsPath(home: string): string {
  return path.join(home, WALLET_SETTINGS_FILE);
}

export const readWalletSettings: (home: string) => WalletSettings = statCached(walletSettingsPath, readWalletSettingsFile, (s) => structuredClone(s));

function readWalletSettingsFile(home: string): WalletSettings {
  const file = walletSettingsPath(home);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...defaultWalletSettings };
    throw new AppError('settings-unreadable', `Cannot read ${file}: ${(error as Error).message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('settings-invalid', `${file} is not valid JSON. Fix it or delete it to go back to the defaults (the local chain, no auto-redeem).`);
  }
  const parsed = walletSettingsPatchSchema.safeParse(json);
  if (!parsed.success) throw new AppError('settings-invalid', `${file} is invalid: ${z.prettifyError(parsed.error)}. Fix it or delete it to go back to the defaults.`);
  return walletSettingsSchema.parse({ ...defaultWalletSettings, ...parsed.data });
}

export function writeWalletSettings(home: string, settings: WalletSettings): void {
  writeFileAtomic(walletSettingsPath(home), JSON.stringify(walletSettingsSchema.parse(settings), null, 2) + '\n', 0o600);
}
