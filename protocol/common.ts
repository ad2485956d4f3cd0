/** Pieces several messages share: ids, roles, short texts. */
import { z } from 'zod';

/** The market's id of a job: short, printable, safe in a file name. */
export const marketJobIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a market job id is 1–64 letters, digits, _ . -');
export const nonceSchema = z.string().regex(/^[A-Za-z0-9]{16,64}$/, 'a nonce is 16–64 letters and digits');
export const shortText = z.string().max(2000);

export const roleSchema = z.enum(['provider', 'buyer']);
export type Role = z.infer<typeof roleSchema>;
