/*
 * Offshift's GPU demo job: the demo renderer's Mandelbrot zoom (resources/demo-job/render.c),
 * rendered by the GPU with CUDA, written as a PNG. The seed picks the same place, palette and
 * zoom as the CPU renderer's; the GPU draws a larger picture with many more samples a pixel.
 *
 * Built by resources/demo-gpu-job/build.mjs with nvcc and `-cudart static`, so it needs only the
 * NVIDIA driver (which the NVIDIA container runtime mounts into a job given a GPU) and the C
 * libraries the demo's image carries beside it (runtime/demo/gpu-image.ts).
 *
 *   render-cuda [--width N] [--height N] [--seed N] [--zoom X] [--seconds S] [--max-samples N]
 *               [--out FILE] [--cpu]
 *
 * The work is bounded by time: the GPU renders one sample a pixel per pass, passes are added
 * until `--seconds` (default 4) of GPU time are spent or every pixel has `--max-samples`² samples
 * (default 16² = 256), at least one pass. A pass's sample positions follow a low-discrepancy
 * sequence, so a picture stopped early is evenly smoothed. Progress goes to stdout ("rendered
 * 40%", of the time budget or of the passes, whichever is nearer its end), the GPU's name and
 * what it did at the end. Beside the PNG, FILE with `.json` for `.png`: the GPU, the samples,
 * the iterations and the seconds.
 *
 * `--cpu` renders with the same code on the CPU (one core) instead, and says so: a check of the
 * program where no GPU is (the tests), never what the demo buyer asks for.
 *
 * Exit codes: 0 written; 1 the file cannot be written; 2 bad arguments; 3 CUDA is not usable (no
 * driver, a driver too old for CUDA 13, no GPU given, a GPU older than Turing), with the reason on
 * stderr.
 */
#include <cuda_runtime.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define MAX_SIDE 4096
#define MAX_SAMPLE_SIDE 32

struct Options {
  long width = 1280, height = 960, seed = 1, maxSamples = 16;
  double zoom = 0; /* 0: picked from the seed */
  double seconds = 4;
  const char *out = "/output/render-gpu.png";
  bool cpu = false;
};

/* The same places as the CPU renderer's, in the same order (the seed picks one). */
static const double PLACES[][2] = {
    {-0.743643887037151, 0.131825904205330}, {0.2822, 0.0105},    {-0.77568377, 0.13646737}, {0.360240443437614, -0.641313061064803},
    {-1.25066, 0.02012},                     {-0.7453, 0.1127},   {-0.16070135, 1.0375665},  {-0.1011, 0.9563},
};
#define N_PLACES (sizeof PLACES / sizeof PLACES[0])

static void usage(const char *why) {
  fprintf(stderr,
          "render-cuda: %s\n"
          "usage: render-cuda [--width 16..%d] [--height 16..%d] [--seed N>=0] [--zoom X>=1] [--seconds 0.1..60] "
          "[--max-samples 1..%d] [--out FILE] [--cpu]\n",
          why, MAX_SIDE, MAX_SIDE, MAX_SAMPLE_SIDE);
  exit(2);
}

static long parseLong(const char *name, const char *text, long lo, long hi) {
  char *end = nullptr;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < lo || v > hi) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s must be a whole number from %ld to %ld (got \"%.40s\")", name, lo, hi, text);
    usage(msg);
  }
  return v;
}

static double parseDouble(const char *name, const char *text, double lo, double hi) {
  char *end = nullptr;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s must be a number from %g to %g (got \"%.40s\")", name, lo, hi, text);
    usage(msg);
  }
  return v;
}

static void parse(Options &o, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("render-cuda [--width N] [--height N] [--seed N] [--zoom X] [--seconds S] [--max-samples N] [--out FILE] [--cpu]\n");
      exit(0);
    }
    if (!strcmp(a, "--cpu")) {
      o.cpu = true;
      continue;
    }
    static const char *const NAMES[] = {"--width", "--height", "--seed", "--zoom", "--seconds", "--max-samples", "--out"};
    int k = -1;
    for (int n = 0; n < 7; n++)
      if (!strcmp(a, NAMES[n])) k = n;
    if (k < 0) {
      char msg[128];
      snprintf(msg, sizeof msg, "unknown argument \"%.40s\"", a);
      usage(msg);
    }
    if (i + 1 >= argc) {
      char msg[64];
      snprintf(msg, sizeof msg, "%s needs a value", a);
      usage(msg);
    }
    const char *v = argv[++i];
    switch (k) {
      case 0: o.width = parseLong(a, v, 16, MAX_SIDE); break;
      case 1: o.height = parseLong(a, v, 16, MAX_SIDE); break;
      case 2: o.seed = parseLong(a, v, 0, 1000000000L); break;
      case 3: o.zoom = parseDouble(a, v, 1, 1e9); break;
      case 4: o.seconds = parseDouble(a, v, 0.1, 60); break;
      case 5: o.maxSamples = parseLong(a, v, 1, MAX_SAMPLE_SIDE); break;
      default:
        if (!*v) usage("--out needs a file name");
        o.out = v;
    }
  }
}

