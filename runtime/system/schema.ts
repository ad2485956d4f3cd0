import { z } from 'zod';

export const checkStatusSchema = z.enum(['pass', 'warn', 'fail']);

export const checkItemSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: checkStatusSchema,
  /** A sentence a person can act on. */
  message: z.string(),
  detail: z.string().optional(),
});
export type CheckItem = z.infer<typeof checkItemSchema>;

export const systemCheckSchema = z.object({
  checkedAt: z.string(),
  items: z.array(checkItemSchema),
});
export type SystemCheck = z.infer<typeof systemCheckSchema>;
