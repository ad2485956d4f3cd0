// Local declarations for untyped CommonJS modules (no @types exist for node-nvidia-smi;
// @types/xml2js is not installed). Only what Offshift calls is declared.
declare module 'node-nvidia-smi' {
  /** Runs `nvidia-smi -q -x` (through the shell, PATH of this process) and parses it with xml2js. */
  function nvidiaSmi(callback: (error: unknown, data?: unknown) => void): void;
  export default nvidiaSmi;
}

declare module 'xml2js' {
  export function parseString(
    xml: string,
    options: { explicitArray?: boolean; trim?: boolean },
    callback: (error: Error | null, result: unknown) => void,
  ): void;
}

declare module 'systeminformation/lib/graphics.js' {
  import type { Systeminformation } from 'systeminformation';
  const graphicsModule: { graphics(): Promise<Systeminformation.GraphicsData> };
  export default graphicsModule;
}
