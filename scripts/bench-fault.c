// C side of `npm run bench -- fault` (scripts/bench-fault.mjs builds and runs it once per round):
// real anonymous page faults on this machine, will-it-scale page_fault1's shape on one thread.
// Each repetition mmaps a fresh MAP_PRIVATE|MAP_ANONYMOUS region, asks for no transparent huge
// pages on it (MADV_NOHUGEPAGE: every first touch is then one 4 KiB fault, not one 2 MiB fault per
// 512 pages), writes one byte per 4 KiB page (a write fault: a zeroed page is allocated and mapped,
// as the emulator's FAULT_FLAG_WRITE fault does), touches it all again (no fault: the loop's own
// cost and TLB misses), and munmaps it. ru_minflt counts the faults the kernel took, so the driver
// can check there was exactly one per page.
//
// usage: bench-fault PAGES REPS WARM -> one JSON object on stdout; the arrays have one entry per
// timed repetition (the WARM first ones are not timed).
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long minflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void print_array(const char *name, const double *xs, int n, int last) {
  printf("\"%s\":[", name);
  for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", xs[i]);
  printf("]%s", last ? "" : ",");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PAGES REPS WARM\n", argv[0]);
    return 2;
  }
  const long pages = atol(argv[1]);
  const int reps = atoi(argv[2]);
  const int warm = atoi(argv[3]);
  if (pages < 1 || reps < 1 || reps > 1000 || warm < 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  const size_t page = 4096;
  const size_t len = (size_t)pages * page;
  double *fault = calloc(reps, sizeof(double));
  double *flt = calloc(reps, sizeof(double));
  double *retouch = calloc(reps, sizeof(double));
  double *unmap = calloc(reps, sizeof(double));
  int nohuge_ok = 1;
  for (int r = -warm; r < reps; r++) {
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    if (madvise(p, len, MADV_NOHUGEPAGE) != 0) nohuge_ok = 0;
    volatile char *v = p;
    const long f0 = minflt();
    const double t0 = now_ns();
    for (size_t off = 0; off < len; off += page) v[off] = 1;
    const double t1 = now_ns();
    const long f1 = minflt();
    for (size_t off = 0; off < len; off += page) v[off] = 2;
    const double t2 = now_ns();
    if (munmap(p, len) != 0) {
      perror("munmap");
      return 1;
    }
    const double t3 = now_ns();
    if (r < 0) continue;
    fault[r] = (t1 - t0) / pages;
    flt[r] = (double)(f1 - f0) / pages;
    retouch[r] = (t2 - t1) / pages;
    unmap[r] = (t3 - t2) / pages;
  }
  printf("{\"pages\":%ld,\"reps\":%d,\"nohugepage\":%s,", pages, reps, nohuge_ok ? "true" : "false");
  print_array("ns_per_fault", fault, reps, 0);
  print_array("minflt_per_page", flt, reps, 0);
  print_array("retouch_ns_per_page", retouch, reps, 0);
  print_array("munmap_ns_per_page", unmap, reps, 1);
  printf("}\n");
  return 0;
}
