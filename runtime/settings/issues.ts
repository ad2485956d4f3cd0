import type { z } from 'zod';

/** zod issues as "field: problem" lines, naming each field by its dotted path. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(the whole file)'}: ${issue.message}`;
    })
    .join('; ');
}
