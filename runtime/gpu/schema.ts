import { z } from 'zod';

export const gpuVendorSchema = z.enum(['nvidia', 'amd', 'intel', 'apple', 'other']);

export const migDeviceSchema = z.object({
  gpuInstanceId: z.number().int(),
  memoryTotalMiB: z.number().nullable(),
  multiprocessorCount: z.number().int().nullable(),
});

export const gpuProcessSchema = z.object({
  pid: z.number().int(),
  name: z.string(),
  usedMemoryMiB: z.number().nullable(),
});

/** One GPU as `offshift gpus --json` prints it. Fields may be added, never renamed. */
export const gpuSchema = z.object({
  index: z.number().int(),
  uuid: z.string().nullable(),
  vendor: gpuVendorSchema,
  name: z.string(),
  memoryTotalMiB: z.number().nullable(),
  driverVersion: z.string().nullable(),
  cudaVersion: z.string().nullable(),
  pciBusId: z.string().nullable(),
  migMode: z.enum(['enabled', 'disabled']).nullable(),
  migDevices: z.array(migDeviceSchema),
  processes: z.array(gpuProcessSchema),
  temperatureC: z.number().nullable(),
  utilizationPct: z.number().nullable(),
  memoryUsedMiB: z.number().nullable(),
  powerDrawW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
});
export type Gpu = z.infer<typeof gpuSchema>;
export type GpuVendor = z.infer<typeof gpuVendorSchema>;

/** One live reading of one GPU. */
export const telemetrySampleSchema = z.object({
  /** Unix milliseconds. */
  t: z.number(),
  gpuIndex: z.number().int(),
  uuid: z.string().nullable(),
  utilizationPct: z.number().nullable(),
  memoryUsedMiB: z.number().nullable(),
  memoryTotalMiB: z.number().nullable(),
  temperatureC: z.number().nullable(),
  powerDrawW: z.number().nullable(),
  smClockMHz: z.number().nullable(),
  fanPct: z.number().nullable(),
});
export type TelemetrySample = z.infer<typeof telemetrySampleSchema>;

export const telemetryStatusSchema = z.object({
  state: z.enum(['running', 'restarting', 'unavailable', 'stopped']),
  reason: z.string(),
});
export type TelemetryStatus = z.infer<typeof telemetryStatusSchema>;
