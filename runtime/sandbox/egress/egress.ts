/**
 * Network for allow-list jobs: an internal Docker network (no route out, no traffic between
 * jobs), the agent's CONNECT proxy on its gateway, and the firewall rule that keeps every other
 * host service out of reach. If any part cannot be set up, `ready()` says why and networked jobs
 * are refused with that reason; jobs with network "none" are unaffected.
 */
import crypto from 'node:crypto';
import { createNetwork, inspectNetwork, isNetworkClash, removeNetwork, type Engine } from '../../engine/index.js';
import type { Logger } from '../../log.js';
import { LABEL_AGENT, LABEL_MANAGED } from '../policy.js';
import { firewallUnavailable, installFirewall, removeFirewall, type FirewallRule } from './firewall.js';
import { EgressProxy } from './proxy.js';

export interface EgressLease {
  network: string;
  ip: string;
  proxyUrl: string;
}

interface Setup {
  network: string;
  gateway: string;
  prefix: string;
  rule: FirewallRule;
}

export class Egress {
  private setup: Promise<Setup | string> | null = null;
  private readonly proxy: EgressProxy;
  private readonly used = new Set<string>();

  constructor(
    private readonly options: {
      docker: Engine;
      agentInstance: string;
      log: Logger;
      allowedPrivate?: readonly string[];
      onDecision?: (jobId: string | null, line: string) => void;
      /**
       * Where the proxy's port is kept across restarts: a job left running names the proxy's
       * address in its environment, so a restarted agent listens on the same port again.
       */
      proxyPort?: { get(): number | null; set(port: number): void };
    },
  ) {
    this.proxy = new EgressProxy({ allowedPrivate: options.allowedPrivate, onDecision: options.onDecision });
  }

  get networkName(): string {
    return `offshift-egress-${this.options.agentInstance}`;
  }

  /** Null when networked jobs can run, else why not (said to the person who submitted one). */
  async ready(): Promise<string | null> {
    this.setup ??= this.prepare().catch((error: unknown) => `the egress network could not be set up (${error instanceof Error ? error.message : String(error)})`);
    const s = await this.setup;
    return typeof s === 'string' ? s : null;
  }

  private async prepare(): Promise<Setup | string> {
    const why = await firewallUnavailable({ docker: this.options.docker });
    if (why) return why;
    const { docker, agentInstance } = this.options;
    const short = crypto.createHash('sha256').update(agentInstance).digest('hex').slice(0, 8);
    const bridge = `ofs-eg-${short}`;
    let info = await inspectNetwork(docker, this.networkName);
    if (!info) {
      const start = parseInt(short.slice(0, 2), 16);
      for (let i = 0; i < 64 && !info; i++) {
        const n = (start + i) % 256;
        try {
          await createNetwork(docker, {
            Name: this.networkName,
            Driver: 'bridge',
            Internal: true,
            EnableIPv6: false,
            CheckDuplicate: true,
            IPAM: { Driver: 'default', Config: [{ Subnet: `172.30.${n}.0/24`, Gateway: `172.30.${n}.1` }] },
            Options: { 'com.docker.network.bridge.name': bridge, 'com.docker.network.bridge.enable_icc': 'false' },
            Labels: { [LABEL_MANAGED]: 'true', [LABEL_AGENT]: agentInstance },
          });
          info = await inspectNetwork(docker, this.networkName);
        } catch (error) {
          if (!isNetworkClash(error)) throw error;
          info = await inspectNetwork(docker, this.networkName);
        }
      }
      if (!info) return 'no free private subnet for the egress network';
    }
    const config = info.IPAM?.Config?.[0] as { Subnet?: string; Gateway?: string } | undefined;
    if (!config?.Gateway || !config.Subnet) return 'the egress network has no IPv4 subnet';
    const gateway = config.Gateway;
    const prefix = gateway.split('.').slice(0, 3).join('.');
    const bridgeName = (info.Options?.['com.docker.network.bridge.name'] as string | undefined) ?? `br-${info.Id.slice(0, 12)}`;
    const port = await this.listenOnKeptPort(gateway);
    const rule: FirewallRule = { bridge: bridgeName, gateway, proxyPort: port, chain: `OFFSHIFT-EG-${short}` };
    await installFirewall(rule, { docker });
    this.options.log.info('egress ready', { network: this.networkName, gateway, proxyPort: port, bridge: bridgeName });
    return { network: this.networkName, gateway, prefix, rule };
  }

  private async listenOnKeptPort(gateway: string): Promise<number> {
    const kept = this.options.proxyPort?.get() ?? null;
    let port: number;
    try {
      port = await this.proxy.listen(gateway, kept ?? 0);
    } catch (error) {
      if (kept === null) throw error;
      // Taken by another program meanwhile: a new port; jobs left running lose their network.
      this.options.log.warn('the egress proxy port of the last run is taken; jobs re-adopted with an allow-list have no network', { port: kept, error });
      port = await this.proxy.listen(gateway, 0);
    }
    this.options.proxyPort?.set(port);
    return port;
  }

  /** The proxy's URL for the jobs (null until ready). */
  async proxyUrl(): Promise<string | null> {
    const s = await this.setup;
    return s && typeof s !== 'string' ? `http://${s.gateway}:${s.rule.proxyPort}` : null;
  }

  /** An address on the egress network for a job, registered with the proxy before the job starts. */
  async lease(jobId: string, allow: readonly string[]): Promise<EgressLease> {
    const s = await this.setup;
    if (!s || typeof s === 'string') throw new Error('egress is not ready');
    for (let host = 10; host < 250; host++) {
      const ip = `${s.prefix}.${host}`;
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      this.proxy.register(ip, { jobId, allow });
      return { network: s.network, ip, proxyUrl: `http://${s.gateway}:${s.rule.proxyPort}` };
    }
    throw new Error('no free address on the egress network');
  }

  /** A re-adopted job keeps its address. */
  adopt(jobId: string, allow: readonly string[], ip: string): void {
    this.used.add(ip);
    this.proxy.register(ip, { jobId, allow });
  }

  release(ip: string): void {
    this.used.delete(ip);
    this.proxy.unregister(ip);
  }

  /**
   * Stops the proxy. The firewall rule stays while any container is on the egress network (a
   * job left running for re-adoption must stay cut off); otherwise it and the network go.
   */
  async close(): Promise<void> {
    const s = await this.setup;
    await this.proxy.close();
    if (!s || typeof s === 'string') return;
    const net = await inspectNetwork(this.options.docker, s.network);
    if (net && Object.keys(net.Containers ?? {}).length > 0) return;
    await removeNetwork(this.options.docker, s.network);
    await removeFirewall(s.rule, { docker: this.options.docker });
  }
}
