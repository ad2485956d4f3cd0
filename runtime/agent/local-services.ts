/**
 * The agent that runs over a data folder, or the services over that folder when none answers.
 * The CLI talks to the running agent (so the agent's state changes at once and its checks run),
 * else opens what it needs here: each service when first asked for, one database connection,
 * all closed together. The money is opened by the same code as the agent's (wallet/money.ts).
 */
import path from 'node:path';
import { createClient, type Client } from '../api/client.js';
import { readToken } from '../api/token.js';
import { connectWebSocket } from '../api/transports/websocket-client.js';
import { createImageHandlers, type ImageHandlers } from '../images/handlers.js';
import { ImageService } from '../images/service.js';
import { effectiveImages, imagesValue } from '../images/settings.js';
import { JobRunner } from '../jobs/runner.js';
import type { JobLogEvent, JobProgressEvent } from '../jobs/schema.js';
import { silentLogger, type Logger } from '../log.js';
import { loadPolicy } from '../policy/load.js';
import { policyFilePath } from '../policy/paths.js';
import { connectDocker } from '../engine/connect.js';
import { effectiveSandboxSettings } from '../sandbox/effective-settings.js';
import { createScheduleService, type ScheduleService } from '../schedule/service.js';
import { openSettingsStore } from '../settings/store.js';
import { DATABASE_FILE, openDatabase, type Db } from '../storage/database.js';
import { openMoneyParts, type MoneyParts } from '../wallet/money.js';
import { readEndpoint } from './discovery.js';

export interface RunningAgent {
  client: Client;
  port: number;
}

/** The agent running over `home` (its discovery file and token), or null when none answers in time. */
export async function connectRunningAgent(home: string, timeoutMs = 2000): Promise<RunningAgent | null> {
  const endpoint = readEndpoint(home);
  const token = endpoint ? readToken(home) : null;
  if (!endpoint || !token) return null;
  try {
    return { client: createClient(await connectWebSocket(endpoint.port, token, timeoutMs)), port: endpoint.port };
  } catch {
    return null;
  }
}

export interface LocalServices {
  readonly home: string;
  database(): Db;
  /** The wallet, ledger and earnings. */
  money(): MoneyParts;
  /** The job runner with the agent's sandbox settings (the settings file under the admin policy), pulling through the image store. */
  jobs(onLog?: (event: JobLogEvent) => void, onProgress?: (event: JobProgressEvent) => void): JobRunner;
  /** The image store's commands (`images.*`), over the settings file under the admin policy. */
  images(): ImageHandlers;
  /** The schedule over the settings file, without the machine's idle, GPU or battery sources. */
  schedule(): ScheduleService;
  close(): Promise<void>;
}

export function openLocalServices(home: string, options: { env: NodeJS.ProcessEnv; log?: Logger; scryptN?: number }): LocalServices {
  const log = options.log ?? silentLogger;
  let db: Db | undefined;
  let money: MoneyParts | undefined;
  let runner: JobRunner | undefined;
  let schedule: ScheduleService | undefined;
  let images: ImageService | undefined;
  const database = () => (db ??= openDatabase(path.join(home, DATABASE_FILE)));
  const settings = { store: openSettingsStore(home), policy: () => loadPolicy(policyFilePath(options.env)) };
  const imageStore = () =>
    (images ??= new ImageService({
      home,
      db: database(),
      docker: connectDocker(options.env),
      log,
      settings: () => imagesValue(effectiveImages(settings.store, settings.policy())),
      inUse: () => runner?.imagesInUse() ?? [],
    }));
  return {
    home,
    database,
    money: () => (money ??= openMoneyParts({ home, log, scryptN: options.scryptN, db: database() })),
    jobs(onLog, onProgress) {
      const sandboxSettings = () => effectiveSandboxSettings(settings.store, settings.policy());
      return (runner ??= new JobRunner({ db: database(), docker: connectDocker(options.env), home, log, onLog, onProgress, sandboxSettings, images: imageStore() }));
    },
    images: () => createImageHandlers(imageStore(), settings),
    schedule: () =>
      (schedule ??= createScheduleService({ home, env: options.env, log, idle: null, processes: null, gpu: null, battery: null, onDecision: () => {} })),
    async close() {
      await runner?.close();
      await images?.close();
      await schedule?.stop();
      db?.close();
    },
  };
}
