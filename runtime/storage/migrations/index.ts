import type { Migration } from './migration.js';
import { init001 } from './001-init.js';
import { jobs002 } from './002-jobs.js';
import { ledger003 } from './003-ledger.js';
import { market004 } from './004-market.js';
import { ledgerChannels005 } from './005-ledger-channels.js';
import { images006 } from './006-images.js';
import { payout007 } from './007-payout.js';

/**
 * The one migration sequence for the whole agent (jobs, ledger, …). Append only: a released
 * migration is never edited; a change is a new, higher number.
 */
export const migrations: Migration[] = [init001, jobs002, ledger003, market004, ledgerChannels005, images006, payout007];