/* ── the seed's choices: the CPU renderer's generator (splitmix64) ─────── */

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static double unit(uint64_t *s) { return (double)(mix(s) >> 11) / 9007199254740992.0; }

struct View {
  double cx0, cy0, pix;
  int maxIter;
  double phase[3];
  double stretch;
};

/* One sample at c: its colour (a cosine palette, as the CPU renderer's) added into acc; returns the iterations. */
__host__ __device__ static unsigned sample(const View &v, double cr, double ci, float acc[3]) {
  double q = (cr - 0.25) * (cr - 0.25) + ci * ci;
  if (q * (q + (cr - 0.25)) <= 0.25 * ci * ci || (cr + 1) * (cr + 1) + ci * ci <= 0.0625) return 1;
  double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
  int n = 0;
  while (n < v.maxIter && zr2 + zi2 <= 256.0) {
    zi = 2 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
    zr2 = zr * zr;
    zi2 = zi * zi;
    n++;
  }
  if (n >= v.maxIter) return (unsigned)n;
  double mu = n + 1 - log2(log(zr2 + zi2) / 2 / log(2.0));
  if (mu < 0) mu = 0;
  double t = sqrt(mu) * v.stretch;
  double fade = mu < 6 ? mu / 6 : 1;
  for (int k = 0; k < 3; k++) acc[k] += (float)((0.5 + 0.5 * cos(6.283185307179586 * (t + v.phase[k]))) * fade);
  return (unsigned)n;
}

/* Where pass p samples inside a pixel: the R2 low-discrepancy sequence. */
__host__ __device__ static void offset(long p, double *ox, double *oy) {
  double x = 0.5 + 0.7548776662466927 * (double)p, y = 0.5 + 0.5698402909980532 * (double)p;
  *ox = x - floor(x);
  *oy = y - floor(y);
}

/* One pass: one more sample for every pixel, added into acc (RGB floats); iterations summed into total. */
__global__ void renderPass(View v, long width, long height, long pass, float *acc, unsigned long long *total) {
  long x = (long)blockIdx.x * blockDim.x + threadIdx.x;
  long y = (long)blockIdx.y * blockDim.y + threadIdx.y;
  unsigned iterations = 0;
  if (x < width && y < height) {
    double ox, oy;
    offset(pass, &ox, &oy);
    float *px = acc + (y * width + x) * 3;
    float c[3] = {px[0], px[1], px[2]};
    iterations = sample(v, v.cx0 + ((double)x + ox) * v.pix, v.cy0 - ((double)y + oy) * v.pix, c);
    px[0] = c[0], px[1] = c[1], px[2] = c[2];
  }
  /* One atomic a warp. */
  unsigned long long sum = iterations;
  for (int d = 16; d > 0; d /= 2) sum += __shfl_down_sync(0xffffffffu, sum, d);
  if ((threadIdx.y * blockDim.x + threadIdx.x) % 32 == 0) atomicAdd(total, sum);
}

/* ── PNG: IHDR + one IDAT of zlib stored blocks + IEND, as the CPU renderer writes it ─────── */

