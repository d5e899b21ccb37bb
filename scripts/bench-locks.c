// C side of `npm run bench -- locks` (scripts/bench-locks.mjs builds and runs it once per round).
// The lock algorithms are mmrace's (src/kernel/locking/*.ts) with every JS `Atomics.*` call of
// the lock itself mirrored by one seq_cst __atomic builtin, and `Atomics.wait/notify` by
// futex(FUTEX_WAIT/WAKE_PRIVATE). The emulator's preemption-point checks (runner.point) are not
// part of the kernel algorithm and are not mirrored: the driver counts them separately.
// Lock functions are out of line (noinline), like the kernel's down_read() and spin_lock().
//
// usage: bench-locks ITERS CITERS MAXREPS WANT -> one JSON object on stdout, ns per op (lock+unlock
// pair); the contended figures are arrays, one entry per repetition.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SC __ATOMIC_SEQ_CST
#define NOINLINE __attribute__((noinline))

static double thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void cpu_relax(void) { __builtin_ia32_pause(); }

static long futex(int32_t *addr, int op, int32_t val) {
  return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

// ---- rw_semaphore: kernel/locking/rwsem.c count word (BITS_PER_LONG = 32), as in rwsem.ts ----
#define RWSEM_WRITER_LOCKED (1 << 0)
#define RWSEM_FLAG_WAITERS (1 << 1)
#define RWSEM_FLAG_HANDOFF (1 << 2)
#define RWSEM_FLAG_READFAIL (1u << 31)
#define RWSEM_READER_BIAS (1 << 8)
#define RWSEM_READER_MASK (~(RWSEM_READER_BIAS - 1))
#define RWSEM_LOCK_MASK (RWSEM_WRITER_LOCKED | RWSEM_READER_MASK)
#define RWSEM_READ_FAILED_MASK \
  (RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF | (int32_t)RWSEM_FLAG_READFAIL)
#define RWSEM_READER_OWNED 1
#define RWSEM_NONSPINNABLE 2
#define SPIN_BEFORE_SLEEP 100

struct rwsem {
  int32_t count;
  int32_t owner;
} __attribute__((aligned(64)));

static long slow_paths, futex_waits;

// down_read: Atomics.add(count, BIAS); rwsem_set_reader_owned: Atomics.load(owner) + Atomics.store(owner)
NOINLINE static void c_down_read(struct rwsem *s, int32_t me) {
  int32_t c = __atomic_add_fetch(&s->count, RWSEM_READER_BIAS, SC);
  if (c & RWSEM_READ_FAILED_MASK) {
    fprintf(stderr, "c_down_read: slow path not expected here\n");
    abort();
  }
  int32_t keep = __atomic_load_n(&s->owner, SC) & RWSEM_NONSPINNABLE;
  __atomic_store_n(&s->owner, me | keep | RWSEM_READER_OWNED, SC);
}

// up_read: Atomics.sub(count, BIAS), wake only if waiters and no holder
NOINLINE static void c_up_read(struct rwsem *s) {
  int32_t c = __atomic_sub_fetch(&s->count, RWSEM_READER_BIAS, SC);
  if ((c & (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS)) == RWSEM_FLAG_WAITERS)
    futex(&s->count, FUTEX_WAKE_PRIVATE, 1);
}

// The write slow path here is not the kernel's wait list: spin briefly, then set the waiters bit
// and futex-wait on the count word (Drepper's mutex3 with the rwsem bits). A task that acquires
// after sleeping keeps WAITERS set, so the next up_write wakes any other sleeper.
static void c_down_write_slow(struct rwsem *s, int32_t me) {
  __atomic_fetch_add(&slow_paths, 1, __ATOMIC_RELAXED);
  for (int spin = 0; spin < SPIN_BEFORE_SLEEP; spin++) {
    int32_t c = __atomic_load_n(&s->count, SC);
    if (!(c & RWSEM_LOCK_MASK) &&
        __atomic_compare_exchange_n(&s->count, &c, c | RWSEM_WRITER_LOCKED, 0, SC, SC))
      goto owned;
    cpu_relax();
  }
  for (;;) {
    int32_t c = __atomic_load_n(&s->count, SC);
    if (!(c & RWSEM_LOCK_MASK)) {
      if (__atomic_compare_exchange_n(&s->count, &c, c | RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS, 0, SC,
                                      SC))
        goto owned;
      continue;
    }
    if (!(c & RWSEM_FLAG_WAITERS)) {
      if (!__atomic_compare_exchange_n(&s->count, &c, c | RWSEM_FLAG_WAITERS, 0, SC, SC)) continue;
      c |= RWSEM_FLAG_WAITERS;
    }
    __atomic_fetch_add(&futex_waits, 1, __ATOMIC_RELAXED);
    futex(&s->count, FUTEX_WAIT_PRIVATE, c);
  }
owned:
  __atomic_store_n(&s->owner, me, SC);
}

// down_write: Atomics.compareExchange(count, 0, WRITER_LOCKED); rwsem_set_owner: Atomics.store(owner)
NOINLINE static void c_down_write(struct rwsem *s, int32_t me) {
  int32_t zero = 0;
  if (__atomic_compare_exchange_n(&s->count, &zero, RWSEM_WRITER_LOCKED, 0, SC, SC)) {
    __atomic_store_n(&s->owner, me, SC);
    return;
  }
  c_down_write_slow(s, me);
}

// up_write: rwsem_clear_owner: Atomics.store(owner, 0); Atomics.sub(count, WRITER_LOCKED)
NOINLINE static void c_up_write(struct rwsem *s) {
  __atomic_store_n(&s->owner, 0, SC);
  int32_t old = __atomic_fetch_sub(&s->count, RWSEM_WRITER_LOCKED, SC);
  if (old & RWSEM_FLAG_WAITERS) {
    __atomic_fetch_and(&s->count, ~RWSEM_FLAG_WAITERS, SC);
    futex(&s->count, FUTEX_WAKE_PRIVATE, 1);
  }
}

// ---- ticket spinlock (spinlock.ts): head = low 16 bits, tail = high 16 bits ----
union ticketlock {
  uint32_t word;
  uint16_t half[2]; // little-endian: half[0] is head
} __attribute__((aligned(64)));

// spin_lock: Atomics.add(word, 1 << 16); spin on Atomics.load(u16 head)
NOINLINE static void c_spin_lock(union ticketlock *l) {
  uint32_t old = __atomic_fetch_add(&l->word, 1u << 16, SC);
  uint16_t ticket = old >> 16;
  if ((old & 0xffff) == ticket) return;
  while (__atomic_load_n(&l->half[0], SC) != ticket) cpu_relax();
}

// spin_unlock: Atomics.store(u16 head, Atomics.load(u16 head) + 1)
NOINLINE static void c_spin_unlock(union ticketlock *l) {
  __atomic_store_n(&l->half[0], (uint16_t)(__atomic_load_n(&l->half[0], SC) + 1), SC);
}

// ---- seqcount read section (seqlock.ts read_seqcount_begin/read_seqcount_retry) ----
struct seqdata {
  int32_t seq;
  int32_t d0, d1;
} __attribute__((aligned(64)));

// begin: Atomics.load(seq) (spin while odd); data: 2 x Atomics.load; retry: Atomics.load(seq) != start
NOINLINE static int32_t c_seq_read(struct seqdata *s) {
  int32_t start, a, b;
  do {
    start = __atomic_load_n(&s->seq, SC);
    while (start & 1) {
      cpu_relax();
      start = __atomic_load_n(&s->seq, SC);
    }
    a = __atomic_load_n(&s->d0, SC);
    b = __atomic_load_n(&s->d1, SC);
  } while (__atomic_load_n(&s->seq, SC) != start);
  return a + b;
}

// ---- single-thread loops ----
static struct rwsem sem;
static union ticketlock tl;
static struct seqdata sd = {0, 3, 4};
static pthread_rwlock_t prw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t pmx = PTHREAD_MUTEX_INITIALIZER;
static volatile int32_t sink;
static int32_t scratch __attribute__((aligned(64)));

static double time_loop(int which, long n) {
  double t0 = now_ns();
  int32_t acc = 0;
  switch (which) {
  case 0:
    for (long i = 0; i < n; i++) c_down_read(&sem, 0x1000), c_up_read(&sem);
    break;
  case 1:
    for (long i = 0; i < n; i++) c_down_write(&sem, 0x1000), c_up_write(&sem);
    break;
  case 2:
    for (long i = 0; i < n; i++) c_spin_lock(&tl), c_spin_unlock(&tl);
    break;
  case 3:
    for (long i = 0; i < n; i++) acc += c_seq_read(&sd);
    break;
  case 4:
    for (long i = 0; i < n; i++) pthread_rwlock_rdlock(&prw), pthread_rwlock_unlock(&prw);
    break;
  case 5:
    for (long i = 0; i < n; i++) pthread_rwlock_wrlock(&prw), pthread_rwlock_unlock(&prw);
    break;
  case 6:
    for (long i = 0; i < n; i++) pthread_mutex_lock(&pmx), pthread_mutex_unlock(&pmx);
    break;
  // single seq_cst operations (inline), for the per-call cost model
  case 7:
    for (long i = 0; i < n; i++) acc += __atomic_load_n(&scratch, SC);
    break;
  case 8:
    for (long i = 0; i < n; i++) __atomic_store_n(&scratch, (int32_t)i, SC);
    break;
  case 9:
    for (long i = 0; i < n; i++) acc += __atomic_fetch_add(&scratch, 1, SC);
    break;
  case 10:
    for (long i = 0; i < n; i++) {
      int32_t z = 0;
      acc += __atomic_compare_exchange_n(&scratch, &z, 0, 0, SC, SC);
    }
    break;
  }
  sink = acc;
  return (now_ns() - t0) / n;
}

static const char *single_names[] = {"rwsem_read",   "rwsem_write",    "spin",          "seq_read",
                                     "pthread_rdlock", "pthread_wrlock", "pthread_mutex", "atomic_load",
                                     "atomic_store",   "atomic_add",     "atomic_cas"};
#define NSINGLE 11

// ---- 2-thread contended write lock ----
// The two threads meet at a sleeping barrier: the thread that arrives first sleeps, and its wake-up
// puts it on the idle core (a spin barrier can leave both threads time-sliced on one core until
// the load balancer moves one, and then they run one after the other). The main thread sleeps in
// pthread_join. Wall time = last end - first start; ns/op = wall / (2 n). Even so, on a shared VM
// the two vCPUs are not always running at once; `concurrency` = (CPU time of both threads) / (2 x
// wall) tells: 1.0 = both ran all along, 0.5 = they took turns on one core.
struct contended {
  int kind; // 0: C rwsem-like lock, 1: glibc pthread_rwlock_wrlock
  long n;
  pthread_barrier_t barrier;
  double start[2], end[2], cpu[2];
};
static struct contended ct;
static long shared_counter;

static void contended_loop(int kind, int32_t me, long n) {
  if (kind == 0) {
    for (long i = 0; i < n; i++) {
      c_down_write(&sem, me);
      shared_counter++;
      c_up_write(&sem);
    }
  } else {
    for (long i = 0; i < n; i++) {
      pthread_rwlock_wrlock(&prw);
      shared_counter++;
      pthread_rwlock_unlock(&prw);
    }
  }
}

static void *contended_thread(void *arg) {
  int id = (int)(intptr_t)arg;
  int32_t me = 0x1000 * (id + 1);
  contended_loop(ct.kind, me, ct.n / 10); // warm-up
  pthread_barrier_wait(&ct.barrier);
  double c0 = thread_cpu_ns();
  ct.start[id] = now_ns();
  contended_loop(ct.kind, me, ct.n);
  ct.end[id] = now_ns();
  ct.cpu[id] = thread_cpu_ns() - c0;
  return NULL;
}

static double run_contended(int kind, long n, long *waits, long *slow, double *concurrency) {
  pthread_t th[2];
  ct.kind = kind;
  ct.n = n;
  pthread_barrier_init(&ct.barrier, NULL, 2);
  shared_counter = 0;
  slow_paths = futex_waits = 0;
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, contended_thread, (void *)(intptr_t)i);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&ct.barrier);
  double t0 = ct.start[0] < ct.start[1] ? ct.start[0] : ct.start[1];
  double t1 = ct.end[0] > ct.end[1] ? ct.end[0] : ct.end[1];
  long expect = 2 * (n + n / 10);
  if (shared_counter != expect) {
    fprintf(stderr, "contended kind %d: counter %ld, expected %ld\n", kind, shared_counter, expect);
    exit(1);
  }
  *waits = futex_waits; // warm-up included: it is contended too
  *slow = slow_paths;
  *concurrency = (ct.cpu[0] + ct.cpu[1]) / (2 * (t1 - t0));
  return (t1 - t0) / (2.0 * n);
}

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 2000000;
  long citers = argc > 2 ? atol(argv[2]) : 1000000;
  int reps = argc > 3 ? atoi(argv[3]) : 10;
  int want = argc > 4 ? atoi(argv[4]) : 3;
  // Like a Node process, run glibc in multi-threaded mode (it is cheaper single-threaded).
  pthread_t t;
  pthread_create(&t, NULL, nothing, NULL);
  pthread_join(t, NULL);

  printf("{");
  for (int w = 0; w < NSINGLE; w++) {
    time_loop(w, iters / 10 + 1); // warm-up
    printf("\"%s\":%.3f,", single_names[w], time_loop(w, iters));
  }
  if (sem.count != 0 || tl.half[0] != tl.half[1]) {
    fprintf(stderr, "lock state not released\n");
    return 1;
  }
  // The contended loops are repeated: whether the 2 CPUs really run at once varies from one moment
  // to the next on a shared machine, and the driver keeps the repetitions where they did.
  // It stops once `want` repetitions of each lock ran with both threads at once (concurrency
  // >= 0.8, see run_contended), or after `reps` repetitions.
  enum { MAXREPS = 32 };
  double ns[2][MAXREPS], cc[2][MAXREPS];
  long sl[MAXREPS], fw[MAXREPS];
  if (reps > MAXREPS) reps = MAXREPS;
  int got[2] = {0, 0}, r = 0;
  for (; r < reps && (got[0] < want || got[1] < want); r++) {
    long waits, slow;
    ns[0][r] = run_contended(0, citers, &fw[r], &sl[r], &cc[0][r]);
    ns[1][r] = run_contended(1, citers, &waits, &slow, &cc[1][r]);
    for (int k = 0; k < 2; k++) got[k] += cc[k][r] >= 0.8;
  }
  reps = r;
  const char *keys[] = {"contended_rwsem", "contended_rwsem_concurrency", "contended_pthread_wrlock",
                        "contended_pthread_wrlock_concurrency", "contended_rwsem_slow_paths",
                        "contended_rwsem_futex_waits"};
  for (int k = 0; k < 6; k++) {
    printf("%s\"%s\":[", k ? "," : "", keys[k]);
    for (int r = 0; r < reps; r++) {
      if (k < 4) printf("%s%.3f", r ? "," : "", (k & 1 ? cc : ns)[k >> 1][r]);
      else printf("%s%ld", r ? "," : "", (k == 4 ? sl : fw)[r]);
    }
    printf("]");
  }
  printf("}\n");
  return 0;
}
