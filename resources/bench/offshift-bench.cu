// offshift-bench: Offshift's own GPU benchmark (NVIDIA, CUDA). Prints one JSON document on
// stdout and nothing else; diagnostics go to stderr. Built with the CUDA runtime linked
// statically (`-cudart static`), so it needs only the driver. See docs/benchmarks.md.
//
//   offshift-bench [--device INDEX] [--quick] [--runs N]
//
// Per GPU it measures, each as the median of several timed runs after a warm-up, with the
// runs themselves and their spread ((max - min) / median):
//   fp32             FMA chains in registers                         TFLOP/s (2 flops an FMA)
//   fp16, bf16       tensor-core WMMA 16x16x16, FP32 accumulate     TFLOP/s (null where absent)
//   memoryBandwidth  device copy kernel                              GB/s, bytes read + written
//   hostToDevice, deviceToHost  pinned cudaMemcpyAsync               GB/s, bytes moved
// Every kernel's result is checked against a reference computed on the host (so the compiler
// cannot drop the work), and a figure above the card's physical peak (computed from the SM
// count, the maximum clock and the architecture) is reported as a measurement error.
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

using namespace nvcuda;

static const int kProgramVersion = 1;

// ── JSON helpers ─────────────────────────────────────────────────────────────
static std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { out += '\\'; out += (char)c; }
    else if (c < 0x20) { char buf[8]; snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += (char)c;
  }
  return out + "\"";
}
static std::string jsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A CUDA failure inside one measurement: carried as an exception so the GPU's entry says what
// failed (e.g. "GPU fell off the bus") and the other GPUs are still measured.
struct CudaFailure {
  std::string where;
  cudaError_t code;
};
#define CK(call)                                              \
  do {                                                        \
    cudaError_t err__ = (call);                               \
    if (err__ != cudaSuccess) throw CudaFailure{#call, err__}; \
  } while (0)

struct Figure {
  bool measured = false;      // false: not supported on this card (printed as null)
  std::vector<double> runs;   // one value per timed run, in order
  double median = NAN, spread = NAN, peak = NAN;
  bool verified = false;
  std::string error;          // measurement error or verification failure
};

static void summarise(Figure& f) {
  std::vector<double> v = f.runs;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  f.median = n == 0 ? NAN : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
  f.spread = n == 0 || f.median <= 0 ? NAN : (v.back() - v.front()) / f.median;
  if (f.error.empty() && std::isfinite(f.peak) && f.median > f.peak * 1.05) {
    char buf[256];
    snprintf(buf, sizeof buf, "measurement error: %.4g is above this card's physical peak of %.4g", f.median, f.peak);
    f.error = buf;
  }
}

static std::string figureJson(const Figure& f, const char* unit) {
  if (!f.measured) return "null";
  std::string runs = "[";
  for (size_t i = 0; i < f.runs.size(); i++) runs += (i ? "," : "") + jsonNumber(f.runs[i]);
  runs += "]";
  return std::string("{\"unit\":") + jsonString(unit) + ",\"median\":" + jsonNumber(f.median) + ",\"spread\":" + jsonNumber(f.spread) +
         ",\"runs\":" + runs + ",\"peak\":" + jsonNumber(f.peak) + ",\"verified\":" + (f.verified ? "true" : "false") +
         ",\"error\":" + (f.error.empty() ? "null" : jsonString(f.error)) + "}";
}

// ── architecture facts (for the physical-peak ceilings) ──────────────────────
static int fp32LanesPerSm(int major, int minor) {
  if (major == 6 && minor == 0) return 64;
  if (major == 7 || (major == 8 && minor == 0)) return 64;
  return 128;  // 5.x, 6.1+, 8.6+, 9.x, 10.x, 12.x
}
// Dense FP16 tensor FLOPs per SM per clock (the FP16-accumulate rate, the highest the unit has).
static double tensorFlopsPerSmClock(int major, int minor) {
  if (major < 7) return 0;
  if (major == 7) return 1024;
  if (major == 8 && minor == 0) return 2048;
  if (major == 8) return 1024;
  if (major == 9) return 4096;
  if (major == 10 || major == 11) return 8192;
  return 1024;  // 12.x consumer Blackwell
}

// ── kernels ──────────────────────────────────────────────────────────────────
__global__ void fmaKernel(float* out, int iters, float a, float b) {
  int tid = blockIdx.x * blockDim.x + threadIdx.x;
  float x[8];
#pragma unroll
  for (int j = 0; j < 8; j++) x[j] = (float)(tid * 8 + j) * 1e-7f;
  for (int i = 0; i < iters; i++) {
#pragma unroll
    for (int j = 0; j < 8; j++) x[j] = fmaf(x[j], a, b);
  }
  float s = 0;
#pragma unroll
  for (int j = 0; j < 8; j++) s += x[j];
  out[tid] = s;
}

static float fmaReference(int tid, int iters, float a, float b) {
  float x[8];
  for (int j = 0; j < 8; j++) x[j] = (float)(tid * 8 + j) * 1e-7f;
  for (int i = 0; i < iters; i++)
    for (int j = 0; j < 8; j++) x[j] = fmaf(x[j], a, b);
  float s = 0;
  for (int j = 0; j < 8; j++) s += x[j];
  return s;
}

static const int kAccumulators = 8;
// Each warp keeps one A and one B fragment and kAccumulators independent accumulators, each
// started from a different value read from memory (so no two chains can be merged), and adds
// A*B to each of them `iters` times.
template <typename T>
__device__ void mmaBody(const T* a, const T* b, const float* init, float* out, int iters) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> c[kAccumulators];
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
#pragma unroll
  for (int k = 0; k < kAccumulators; k++) wmma::fill_fragment(c[k], init[k]);
  for (int i = 0; i < iters; i++) {
#pragma unroll
    for (int k = 0; k < kAccumulators; k++) wmma::mma_sync(c[k], fa, fb, c[k]);
  }
  int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
#pragma unroll
  for (int k = 0; k < kAccumulators; k++) wmma::store_matrix_sync(out + ((size_t)warp * kAccumulators + k) * 256, c[k], 16, wmma::mem_row_major);
}
template <typename T>
__global__ void mmaKernel(const T* a, const T* b, const float* init, float* out, int iters) {
  // BF16 WMMA exists from sm_80, FP16 from sm_70; the host never launches a kernel the card lacks.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  mmaBody<T>(a, b, init, out, iters);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
  if constexpr (!std::is_same<T, __nv_bfloat16>::value) mmaBody<T>(a, b, init, out, iters);
#endif
}

