/**
 * XML → objects with exactly the options node-nvidia-smi uses, so a report read through
 * node-nvidia-smi and one read from text (our own spawn, tests) are the same object.
 * xml2js is node-nvidia-smi's dependency, forced to ^0.6.2 by package.json `overrides`
 * (0.4.x has a prototype-pollution advisory, CVE-2023-0842).
 */
import { parseString } from 'xml2js';

export const NODE_NVIDIA_SMI_XML_OPTIONS = { explicitArray: false, trim: true } as const;

export function parseXml(text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    parseString(text, NODE_NVIDIA_SMI_XML_OPTIONS, (error: Error | null, result: unknown) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}
