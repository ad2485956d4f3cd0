/*
 * Offshift's demo job: renders a coloured zoom into the Mandelbrot set and writes it as a PNG.
 *
 * Plain C99 and libc only (built with `cc -O2 -static`, so the image holds this one file). The
 * PNG is written by hand: IHDR + one IDAT of zlib "stored" blocks (no compression) + IEND, with
 * CRC-32 per chunk and Adler-32 over the image data.
 *
 *   render [--width N] [--height N] [--seed N] [--zoom X] [--samples N] [--out FILE]
 *
 * Each option may also come from the environment (RENDER_WIDTH, RENDER_HEIGHT, RENDER_SEED,
 * RENDER_ZOOM, RENDER_SAMPLES, RENDER_OUT); the command line wins. The seed picks the place,
 * the palette and the zoom when none is given, so every demo job draws a different picture.
 * Progress goes to stdout every 10% ("rendered 40%"). Bad arguments: a message on stderr, exit 2.
 * Exit 1 when the file cannot be written.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIDE 4096
#define MAX_SAMPLES 8
/* The work a picture is given when --samples is not, in iterations (all samples together; a
   sample's colouring costs about SAMPLE_COST of them): about 7 s on one core of a 2020s PC. */
#define BUDGET_ITERATIONS 3.0e9
#define SAMPLE_COST 30.0

struct options {
  long width, height, seed, samples;
  double zoom; /* 0: picked from the seed */
  const char *out;
};

/* Places worth looking at (centre of the view). */
static const double PLACES[][2] = {
    {-0.743643887037151, 0.131825904205330},  /* seahorse valley */
    {0.2822, 0.0105},                          /* elephant valley */
    {-0.77568377, 0.13646737},                 /* spirals */
    {0.360240443437614, -0.641313061064803},   /* a spiral */
    {-1.25066, 0.02012},                       /* the needle's buds */
    {-0.7453, 0.1127},                         /* seahorse tails */
    {-0.16070135, 1.0375665},                  /* the top antenna */
    {-0.1011, 0.9563},                         /* dendrites */
};
#define N_PLACES (sizeof PLACES / sizeof PLACES[0])

static void usage(const char *why) {
  fprintf(stderr,
          "render: %s\n"
          "usage: render [--width 16..%d] [--height 16..%d] [--seed N>=0] [--zoom X>=1] [--samples 1..%d] [--out FILE]\n",
          why, MAX_SIDE, MAX_SIDE, MAX_SAMPLES);
  exit(2);
}

static long parse_long(const char *name, const char *text, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < lo || v > hi) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s must be a whole number from %ld to %ld (got \"%.40s\")", name, lo, hi, text);
    usage(msg);
  }
  return v;
}

static double parse_double(const char *name, const char *text, double lo, double hi) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s must be a number from %g to %g (got \"%.40s\")", name, lo, hi, text);
    usage(msg);
  }
  return v;
}

static void set_option(struct options *o, const char *name, const char *value) {
  if (!strcmp(name, "width")) o->width = parse_long("--width", value, 16, MAX_SIDE);
  else if (!strcmp(name, "height")) o->height = parse_long("--height", value, 16, MAX_SIDE);
  else if (!strcmp(name, "seed")) o->seed = parse_long("--seed", value, 0, 1000000000L);
  else if (!strcmp(name, "zoom")) o->zoom = parse_double("--zoom", value, 1, 1e9);
  else if (!strcmp(name, "samples")) o->samples = parse_long("--samples", value, 1, MAX_SAMPLES);
  else if (!strcmp(name, "out")) {
    if (!*value) usage("--out needs a file name");
    o->out = value;
  } else {
    char msg[128];
    snprintf(msg, sizeof msg, "unknown option --%.40s", name);
    usage(msg);
  }
}

static const char *const NAMES[] = {"width", "height", "seed", "zoom", "samples", "out"};

static void parse(struct options *o, int argc, char **argv) {
  static const char *const ENVS[] = {"RENDER_WIDTH", "RENDER_HEIGHT", "RENDER_SEED", "RENDER_ZOOM", "RENDER_SAMPLES", "RENDER_OUT"};
  for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
    const char *v = getenv(ENVS[i]);
    if (v && *v) set_option(o, NAMES[i], v);
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("render [--width N] [--height N] [--seed N] [--zoom X] [--samples N] [--out FILE]\n");
      exit(0);
    }
    if (strncmp(a, "--", 2) != 0) {
      char msg[128];
      snprintf(msg, sizeof msg, "unexpected argument \"%.40s\"", a);
      usage(msg);
    }
    const char *eq = strchr(a, '=');
    char name[32];
    const char *value;
    if (eq) {
      size_t n = (size_t)(eq - a - 2);
      if (n >= sizeof name) usage("option name too long");
      memcpy(name, a + 2, n);
      name[n] = '\0';
      value = eq + 1;
    } else {
      if (strlen(a + 2) >= sizeof name) usage("option name too long");
      strcpy(name, a + 2);
      int known = 0;
      for (size_t k = 0; k < sizeof NAMES / sizeof NAMES[0]; k++) known |= !strcmp(NAMES[k], name);
      if (!known) set_option(o, name, ""); /* says "unknown option" */
      if (i + 1 >= argc) {
        char msg[64];
        snprintf(msg, sizeof msg, "--%.30s needs a value", name);
        usage(msg);
      }
      value = argv[++i];
    }
    set_option(o, name, value);
  }
}

