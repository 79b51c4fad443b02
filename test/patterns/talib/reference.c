/*
 * Runs TA-Lib C's candlestick functions over series of bars, for tests and the patterns
 * benchmark. Built by test/patterns/talib.ts against the TA-Lib sources of the talib npm
 * package; never part of tickforge itself.
 *
 *   reference INPUT OUTPUT REPEATS NAME...
 *
 * INPUT: int32 series count S, int32 lengths[S], then float64 open[N], high[N], low[N],
 * close[N] with N = the sum of the lengths. OUTPUT: for each NAME in order, int32 values[N]:
 * TA-Lib's output for each bar of each series, 0 on the bars of its lookback. Each function is
 * then run REPEATS more times over all series; stdout gets one line per NAME, "NAME SECONDS",
 * the fastest of those runs in CPU time (a busy machine inflates wall time, not CPU time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ta_libc.h"

typedef TA_RetCode (*Candle)(int, int, const double *, const double *, const double *, const double *, int *, int *,
                             int *);

#define PENETRATING(NAME)                                                                                          \
  static TA_RetCode NAME##_DEFAULT(int s, int e, const double *o, const double *h, const double *l, const double *c, \
                                   int *b, int *n, int *out) {                                                      \
    return TA_##NAME(s, e, o, h, l, c, TA_REAL_DEFAULT, b, n, out);                                                 \
  }
PENETRATING(CDLDARKCLOUDCOVER)
PENETRATING(CDLEVENINGSTAR)
PENETRATING(CDLMORNINGSTAR)

static const struct {
  const char *name;
  Candle run;
} CANDLES[] = {
    {"cdl2crows", TA_CDL2CROWS},
    {"cdl3blackcrows", TA_CDL3BLACKCROWS},
    {"cdl3inside", TA_CDL3INSIDE},
    {"cdl3outside", TA_CDL3OUTSIDE},
    {"cdl3whitesoldiers", TA_CDL3WHITESOLDIERS},
    {"cdldarkcloudcover", CDLDARKCLOUDCOVER_DEFAULT},
    {"cdldoji", TA_CDLDOJI},
    {"cdldojistar", TA_CDLDOJISTAR},
    {"cdldragonflydoji", TA_CDLDRAGONFLYDOJI},
    {"cdlengulfing", TA_CDLENGULFING},
    {"cdleveningstar", CDLEVENINGSTAR_DEFAULT},
    {"cdlgravestonedoji", TA_CDLGRAVESTONEDOJI},
    {"cdlhammer", TA_CDLHAMMER},
    {"cdlhangingman", TA_CDLHANGINGMAN},
    {"cdlharami", TA_CDLHARAMI},
    {"cdlharamicross", TA_CDLHARAMICROSS},
    {"cdlinvertedhammer", TA_CDLINVERTEDHAMMER},
    {"cdlmarubozu", TA_CDLMARUBOZU},
    {"cdlmorningstar", CDLMORNINGSTAR_DEFAULT},
    {"cdlpiercing", TA_CDLPIERCING},
    {"cdlshootingstar", TA_CDLSHOOTINGSTAR},
    {"cdlspinningtop", TA_CDLSPINNINGTOP},
};

static void fail(const char *message, const char *detail) {
  fprintf(stderr, "talib reference: %s %s\n", message, detail);
  exit(1);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 5) fail("usage: reference INPUT OUTPUT REPEATS NAME...", "");
  FILE *in = fopen(argv[1], "rb");
  if (!in) fail("cannot read", argv[1]);
  int series;
  if (fread(&series, sizeof series, 1, in) != 1) fail("truncated input", argv[1]);
  int *lengths = malloc(sizeof(int) * series);
  if (fread(lengths, sizeof(int), series, in) != (size_t)series) fail("truncated input", argv[1]);
  long total = 0;
  for (int s = 0; s < series; s++) total += lengths[s];
  double *bars = malloc(sizeof(double) * 4 * total);
  if (fread(bars, sizeof(double), 4 * total, in) != (size_t)(4 * total)) fail("truncated input", argv[1]);
  fclose(in);
  const double *open = bars, *high = bars + total, *low = bars + 2 * total, *close = bars + 3 * total;
  int repeats = atoi(argv[3]);
  int *values = malloc(sizeof(int) * (total > 0 ? total : 1));
  int *scratch = malloc(sizeof(int) * (total > 0 ? total : 1));
  FILE *out = fopen(argv[2], "wb");
  if (!out) fail("cannot write", argv[2]);
  TA_Initialize();
  for (int a = 4; a < argc; a++) {
    Candle run = NULL;
    for (size_t k = 0; k < sizeof CANDLES / sizeof CANDLES[0]; k++)
      if (strcmp(CANDLES[k].name, argv[a]) == 0) run = CANDLES[k].run;
    if (!run) fail("unknown function", argv[a]);
    memset(values, 0, sizeof(int) * total);
    long offset = 0;
    for (int s = 0; s < series; s++) {
      int begin = 0, count = 0;
      if (lengths[s] > 0) {
        if (run(0, lengths[s] - 1, open + offset, high + offset, low + offset, close + offset, &begin, &count, scratch) !=
            TA_SUCCESS)
          fail("failed on", argv[a]);
        memcpy(values + offset + begin, scratch, sizeof(int) * count);
      }
      offset += lengths[s];
    }
    fwrite(values, sizeof(int), total, out);
    double best = -1;
    for (int r = 0; r < repeats; r++) {
      double started = now();
      offset = 0;
      for (int s = 0; s < series; s++) {
        int begin, count;
        if (lengths[s] > 0) run(0, lengths[s] - 1, open + offset, high + offset, low + offset, close + offset, &begin, &count, scratch);
        offset += lengths[s];
      }
      double seconds = now() - started;
      if (best < 0 || seconds < best) best = seconds;
    }
    printf("%s %.9f\n", argv[a], best);
  }
  fclose(out);
  TA_Shutdown();
  return 0;
}