__device__ __host__ inline uint32_t pattern(size_t i, uint32_t seed) {
  uint32_t x = (uint32_t)i * 2654435761u ^ seed;
  x ^= x >> 15;
  x *= 2246822519u;
  x ^= x >> 13;
  return x;
}
__global__ void fillKernel(uint32_t* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) p[i] = pattern(i, seed);
}
__global__ void copyKernel(const uint4* __restrict__ src, uint4* __restrict__ dst, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) dst[i] = src[i];
}
__global__ void verifyKernel(const uint32_t* p, size_t n, uint32_t seed, unsigned long long* bad) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) local += p[i] != pattern(i, seed);
  if (local) atomicAdd(bad, local);
}

// ── measurement driver ───────────────────────────────────────────────────────
struct Options {
  int device = -1;
  bool quick = false;
  int runs = 0;
};

struct Timer {
  cudaEvent_t start, stop;
  Timer() { CK(cudaEventCreate(&start)); CK(cudaEventCreate(&stop)); }
  ~Timer() { cudaEventDestroy(start); cudaEventDestroy(stop); }
  void begin() { CK(cudaEventRecord(start)); }
  double endSeconds() {
    CK(cudaEventRecord(stop));
    CK(cudaEventSynchronize(stop));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, start, stop));
    return ms / 1e3;
  }
};

