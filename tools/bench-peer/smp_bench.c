/*
 * The Linux peer of apps/smp-bench: the same workload on a pthread pool, for
 * `cargo xtask bench smp`. Built by the host's gcc (-O2 -static -pthread) into the
 * peer's SMP initramfs (tools/xtask/src/bench/peer.rs) and run by its /init when the
 * kernel command line says `peer=smp`.
 *
 * The pool mirrors Ingot's work queue: N CPUs give N-1 worker threads (pinned to
 * CPUs 1..N-1) plus the main thread (pinned to CPU 0, Ingot's bootstrap core), which
 * submits and helps. One bounded FIFO under a mutex (1024 tasks: Ingot's queue at
 * -m 256M holds about 1080, 1/1024 of its heap); idle workers sleep on a condition
 * variable and a submit signals one when any sleeps (Ingot: hlt, and an IPI to one
 * sleeping core). Groups count pending tasks; waiting for a group runs queued tasks
 * meanwhile, as Ingot's Group::wait does.
 *
 * Measurements and printed lines are those of apps/smp-bench/src/main.rs: latency in
 * TSC cycles (rdtsc before submitting, rdtsc at the task's start, 50 us apart, the
 * submitter spinning on a flag; on one CPU it runs the task itself), and throughput
 * of 20000 empty and 2000 10-us busy tasks.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define CAPACITY 1024
#define LATENCY_SAMPLES 2000
#define GAP_NS 50000
#define EMPTY_TASKS 20000
#define BUSY_TASKS 2000
#define BUSY_NS 10000
#define WAIT_LIMIT_NS 1000000000ull

typedef void (*task_fn)(uint64_t);
struct group { atomic_ulong pending; };
struct task { task_fn entry; uint64_t argument; struct group *group; };

static struct task ring[CAPACITY];
static unsigned head, count, sleepers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;

static _Atomic uint64_t started_at;
static atomic_bool started;
static atomic_ulong completed;

static double tsc_per_ns;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* TSC ticks per nanosecond, against CLOCK_MONOTONIC over 100 ms (Ingot calibrates its
 * TSC at boot the same way, against the HPET or PIT). */
static void calibrate(void) {
    uint64_t t0 = now_ns(), c0 = __rdtsc(), t1;
    while ((t1 = now_ns()) - t0 < 100000000ull) __builtin_ia32_pause();
    tsc_per_ns = (double)(__rdtsc() - c0) / (double)(t1 - t0);
}

/* Busy-waits on the TSC, as Ingot's delay_us does: under TCG, clock_gettime may fall
 * back to a slow clocksource, which would lengthen the tasks. */
static void spin_ns(uint64_t ns) {
    uint64_t start = __rdtsc(), ticks = (uint64_t)(tsc_per_ns * (double)ns);
    while (__rdtsc() - start < ticks) __builtin_ia32_pause();
}

static void run(struct task t) {
    t.entry(t.argument);
    if (t.group) atomic_fetch_sub_explicit(&t.group->pending, 1, memory_order_release);
}

/* 0, or -1 when the queue is full (Ingot: WouldBlock). */
static int submit(task_fn entry, uint64_t argument, struct group *group) {
    pthread_mutex_lock(&lock);
    if (count == CAPACITY) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    if (group) atomic_fetch_add_explicit(&group->pending, 1, memory_order_relaxed);
    ring[(head + count) % CAPACITY] = (struct task){entry, argument, group};
    count++;
    if (sleepers) pthread_cond_signal(&nonempty);
    pthread_mutex_unlock(&lock);
    return 0;
}

static int run_one(void) {
    pthread_mutex_lock(&lock);
    if (!count) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    struct task t = ring[head];
    head = (head + 1) % CAPACITY;
    count--;
    pthread_mutex_unlock(&lock);
    run(t);
    return 1;
}

/* As Ingot's SDK: on a full queue, run up to HELP_BATCH queued tasks before retrying. */
#define HELP_BATCH 32

static void submit_or_help(task_fn entry, uint64_t argument, struct group *group) {
    while (submit(entry, argument, group))
        for (int i = 0; i < HELP_BATCH && run_one(); i++) {
        }
}