/* ── colour ───────────────────────────────────────────────────────────── */

/* A small deterministic generator (splitmix64) for the seed's choices. */
static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static double unit(uint64_t *s) { return (double)(mix(s) >> 11) / 9007199254740992.0; }

struct palette {
  double a[3], b[3], c[3], d[3];
  double stretch;
};

/* A cosine palette (a + b·cos(2π(c·t + d))): smooth, and the seed shifts its phase. */
static void colour(const struct palette *p, double t, double rgb[3]) {
  for (int k = 0; k < 3; k++) rgb[k] = p->a[k] + p->b[k] * cos(6.283185307179586 * (p->c[k] * t + p->d[k]));
}

/* ── PNG ──────────────────────────────────────────────────────────────── */

static uint32_t crc_table[256];
static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}
static uint32_t crc_update(uint32_t crc, const unsigned char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

static int put32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static int chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len) {
  uint32_t crc = crc_update(0xFFFFFFFFu, (const unsigned char *)type, 4);
  crc = crc_update(crc, data, len) ^ 0xFFFFFFFFu;
  if (put32(f, len) || fwrite(type, 1, 4, f) != 4) return -1;
  if (len && fwrite(data, 1, len, f) != len) return -1;
  return put32(f, crc);
}

/* `raw` is the filtered scanlines (a 0 filter byte before each row). */
static int write_png(FILE *f, long w, long h, const unsigned char *raw, size_t rawlen) {
  size_t blocks = rawlen / 65535 + 1;
  size_t zlen = 2 + rawlen + blocks * 5 + 4;
  unsigned char *z = malloc(zlen);
  if (!z) return -1;
  size_t o = 0;
  z[o++] = 0x78; /* deflate, 32 KiB window */
  z[o++] = 0x01; /* no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
  uint32_t s1 = 1, s2 = 0;
  for (size_t pos = 0; pos < rawlen || pos == 0;) {
    size_t n = rawlen - pos > 65535 ? 65535 : rawlen - pos;
    int last = pos + n >= rawlen;
    z[o++] = (unsigned char)last; /* BFINAL, BTYPE 00 (stored) */
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
  unsigned char ihdr[13];
  ihdr[0] = (unsigned char)(w >> 24), ihdr[1] = (unsigned char)(w >> 16), ihdr[2] = (unsigned char)(w >> 8), ihdr[3] = (unsigned char)w;
  ihdr[4] = (unsigned char)(h >> 24), ihdr[5] = (unsigned char)(h >> 16), ihdr[6] = (unsigned char)(h >> 8), ihdr[7] = (unsigned char)h;
  ihdr[8] = 8;  /* bit depth */
  ihdr[9] = 2;  /* truecolour RGB */
  ihdr[10] = 0; /* deflate */
  ihdr[11] = 0; /* adaptive filtering (we use filter 0 on every row) */
  ihdr[12] = 0; /* no interlace */
  int bad = fwrite(SIG, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) || chunk(f, "IDAT", z, (uint32_t)o) || chunk(f, "IEND", NULL, 0);
  bad |= fclose(f) != 0;
  free(z);
  return bad ? -1 : 0;
}

/* ── the picture ──────────────────────────────────────────────────────── */

struct view {
  double cx0, cy0, pix;
  int max_iter;
  struct palette pal;
};

/* One sample at c: its colour added into acc; returns the iterations it took. */
static long sample(const struct view *v, double cr, double ci, double acc[3]) {
  /* Inside the main cardioid or the period-2 bulb: black, without iterating. */
  double q = (cr - 0.25) * (cr - 0.25) + ci * ci;
  if (q * (q + (cr - 0.25)) <= 0.25 * ci * ci || (cr + 1) * (cr + 1) + ci * ci <= 0.0625) return 1;
  double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
  int n = 0;
  while (n < v->max_iter && zr2 + zi2 <= 256.0) {
    zi = 2 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
    zr2 = zr * zr;
    zi2 = zi * zi;
    n++;
  }
  if (n >= v->max_iter) return n; /* inside: black */
  double mu = n + 1 - log2(log(zr2 + zi2) / 2 / log(2.0));
  if (mu < 0) mu = 0;
  double rgb[3];
  colour(&v->pal, sqrt(mu) * v->pal.stretch, rgb);
  /* Fade the first bands into the dark so the set's outline glows. */
  double fade = mu < 6 ? mu / 6 : 1;
  for (int k = 0; k < 3; k++) acc[k] += rgb[k] * fade;
  return n;
}