// Runs `launch(reps)` once to warm up and calibrate, picks reps so a run lasts about
// `targetS`, then times `runs` runs. `work(reps)` is the amount a run does (flops or bytes);
// figures are work / seconds / `scale`.
template <typename Launch>
static void timeRuns(Figure& f, int runs, double targetS, double scale, double workPerRep, Launch launch) {
  Timer t;
  launch(1);  // warm-up (clocks up, code loaded)
  CK(cudaDeviceSynchronize());
  t.begin();
  launch(1);
  double one = t.endSeconds();
  int reps = (int)std::max(1.0, std::min(10000.0, std::ceil(targetS / std::max(one, 1e-6))));
  for (int r = 0; r < runs; r++) {
    t.begin();
    launch(reps);
    double s = t.endSeconds();
    f.runs.push_back(workPerRep * reps / s / scale);
  }
  f.measured = true;
}

static void measureFp32(Figure& f, const cudaDeviceProp& p, int clockKHz, int runs, double targetS) {
  const int block = 256, grid = p.multiProcessorCount * (p.maxThreadsPerMultiProcessor / block) * 4;
  const int iters = 4096;
  const float a = 0.9999f, b = 0.0001f;
  const int threads = grid * block;
  float* out;
  CK(cudaMalloc(&out, threads * sizeof(float)));
  f.peak = (double)p.multiProcessorCount * fp32LanesPerSm(p.major, p.minor) * 2.0 * clockKHz * 1e3 / 1e12;
  try {
    timeRuns(f, runs, targetS, 1e12, 2.0 * 8 * iters * (double)threads, [&](int reps) {
      for (int r = 0; r < reps; r++) fmaKernel<<<grid, block>>>(out, iters, a, b);
      CK(cudaGetLastError());
    });
    std::vector<float> host(threads);
    CK(cudaMemcpy(host.data(), out, threads * sizeof(float), cudaMemcpyDeviceToHost));
    int wrong = 0;
    for (int tid = 0; tid < threads; tid += std::max(1, threads / 512)) {
      float want = fmaReference(tid, iters, a, b);
      if (std::fabs(host[tid] - want) > 1e-6f * std::max(1.0f, std::fabs(want))) wrong++;
    }
    f.verified = wrong == 0;
    if (wrong) f.error = "verification failed: " + std::to_string(wrong) + " sampled FP32 results differ from the host's";
  } catch (...) {
    cudaFree(out);
    throw;
  }
  CK(cudaFree(out));
}