static void group_wait(struct group *group) {
    while (atomic_load_explicit(&group->pending, memory_order_acquire))
        if (!run_one()) __builtin_ia32_pause();
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *worker(void *cpu) {
    pin((int)(intptr_t)cpu);
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!count) {
            sleepers++;
            pthread_cond_wait(&nonempty, &lock);
            sleepers--;
        }
        struct task t = ring[head];
        head = (head + 1) % CAPACITY;
        count--;
        pthread_mutex_unlock(&lock);
        run(t);
    }
    return NULL;
}

static void record_start(uint64_t unused) {
    (void)unused;
    atomic_store_explicit(&started_at, __rdtsc(), memory_order_relaxed);
    atomic_store_explicit(&started, 1, memory_order_release);
}

static void empty(uint64_t unused) {
    (void)unused;
    atomic_fetch_add_explicit(&completed, 1, memory_order_relaxed);
}

static void busy(uint64_t unused) {
    (void)unused;
    spin_ns(BUSY_NS);
    atomic_fetch_add_explicit(&completed, 1, memory_order_relaxed);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int latency(int cpus) {
    static uint64_t samples[LATENCY_SAMPLES];
    for (int i = 0; i < LATENCY_SAMPLES; i++) {
        spin_ns(GAP_NS);
        atomic_store_explicit(&started, 0, memory_order_relaxed);
        uint64_t submitted = __rdtsc();
        if (submit(record_start, 0, NULL)) return 10;
        if (cpus == 1) {
            if (!run_one()) return 11;
        } else {
            uint64_t since = now_ns();
            while (!atomic_load_explicit(&started, memory_order_acquire)) {
                if (now_ns() - since > WAIT_LIMIT_NS) return 12;
                __builtin_ia32_pause();
            }
        }
        samples[i] = atomic_load_explicit(&started_at, memory_order_relaxed) - submitted;
    }
    qsort(samples, LATENCY_SAMPLES, sizeof samples[0], cmp_u64);
    printf("smp-bench: latency cores=%d samples=%d median=%llu p99=%llu\n", cpus, LATENCY_SAMPLES,
           (unsigned long long)samples[LATENCY_SAMPLES / 2],
           (unsigned long long)samples[LATENCY_SAMPLES * 99 / 100]);
    return 0;
}

static int throughput(int cpus, const char *kind, task_fn task, unsigned long tasks) {
    struct group group = {0};
    atomic_store(&completed, 0);
    uint64_t start_ns = now_ns(), start_tsc = __rdtsc();
    for (unsigned long i = 0; i < tasks; i++) submit_or_help(task, i, &group);
    group_wait(&group);
    uint64_t ns = now_ns() - start_ns, cycles = __rdtsc() - start_tsc;
    if (atomic_load(&completed) != tasks) {
        printf("smp-bench: %s: %lu of %lu tasks ran\n", kind, atomic_load(&completed), tasks);
        return 24;
    }
    printf("smp-bench: throughput cores=%d kind=%s tasks=%lu ns=%llu cycles=%llu\n", cpus, kind,
           tasks, (unsigned long long)ns, (unsigned long long)cycles);
    return 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpu_set_t online;
    if (sched_getaffinity(0, sizeof online, &online)) {
        printf("smp-bench: sched_getaffinity failed\n");
        return 1;
    }
    int cpus = CPU_COUNT(&online);
    pin(0);
    calibrate();
    printf("smp-bench: tsc-mhz=%.0f\n", tsc_per_ns * 1000.0);
    for (int cpu = 1; cpu < cpus; cpu++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, (void *)(intptr_t)cpu)) {
            printf("smp-bench: cannot start worker %d\n", cpu);
            return 1;
        }
    }
    int failed = latency(cpus);
    if (!failed) failed = throughput(cpus, "empty", empty, EMPTY_TASKS);
    if (!failed) failed = throughput(cpus, "10us", busy, BUSY_TASKS);
    if (failed) {
        printf("smp-bench: step %d failed\n", failed);
        return failed;
    }
    printf("smp-bench: done\n");
    return 0;
}