/* Mean iterations a sample costs, from a coarse pass over the view. */
static double estimate(const struct view *v, long w, long h) {
  long step = 8, count = 0;
  double total = 0, acc[3];
  for (long y = step / 2; y < h; y += step)
    for (long x = step / 2; x < w; x += step) {
      total += (double)sample(v, v->cx0 + (double)x * v->pix, v->cy0 - (double)y * v->pix, acc);
      count++;
    }
  return count ? total / (double)count : 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct options o = {.width = 800, .height = 600, .seed = 1, .samples = 0, .zoom = 0, .out = "/output/render.png"};
  parse(&o, argc, argv);

  uint64_t rng = (uint64_t)o.seed * 0x2545F4914F6CDD1DULL + 7;
  const double *place = PLACES[o.seed % N_PLACES];
  double zoom = o.zoom > 0 ? o.zoom : 40.0 * pow(2.0, 1.0 + 5.0 * unit(&rng)); /* 80x to 2560x */
  struct view v;
  for (int k = 0; k < 3; k++) {
    v.pal.a[k] = 0.5;
    v.pal.b[k] = 0.5;
    v.pal.c[k] = 1.0;
    v.pal.d[k] = unit(&rng);
  }
  v.pal.stretch = 0.22 + 0.2 * unit(&rng);
  /* More detail wants more iterations the deeper the zoom. */
  v.max_iter = (int)(300.0 + 220.0 * log2(zoom));
  double view_w = 3.2 / zoom;
  v.pix = view_w / (double)o.width;
  v.cx0 = place[0] - view_w / 2;
  v.cy0 = place[1] + v.pix * (double)o.height / 2;

  /* Samples a pixel: as many as a fixed amount of work allows, so each demo job takes about as
     long as the next whatever the view. */
  double per_sample = estimate(&v, o.width, o.height);
  long samples = o.samples;
  if (!samples) {
    samples = (long)floor(sqrt(BUDGET_ITERATIONS / ((double)o.width * (double)o.height * (per_sample + SAMPLE_COST))));
    if (samples < 1) samples = 1;
    if (samples > MAX_SAMPLES) samples = MAX_SAMPLES;
  }

  printf("render: %ldx%ld, seed %ld, zoom %.0fx at (%.10f, %.10f), %d iterations at most, %ldx%ld samples a pixel -> %s\n", o.width, o.height,
         o.seed, zoom, place[0], place[1], v.max_iter, samples, samples, o.out);
  clock_t started = clock();
  /* Opened first, so a folder that cannot be written is said at once, not after the work. */
  FILE *out = fopen(o.out, "wb");
  if (!out) {
    fprintf(stderr, "render: cannot write %s: %s\n", o.out, strerror(errno));
    return 1;
  }

  size_t stride = (size_t)o.width * 3 + 1;
  size_t rawlen = stride * (size_t)o.height;
  unsigned char *raw = malloc(rawlen);
  if (!raw) {
    fprintf(stderr, "render: out of memory for a %ldx%ld picture\n", o.width, o.height);
    return 1;
  }
  int next_report = 10;
  double inv = 1.0 / (double)samples;
  double iterations = 0;
  for (long y = 0; y < o.height; y++) {
    unsigned char *row = raw + stride * (size_t)y;
    row[0] = 0; /* filter: none */
    for (long x = 0; x < o.width; x++) {
      double acc[3] = {0, 0, 0};
      for (long sy = 0; sy < samples; sy++)
        for (long sx = 0; sx < samples; sx++)
          iterations += (double)sample(&v, v.cx0 + ((double)x + ((double)sx + 0.5) * inv) * v.pix, v.cy0 - ((double)y + ((double)sy + 0.5) * inv) * v.pix, acc);
      for (int k = 0; k < 3; k++) {
        double c = acc[k] * inv * inv;
        c = c < 0 ? 0 : c > 1 ? 1 : c;
        row[1 + x * 3 + k] = (unsigned char)(sqrt(c) * 255.0 + 0.5);
      }
    }
    int done = (int)(((y + 1) * 100) / o.height);
    while (done >= next_report && next_report <= 100) {
      printf("rendered %d%%\n", next_report);
      next_report += 10;
    }
  }

  crc_init();
  if (write_png(out, o.width, o.height, raw, rawlen) != 0) {
    fprintf(stderr, "render: cannot write %s: %s\n", o.out, strerror(errno));
    free(raw);
    return 1;
  }
  free(raw);
  printf("render: wrote %s (%ldx%ld) after %.2e iterations in %.1f s of CPU\n", o.out, o.width, o.height, iterations,
         (double)(clock() - started) / CLOCKS_PER_SEC);
  return 0;
}
