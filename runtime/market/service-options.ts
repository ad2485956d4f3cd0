/** What the marketplace service is made with (service.ts): the agent's parts it drives and reads, and test hooks. */
import type { EventBus } from '../api/events.js';
import type { AgentState, StateInputs } from '../agent/schema.js';
import type { Gpu } from '../gpu/schema.js';
import type { ImageService } from '../images/service.js';
import type { JobRunner } from '../jobs/runner.js';
import type { Logger } from '../log.js';
import type { ScheduleService } from '../schedule/service.js';
import type { LazyMoney } from '../wallet/lazy-money.js';
import type { DemoNetwork } from './demo-network.js';

export interface MarketServiceOptions {
  home: string;
  log: Logger;
  bus: EventBus;
  runner: JobRunner;
  /** The image store (offers' images judged before any pull, warm images advertised, pre-pulls). */
  images?: ImageService;
  listGpus: () => Promise<Gpu[]>;
  schedule: ScheduleService;
  agentState: () => { value: AgentState; snapshot: Readonly<StateInputs> };
  money: LazyMoney;
  /** `offshift agent --password-file`: unlocks the wallet at start. */
  passwordFile?: string;
  /** Starts (or finds) the demo network and returns its market URL; null where no demo can run. */
  demo: DemoNetwork | null;
  /** The password the demo gave the wallet it made, if it made one (the data folder's demo password file). */
  demoPassword?: () => string | null;
  /** Benchmark scores by GPU key, when a benchmark has run. */
  scores?: () => Promise<ReadonlyMap<string, number>>;
  /** Suggested price per GPU-hour (base units) and its basis, from the GPUs, their scores and recent offers' prices per GPU-hour. */
  suggestPrice?: (gpus: Gpu[], scores: ReadonlyMap<string, number>, recentPerGpuHour: bigint[]) => { price: bigint; basis: string } | null;
  backoff?: { minMs: number; maxMs: number };
  now?: () => number;
}