template <typename T>
static void measureMma(Figure& f, const cudaDeviceProp& p, int clockKHz, int runs, double targetS, T (*convert)(float)) {
  const int block = 256, warpsPerBlock = block / 32;
  const int grid = p.multiProcessorCount * 4;
  const int warps = grid * warpsPerBlock;
  const int iters = 1024;  // keeps every partial sum exact in FP32 (see the check below)
  std::vector<T> ha(256), hb(256);
  std::vector<float> fa(256), fb(256), init(kAccumulators);
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 16; c++) {
      fa[r * 16 + c] = ((r + c) % 4 + 1) / 8.0f;        // A row-major
      fb[c * 16 + r] = ((r * 3 + c) % 4 + 1) / 16.0f;   // B col-major: element (k=r, n=c)
    }
  for (int i = 0; i < 256; i++) { ha[i] = convert(fa[i]); hb[i] = convert(fb[i]); }
  for (int k = 0; k < kAccumulators; k++) init[k] = 0.25f * k;
  T *da, *db;
  float *dinit, *dout;
  size_t outCount = (size_t)warps * kAccumulators * 256;
  CK(cudaMalloc(&da, 256 * sizeof(T)));
  CK(cudaMalloc(&db, 256 * sizeof(T)));
  CK(cudaMalloc(&dinit, kAccumulators * sizeof(float)));
  CK(cudaMalloc(&dout, outCount * sizeof(float)));
  CK(cudaMemcpy(da, ha.data(), 256 * sizeof(T), cudaMemcpyHostToDevice));
  CK(cudaMemcpy(db, hb.data(), 256 * sizeof(T), cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dinit, init.data(), kAccumulators * sizeof(float), cudaMemcpyHostToDevice));
  f.peak = (double)p.multiProcessorCount * tensorFlopsPerSmClock(p.major, p.minor) * clockKHz * 1e3 / 1e12;
  timeRuns(f, runs, targetS, 1e12, 2.0 * 16 * 16 * 16 * iters * kAccumulators * (double)warps, [&](int reps) {
    for (int r = 0; r < reps; r++) mmaKernel<T><<<grid, block>>>(da, db, dinit, dout, iters);
    CK(cudaGetLastError());
  });
  // Expected: init[k] + iters * (A*B)[m][n]. Every product is a multiple of 1/128 and every
  // partial sum stays below 2^12, so FP32 holds each one exactly: the check is exact.
  std::vector<float> out(outCount);
  CK(cudaMemcpy(out.data(), dout, outCount * sizeof(float), cudaMemcpyDeviceToHost));
  size_t wrong = 0;
  for (int w = 0; w < warps; w += std::max(1, warps / 64))
    for (int k = 0; k < kAccumulators; k++)
      for (int m = 0; m < 16; m++)
        for (int n = 0; n < 16; n++) {
          double dot = 0;
          for (int kk = 0; kk < 16; kk++) dot += (double)fa[m * 16 + kk] * fb[n * 16 + kk];
          double want = init[k] + iters * dot;
          if (std::fabs(out[((size_t)w * kAccumulators + k) * 256 + m * 16 + n] - want) > 1e-6 * want) wrong++;
        }
  f.verified = wrong == 0;
  if (wrong) f.error = "verification failed: " + std::to_string(wrong) + " tensor-core results differ from the host's";
  cudaFree(da);
  cudaFree(db);
  cudaFree(dinit);
  CK(cudaFree(dout));
}

static void measureMemory(Figure& f, const cudaDeviceProp& p, int memClockKHz, int busWidth, bool quick, int runs, double targetS) {
  size_t freeB = 0, totalB = 0;
  CK(cudaMemGetInfo(&freeB, &totalB));
  size_t bytes = std::min<size_t>(quick ? (256u << 20) : (1024u << 20), freeB / 4) & ~(size_t)0xFFFF;
  size_t words = bytes / 4, vecs = bytes / 16;
  uint32_t *src, *dst;
  unsigned long long* bad;
  CK(cudaMalloc(&src, bytes));
  CK(cudaMalloc(&dst, bytes));
  CK(cudaMalloc(&bad, sizeof *bad));
  CK(cudaMemset(bad, 0, sizeof *bad));
  const uint32_t seed = 0x0ff5u;
  fillKernel<<<p.multiProcessorCount * 8, 256>>>(src, words, seed);
  CK(cudaGetLastError());
  if (memClockKHz > 0 && busWidth > 0) f.peak = 2.0 * memClockKHz * 1e3 * (busWidth / 8.0) / 1e9;
  int grid = p.multiProcessorCount * (p.maxThreadsPerMultiProcessor / 256);
  timeRuns(f, runs, targetS, 1e9, 2.0 * bytes, [&](int reps) {
    for (int r = 0; r < reps; r++) copyKernel<<<grid, 256>>>((const uint4*)src, (uint4*)dst, vecs);
    CK(cudaGetLastError());
  });
  verifyKernel<<<p.multiProcessorCount * 8, 256>>>(dst, words, seed, bad);
  CK(cudaGetLastError());
  unsigned long long hostBad = 0;
  CK(cudaMemcpy(&hostBad, bad, sizeof hostBad, cudaMemcpyDeviceToHost));
  f.verified = hostBad == 0;
  if (hostBad) f.error = "verification failed: " + std::to_string(hostBad) + " words differ after the device copy";
  cudaFree(src);
  cudaFree(dst);
  CK(cudaFree(bad));
}