static uint32_t crcTable[256];
static void crcInit() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crcTable[n] = c;
  }
}
static uint32_t crcUpdate(uint32_t crc, const unsigned char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) crc = crcTable[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
  return crc;
}
static int put32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}
static int chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len) {
  uint32_t crc = crcUpdate(0xFFFFFFFFu, (const unsigned char *)type, 4);
  crc = crcUpdate(crc, data, len) ^ 0xFFFFFFFFu;
  if (put32(f, len) || fwrite(type, 1, 4, f) != 4) return -1;
  if (len && fwrite(data, 1, len, f) != len) return -1;
  return put32(f, crc);
}
static int writePng(FILE *f, long w, long h, const unsigned char *raw, size_t rawlen) {
  size_t blocks = rawlen / 65535 + 1;
  unsigned char *z = (unsigned char *)malloc(2 + rawlen + blocks * 5 + 4);
  if (!z) return -1;
  size_t o = 0;
  z[o++] = 0x78;
  z[o++] = 0x01;
  uint32_t s1 = 1, s2 = 0;
  for (size_t pos = 0; pos < rawlen || pos == 0;) {
    size_t n = rawlen - pos > 65535 ? 65535 : rawlen - pos;
    int last = pos + n >= rawlen;
    z[o++] = (unsigned char)last;
    z[o++] = (unsigned char)(n & 0xff);
    z[o++] = (unsigned char)(n >> 8);
    z[o++] = (unsigned char)(~n & 0xff);
    z[o++] = (unsigned char)((~n >> 8) & 0xff);
    memcpy(z + o, raw + pos, n);
    for (size_t i = 0; i < n; i++) {
      s1 = (s1 + raw[pos + i]) % 65521;
      s2 = (s2 + s1) % 65521;
    }
    o += n;
    pos += n;
    if (last) break;
  }
  uint32_t adler = (s2 << 16) | s1;
  z[o++] = (unsigned char)(adler >> 24);
  z[o++] = (unsigned char)(adler >> 16);
  z[o++] = (unsigned char)(adler >> 8);
  z[o++] = (unsigned char)adler;
  static const unsigned char SIG[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  unsigned char ihdr[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w,
                            (unsigned char)(h >> 24), (unsigned char)(h >> 16), (unsigned char)(h >> 8), (unsigned char)h,
                            8, 2, 0, 0, 0};
  int bad = fwrite(SIG, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) || chunk(f, "IDAT", z, (uint32_t)o) || chunk(f, "IEND", nullptr, 0);
  bad |= fclose(f) != 0;
  free(z);
  return bad ? -1 : 0;
}

/* ── CUDA's failures, said so a person can act ─────────────────────────── */

static void cudaUnusable(const char *where, cudaError_t err) {
  const char *why;
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (driver == 0) {
    fprintf(stderr,
            "render-cuda: no NVIDIA driver is reachable: the job was not given a GPU (docker run --gpus, the NVIDIA container runtime), or the "
            "driver is not loaded (%s: %s)\n",
            where, cudaGetErrorName(err));
    exit(3);
  }
  switch (err) {
    case cudaErrorInsufficientDriver:
      why = "the NVIDIA driver is too old for this program, which is built for CUDA 13: it needs driver 580 or newer";
      break;
    case cudaErrorNoDevice:
      why = "no CUDA GPU is visible: the job was not given a GPU (docker run --gpus, the NVIDIA container runtime)";
      break;
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      why = "this GPU is older than the program supports (CUDA 13: Turing, compute capability 7.5, or newer)";
      break;
    default:
      why = "CUDA is not usable";
  }
  fprintf(stderr, "render-cuda: %s (%s: %s, %s)\n", why, where, cudaGetErrorName(err), cudaGetErrorString(err));
  exit(3);
}
#define CK(call)                                        \
  do {                                                  \
    cudaError_t err__ = (call);                         \
    if (err__ != cudaSuccess) cudaUnusable(#call, err__); \
  } while (0)

static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Options o;
  parse(o, argc, argv);

  uint64_t rng = (uint64_t)o.seed * 0x2545F4914F6CDD1DULL + 7;
  const double *place = PLACES[o.seed % N_PLACES];
  double zoom = o.zoom > 0 ? o.zoom : 40.0 * pow(2.0, 1.0 + 5.0 * unit(&rng));
  View v;
  for (int k = 0; k < 3; k++) v.phase[k] = unit(&rng);
  v.stretch = 0.22 + 0.2 * unit(&rng);
  v.maxIter = (int)(300.0 + 220.0 * log2(zoom));
  double viewW = 3.2 / zoom;
  v.pix = viewW / (double)o.width;
  v.cx0 = place[0] - viewW / 2;
  v.cy0 = place[1] + v.pix * (double)o.height / 2;
  long maxPasses = o.maxSamples * o.maxSamples;
  size_t pixels = (size_t)o.width * (size_t)o.height;

  char device[256] = "the CPU (--cpu: one core, a check of the program, not the GPU)";
  if (!o.cpu) {
    int count = 0;
    CK(cudaGetDeviceCount(&count));
    if (count < 1) cudaUnusable("cudaGetDeviceCount", cudaErrorNoDevice);
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    CK(cudaSetDevice(0));
    snprintf(device, sizeof device, "%s (compute capability %d.%d, %d SMs, %.1f GiB)", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
  }
  printf("render-cuda: %ldx%ld, seed %ld, zoom %.0fx at (%.10f, %.10f), %d iterations at most, up to %ld samples a pixel or %.1f s, on %s -> %s\n",
         o.width, o.height, o.seed, zoom, place[0], place[1], v.maxIter, maxPasses, o.seconds, device, o.out);

  /* Opened first, so a folder that cannot be written is said at once, not after the work. */
  FILE *out = fopen(o.out, "wb");
  if (!out) {
    fprintf(stderr, "render-cuda: cannot write %s: %s\n", o.out, strerror(errno));
    return 1;
  }
  float *acc = (float *)calloc(pixels * 3, sizeof(float));
  size_t stride = (size_t)o.width * 3 + 1;
  unsigned char *raw = (unsigned char *)malloc(stride * (size_t)o.height);
  if (!acc || !raw) {
    fprintf(stderr, "render-cuda: out of memory for a %ldx%ld picture\n", o.width, o.height);
    return 1;
  }

  double started = now();
  long passes = 0;
  unsigned long long iterations = 0;
  int nextReport = 10;
  float *dAcc = nullptr;
  unsigned long long *dTotal = nullptr;
  if (!o.cpu) {
    CK(cudaMalloc(&dAcc, pixels * 3 * sizeof(float)));
    CK(cudaMemset(dAcc, 0, pixels * 3 * sizeof(float)));
    CK(cudaMalloc(&dTotal, sizeof *dTotal));
    CK(cudaMemset(dTotal, 0, sizeof *dTotal));
  }
  const dim3 block(16, 16);
  const dim3 grid((unsigned)((o.width + 15) / 16), (unsigned)((o.height + 15) / 16));
  while (passes < maxPasses) {
    if (o.cpu) {
      double ox, oy;
      offset(passes, &ox, &oy);
      for (long y = 0; y < o.height; y++)
        for (long x = 0; x < o.width; x++)
          iterations += sample(v, v.cx0 + ((double)x + ox) * v.pix, v.cy0 - ((double)y + oy) * v.pix, acc + ((size_t)y * o.width + x) * 3);
    } else {
      renderPass<<<grid, block>>>(v, o.width, o.height, passes, dAcc, dTotal);
      CK(cudaGetLastError());
      CK(cudaDeviceSynchronize());
    }
    passes++;
    double elapsed = now() - started;
    double share = elapsed / o.seconds > (double)passes / (double)maxPasses ? elapsed / o.seconds : (double)passes / (double)maxPasses;
    int done = share >= 1 ? 100 : (int)(share * 100);
    while (done >= nextReport && nextReport <= 100) {
      printf("rendered %d%%\n", nextReport);
      nextReport += 10;
    }
    if (elapsed >= o.seconds) break;
  }
  while (nextReport <= 100) {
    printf("rendered %d%%\n", nextReport);
    nextReport += 10;
  }
  if (!o.cpu) {
    CK(cudaMemcpy(acc, dAcc, pixels * 3 * sizeof(float), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(&iterations, dTotal, sizeof iterations, cudaMemcpyDeviceToHost));
    cudaFree(dAcc);
    cudaFree(dTotal);
  }
  double seconds = now() - started;

  for (long y = 0; y < o.height; y++) {
    unsigned char *row = raw + stride * (size_t)y;
    row[0] = 0;
    for (long x = 0; x < o.width; x++)
      for (int k = 0; k < 3; k++) {
        double c = acc[((size_t)y * o.width + x) * 3 + k] / (double)passes;
        c = c < 0 ? 0 : c > 1 ? 1 : c;
        row[1 + x * 3 + k] = (unsigned char)(sqrt(c) * 255.0 + 0.5);
      }
  }
  crcInit();
  if (writePng(out, o.width, o.height, raw, stride * (size_t)o.height) != 0) {
    fprintf(stderr, "render-cuda: cannot write %s: %s\n", o.out, strerror(errno));
    return 1;
  }

  /* The record beside the picture: FILE.json for FILE.png (FILE + ".json" otherwise). */
  char record[4096];
  size_t len = strlen(o.out);
  if (len >= 4 && !strcmp(o.out + len - 4, ".png") && len < sizeof record - 1) {
    memcpy(record, o.out, len - 4);
    strcpy(record + len - 4, ".json");
  } else {
    snprintf(record, sizeof record, "%s.json", o.out);
  }
  FILE *rec = fopen(record, "w");
  if (rec) {
    char name[256];
    size_t n = 0;
    for (const char *c = device; *c && n < sizeof name - 2; c++)
      if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20) name[n++] = *c;
    name[n] = '\0';
    fprintf(rec,
            "{\"program\":\"render-cuda\",\"device\":\"%s\",\"onGpu\":%s,\"width\":%ld,\"height\":%ld,\"seed\":%ld,\"zoom\":%.6g,"
            "\"samplesPerPixel\":%ld,\"iterations\":%llu,\"seconds\":%.3f}\n",
            name, o.cpu ? "false" : "true", o.width, o.height, o.seed, zoom, passes, iterations, seconds);
    if (fclose(rec) != 0) fprintf(stderr, "render-cuda: cannot write %s: %s\n", record, strerror(errno));
  }
  printf("render-cuda: wrote %s (%ldx%ld, %ld samples a pixel) after %.2e iterations in %.2f s (%.2f billion a second) on %s\n", o.out, o.width,
         o.height, passes, (double)iterations, seconds, (double)iterations / seconds / 1e9, device);
  return 0;
}
