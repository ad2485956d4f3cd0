/**
 * The small part of the WebGPU API the benchmark uses (the project does not ship @webgpu/types).
 * Flags and shapes follow the WebGPU specification (https://www.w3.org/TR/webgpu/).
 */
export interface WgpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface WgpuAdapter {
  readonly features: ReadonlySet<string>;
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number };
  readonly info?: WgpuAdapterInfo;
  readonly isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<WgpuAdapterInfo>;
  requestDevice(descriptor?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<WgpuDevice>;
}
export interface WgpuBuffer {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
export interface WgpuBindGroup {
  readonly __brand?: 'bind-group';
}
export interface WgpuPipeline {
  getBindGroupLayout(index: number): unknown;
}
export interface WgpuPass {
  setPipeline(p: WgpuPipeline): void;
  setBindGroup(index: number, group: WgpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
export interface WgpuEncoder {
  beginComputePass(): WgpuPass;
  copyBufferToBuffer(src: WgpuBuffer, srcOffset: number, dst: WgpuBuffer, dstOffset: number, size: number): void;
  finish(): unknown;
}
export interface WgpuDevice {
  readonly lost: Promise<{ reason: string; message: string }>;
  readonly queue: { submit(buffers: unknown[]): void; writeBuffer(buffer: WgpuBuffer, offset: number, data: ArrayBufferView): void; onSubmittedWorkDone(): Promise<void> };
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): WgpuBuffer;
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): WgpuPipeline;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: { buffer: WgpuBuffer } }[] }): WgpuBindGroup;
  createCommandEncoder(): WgpuEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
}
export interface WgpuGpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<WgpuAdapter | null>;
}

export const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 } as const;
export const MapMode = { READ: 0x0001 } as const;

export function webgpu(): WgpuGpu | null {
  return (navigator as unknown as { gpu?: WgpuGpu }).gpu ?? null;
}