static void measureTransfers(Figure& h2d, Figure& d2h, const cudaDeviceProp& p, bool quick, int runs, double targetS) {
  size_t bytes = quick ? (64u << 20) : (256u << 20);
  size_t words = bytes / 4;
  uint32_t *host, *dev;
  unsigned long long* bad;
  CK(cudaMallocHost(&host, bytes));
  CK(cudaMalloc(&dev, bytes));
  CK(cudaMalloc(&bad, sizeof *bad));
  CK(cudaMemset(bad, 0, sizeof *bad));
  const uint32_t seedUp = 0xa11cu, seedDown = 0xb0bu;
  for (size_t i = 0; i < words; i++) host[i] = pattern(i, seedUp);
  timeRuns(h2d, runs, targetS, 1e9, (double)bytes, [&](int reps) {
    for (int r = 0; r < reps; r++) CK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice));
  });
  verifyKernel<<<p.multiProcessorCount * 8, 256>>>(dev, words, seedUp, bad);
  CK(cudaGetLastError());
  unsigned long long hostBad = 0;
  CK(cudaMemcpy(&hostBad, bad, sizeof hostBad, cudaMemcpyDeviceToHost));
  h2d.verified = hostBad == 0;
  if (hostBad) h2d.error = "verification failed: " + std::to_string(hostBad) + " words differ after the host-to-device copy";

  fillKernel<<<p.multiProcessorCount * 8, 256>>>(dev, words, seedDown);
  CK(cudaGetLastError());
  timeRuns(d2h, runs, targetS, 1e9, (double)bytes, [&](int reps) {
    for (int r = 0; r < reps; r++) CK(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost));
  });
  CK(cudaDeviceSynchronize());
  size_t wrong = 0;
  for (size_t i = 0; i < words; i++) wrong += host[i] != pattern(i, seedDown);
  d2h.verified = wrong == 0;
  if (wrong) d2h.error = "verification failed: " + std::to_string(wrong) + " words differ after the device-to-host copy";
  cudaFreeHost(host);
  cudaFree(dev);
  CK(cudaFree(bad));
}

