/**
 * The metrics settings (the settings file's `metrics` section, lockable by the admin policy) and
 * what `metrics.config` shows. Pure zod.
 *
 * Defaults: nothing served. `listen` null: no listener at all (a studio turns it on, and may lock
 * it, by policy); `textfile` null: no node_exporter file; `dcgmCompat` false: only offshift_*.
 */
import { z } from 'zod';

/** HOST:PORT, e.g. 127.0.0.1:9464, 0.0.0.0:9464 or [::1]:9464. */
export const listenSchema = z
  .string()
  .max(300)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, 'listen is HOST:PORT, e.g. 127.0.0.1:9464 (0.0.0.0:9464 to be scraped from the LAN)');

export const metricsSettingsSchema = z
  .object({
    /** Where /metrics is served (null: nowhere). */
    listen: listenSchema.nullable(),
    /** A node_exporter textfile-collector file, rewritten every 15 s (null: none). Must end in .prom. */
    textfile: z.string().max(4096).regex(/\.prom$/, 'the textfile collector reads only files ending in .prom').nullable(),
    /** Also the DCGM exporter's GPU series, so that Grafana's DCGM dashboard works unchanged. */
    dcgmCompat: z.boolean(),
  })
  .strict();
export type MetricsSettings = z.infer<typeof metricsSettingsSchema>;

export const metricsPatchSchema = metricsSettingsSchema.partial().strict();
export type MetricsPatch = z.infer<typeof metricsPatchSchema>;

export const defaultMetricsSettings: MetricsSettings = { listen: null, textfile: null, dcgmCompat: false };

export const metricsViewSchema = z.object({
  effective: metricsSettingsSchema,
  /** Dotted paths the administrator locked (e.g. `metrics.listen`). */
  locked: z.array(z.string()),
  /** The URL Prometheus scrapes (null: no listener). */
  url: z.string().nullable(),
  /** The bearer token's file (0600), made when the listener is first turned on. */
  tokenFile: z.string(),
  /** Why the listener or the textfile does not work now (null: they do). */
  problem: z.string().nullable(),
  /** A scrape config to paste into prometheus.yml (null: no listener). */
  scrapeConfig: z.string().nullable(),
});
export type MetricsView = z.infer<typeof metricsViewSchema>;

export const metricsConfigInputSchema = metricsPatchSchema;
