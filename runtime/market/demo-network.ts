/**
 * The demo network as the market link uses it: declared here, on the market's side, and made by
 * the host (runtime/demo/lazy.ts), so the market link never imports the demo.
 */
import type { MoneyService } from '../wallet/money.js';

export interface DemoNetwork {
  /** Starts what is not running yet; resolves with the demo market's URL. */
  up(): Promise<string>;
  createDemoWallet(money: MoneyService): Promise<void>;
  /**
   * Whether the demo buyer sends GPU jobs too, and why not (demo/demo.json, written by the running
   * network: gpu-jobs.ts). Null until the buyer has decided, or when demo.json cannot be read.
   */
  jobs(): { gpu: boolean; reason: string } | null;
  fund(address: string): Promise<void>;
  /**
   * Stops the demo network this agent owns: the market and buyer inside this process (the desktop
   * app), or the detached process; and the local chain. Quick: it never waits for a job.
   */
  stop(): Promise<void>;
}