static std::string uuidString(const cudaUUID_t& u) {
  const unsigned char* b = (const unsigned char*)u.bytes;
  char buf[64];
  snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
           b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

static std::string measureGpu(int index, const Options& o) {
  auto started = std::chrono::steady_clock::now();
  Figure fp32, fp16, bf16, mem, h2d, d2h;
  std::string error, head;
  try {
    CK(cudaSetDevice(index));
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, index));
    int clockKHz = 0, memClockKHz = 0, busWidth = 0;
    CK(cudaDeviceGetAttribute(&clockKHz, cudaDevAttrClockRate, index));
    cudaDeviceGetAttribute(&memClockKHz, cudaDevAttrMemoryClockRate, index);
    cudaDeviceGetAttribute(&busWidth, cudaDevAttrGlobalMemoryBusWidth, index);
    char pci[32];
    snprintf(pci, sizeof pci, "%08X:%02X:%02X.0", p.pciDomainID, p.pciBusID, p.pciDeviceID);
    head = "\"index\":" + std::to_string(index) + ",\"uuid\":" + jsonString(uuidString(p.uuid)) + ",\"name\":" + jsonString(p.name) +
           ",\"pciBusId\":" + jsonString(pci) + ",\"computeCapability\":" + jsonString(std::to_string(p.major) + "." + std::to_string(p.minor)) +
           ",\"smCount\":" + std::to_string(p.multiProcessorCount) + ",\"maxClockMHz\":" + jsonNumber(clockKHz / 1e3) +
           ",\"memoryClockMHz\":" + jsonNumber(memClockKHz / 1e3) + ",\"memoryBusWidthBits\":" + std::to_string(busWidth) +
           ",\"memoryTotalBytes\":" + std::to_string((unsigned long long)p.totalGlobalMem) + ",";
    const int runs = o.runs > 0 ? o.runs : (o.quick ? 3 : 5);
    const double computeS = o.quick ? 0.15 : 0.8, memS = o.quick ? 0.1 : 0.4;
    measureFp32(fp32, p, clockKHz, runs, computeS);
    summarise(fp32);
    if (p.major >= 7) {
      measureMma<__half>(fp16, p, clockKHz, runs, computeS, [](float x) { return __float2half(x); });
      summarise(fp16);
    }
    if (p.major >= 8) {
      measureMma<__nv_bfloat16>(bf16, p, clockKHz, runs, computeS, [](float x) { return __float2bfloat16(x); });
      summarise(bf16);
    }
    measureMemory(mem, p, memClockKHz, busWidth, o.quick, runs, memS);
    summarise(mem);
    measureTransfers(h2d, d2h, p, o.quick, runs, memS);
    summarise(h2d);
    summarise(d2h);
  } catch (const CudaFailure& f) {
    error = std::string(cudaGetErrorName(f.code)) + ": " + cudaGetErrorString(f.code) + " (in " + f.where + ")";
    fprintf(stderr, "offshift-bench: GPU %d: %s\n", index, error.c_str());
  }
  double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (head.empty()) head = "\"index\":" + std::to_string(index) + ",";
  return "{" + head + "\"figures\":{\"fp32\":" + figureJson(fp32, "TFLOP/s") + ",\"fp16\":" + figureJson(fp16, "TFLOP/s") +
         ",\"bf16\":" + figureJson(bf16, "TFLOP/s") + ",\"memoryBandwidth\":" + figureJson(mem, "GB/s") +
         ",\"hostToDevice\":" + figureJson(h2d, "GB/s") + ",\"deviceToHost\":" + figureJson(d2h, "GB/s") + "},\"durationS\":" + jsonNumber(duration) +
         ",\"error\":" + (error.empty() ? "null" : jsonString(error)) + "}";
}

static int usage(const char* why) {
  fprintf(stderr, "offshift-bench: %s\nusage: offshift-bench [--device INDEX] [--quick] [--runs N]\n", why);
  printf("{\"program\":\"offshift-bench\",\"version\":%d,\"error\":{\"code\":\"usage\",\"message\":%s},\"gpus\":[]}\n", kProgramVersion, jsonString(why).c_str());
  return 2;
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") o.quick = true;
    else if (a == "--device" && i + 1 < argc) o.device = atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) o.runs = std::max(1, std::min(50, atoi(argv[++i])));
    else return usage(("unknown argument " + a).c_str());
  }
  int runtimeVersion = 0, driverVersion = 0;
  cudaRuntimeGetVersion(&runtimeVersion);
  cudaDriverGetVersion(&driverVersion);
  std::string head = "{\"program\":\"offshift-bench\",\"version\":" + std::to_string(kProgramVersion) + ",\"mode\":" + (o.quick ? "\"quick\"" : "\"full\"") +
                     ",\"cudaRuntime\":" + std::to_string(runtimeVersion) + ",\"cudaDriver\":" + std::to_string(driverVersion) + ",";
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    const char* code = driverVersion == 0 ? "no-driver"
                       : err == cudaErrorInsufficientDriver ? "driver-too-old"
                       : err == cudaErrorNoDevice ? "no-device"
                                                  : "cuda-unavailable";
    std::string msg = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    printf("%s\"error\":{\"code\":\"%s\",\"message\":%s},\"gpus\":[]}\n", head.c_str(), code, jsonString(msg).c_str());
    return 3;
  }
  if (o.device >= count) return usage(("no GPU with index " + std::to_string(o.device)).c_str());
  std::string gpus;
  for (int i = 0; i < count; i++) {
    if (o.device >= 0 && i != o.device) continue;
    if (!gpus.empty()) gpus += ",";
    gpus += measureGpu(i, o);
    fflush(stderr);
  }
  printf("%s\"error\":null,\"gpus\":[%s]}\n", head.c_str(), gpus.c_str());
  return 0;
}
