// Bare bpf(2) cost for the operations the Java benchmarks measure, in C (gcc -O2).
// Run through bench/run (it builds this). Each figure is the minimum and median over ROUNDS rounds of
// ITERS calls, because this 2-vCPU VM's noise (+-30% between runs) is larger than what we measure.
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 15
#define ITERS 200000

struct auth_key { uint32_t local, remote; uint16_t node; uint8_t type, pad; };

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned size) { return syscall(__NR_bpf, cmd, attr, size); }

static int create(unsigned max) {
    union bpf_attr a; memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_HASH; a.key_size = 12; a.value_size = 8; a.max_entries = max;
    a.map_flags = BPF_F_NO_PREALLOC;
    int fd = sys_bpf(BPF_MAP_CREATE, &a, sizeof a);
    if (fd < 0) { perror("BPF_MAP_CREATE"); exit(1); }
    return fd;
}

static int elem(int cmd, int fd, void *k, void *v, uint64_t flags) {
    union bpf_attr a; memset(&a, 0, 32);
    a.map_fd = fd; a.key = (uint64_t)(uintptr_t)k; a.value = (uint64_t)(uintptr_t)v; a.flags = flags;
    return sys_bpf(cmd, &a, 32);
}

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static void report(const char *name, double *r) {
    qsort(r, ROUNDS, sizeof *r, cmp);
    printf("c    %-22s min %7.1f ns/op  median %7.1f ns/op\n", name, r[0], r[ROUNDS / 2]);
}

int main(void) {
    const int entries = 100000;
    int fd = create(1 << 20);
    struct auth_key k = {0}; uint64_t v = 1ULL << 50;
    for (int i = 0; i < entries; i++) { k.local = 256 + i; k.remote = 1000; k.node = 1; k.type = 1; elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY); }
    k.local = 256 + entries / 2;
    double bad[ROUNDS], look[ROUNDS], upd[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {   /* interleaved so drift hits all three alike */
        double t0 = now_ns();
        for (int i = 0; i < ITERS; i++) elem(BPF_MAP_LOOKUP_ELEM, -1, &k, &v, 0);
        double t1 = now_ns();
        for (int i = 0; i < ITERS; i++) elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0);
        double t2 = now_ns();
        for (int i = 0; i < ITERS; i++) elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY);
        double t3 = now_ns();
        bad[r] = (t1 - t0) / ITERS; look[r] = (t2 - t1) / ITERS; upd[r] = (t3 - t2) / ITERS;
    }
    report("lookup fd -1 (EBADF)", bad);
    report("lookup", look);
    report("update existing", upd);
    close(fd);

    int sizes[] = {1000, 100000, 1000000};
    for (int s = 0; s < 3; s++) {
        int n = sizes[s];
        struct auth_key *keys = calloc(n, sizeof *keys); uint64_t *vals = calloc(n, 8);
        for (int i = 0; i < n; i++) { keys[i].local = 256 + i; keys[i].remote = 1000 + (i & 1023); keys[i].node = i & 0xffff; keys[i].type = 1; vals[i] = v; }
        int m1 = create(n < 256 ? 256 : n);
        double a0 = now_ns();
        for (int i = 0; i < n; i++) elem(BPF_MAP_UPDATE_ELEM, m1, &keys[i], &vals[i], BPF_ANY);
        double a1 = now_ns();
        close(m1);
        int m2 = create(n < 256 ? 256 : n);
        double b0 = now_ns();
        for (int start = 0; start < n; start += 4096) {
            union bpf_attr a; memset(&a, 0, sizeof a);
            a.batch.keys = (uint64_t)(uintptr_t)&keys[start]; a.batch.values = (uint64_t)(uintptr_t)&vals[start];
            a.batch.count = (n - start) < 4096 ? (n - start) : 4096; a.batch.map_fd = m2;
            if (sys_bpf(BPF_MAP_UPDATE_BATCH, &a, sizeof a.batch) < 0) { perror("BPF_MAP_UPDATE_BATCH"); exit(1); }
        }
        double b1 = now_ns();
        close(m2);
        printf("c    fill %7d entries: single %6.1f ns/entry, batch %6.1f ns/entry\n", n, (a1 - a0) / n, (b1 - b0) / n);
        free(keys); free(vals);
    }
    return 0;
}
