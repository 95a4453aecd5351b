// SPDX-License-Identifier: MPL-2.0
/*
 * Soak test of the C ABI: N encrypt+decrypt round trips (envelope with AAD, envelope, direct), plus
 * an error-path call every 100 rounds, over T threads sharing one seal, against the emulator.
 * Prints resident memory (VmRSS) after a warm-up and at every tenth of the run, and fails when it
 * grew by more than OCIKMS_SOAK_MAX_GROWTH_KB after the warm-up, or when any round trip failed.
 *
 *   OCIKMS_TEST_CONFIG_JSON     config_json for ocikms_seal_init (set by tests/c/soak.sh)
 *   OCIKMS_SOAK_ROUNDS          total round trips (default 10000; the figure is 1000000)
 *   OCIKMS_SOAK_THREADS         threads (default 4)
 *   OCIKMS_SOAK_MAX_GROWTH_KB   allowed RSS growth after the warm-up (default 8192)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocikms.h"

static atomic_long next_round = 0;
static atomic_long done_rounds = 0;
static atomic_long failures = 0;
static long rounds;
static const ocikms_seal *shared_seal;

static long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    return v && atol(v) > 0 ? atol(v) : fallback;
}

/* VmRSS of this process in KiB, from /proc/self/status. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    }
    if (f) fclose(f);
    return kib;
}

static int round_trip(long i) {
    char text[64];
    int len = snprintf(text, sizeof text, "soak round %ld", i);
    static const uint8_t aad[] = "core/keyring";
    ocikms_call_opts opts = {.struct_size = sizeof(ocikms_call_opts)};
    switch (i % 3) {
    case 0: opts.aad = aad; opts.aad_len = sizeof aad - 1; break;
    case 2: opts.without_envelope = true; break;
    default: break;
    }
    ocikms_buffer blob = {NULL, 0}, plain = {NULL, 0};
    ocikms_error *err = NULL;
    int ok = 0;
    if (ocikms_encrypt(shared_seal, (const uint8_t *)text, (size_t)len, &opts, &blob, &err) == OCIKMS_STATUS_OK &&
        ocikms_decrypt(shared_seal, blob.data, blob.len, &opts, &plain, &err) == OCIKMS_STATUS_OK) {
        ok = plain.len == (size_t)len && memcmp(plain.data, text, (size_t)len) == 0;
    } else {
        fprintf(stderr, "round %ld: %s\n", i, ocikms_error_message(err));
    }
    ocikms_error_free(err);
    ocikms_buffer_free(&blob);
    ocikms_buffer_free(&plain);
    if (i % 100 == 0) {
        /* The error path allocates too: a garbage blob must fail cleanly, and be freed. */
        static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01};
        err = NULL;
        int32_t status = ocikms_decrypt(shared_seal, garbage, sizeof garbage, NULL, &plain, &err);
        ok = ok && status == OCIKMS_STATUS_MALFORMED_BLOB && err != NULL;
        ocikms_error_free(err);
    }
    return ok;
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        long i = atomic_fetch_add(&next_round, 1);
        if (i >= rounds) return NULL;
        if (!round_trip(i)) atomic_fetch_add(&failures, 1);
        atomic_fetch_add(&done_rounds, 1);
    }
}

int main(void) {
    const char *config = getenv("OCIKMS_TEST_CONFIG_JSON");
    if (!config) {
        fprintf(stderr, "OCIKMS_TEST_CONFIG_JSON is not set: run tests/c/soak.sh\n");
        return 2;
    }
    rounds = env_long("OCIKMS_SOAK_ROUNDS", 10000);
    long threads = env_long("OCIKMS_SOAK_THREADS", 4);
    long max_growth = env_long("OCIKMS_SOAK_MAX_GROWTH_KB", 8192);
    ocikms_seal *seal = NULL;
    ocikms_error *err = NULL;
    if (ocikms_seal_init(config, &seal, &err) != OCIKMS_STATUS_OK) {
        fprintf(stderr, "ocikms_seal_init: %s\n", ocikms_error_message(err));
        return 1;
    }
    shared_seal = seal;
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, NULL);

    /* Warm-up: the first 2% (at least 1000 rounds) fill the connection pool and allocator caches. */
    long warmup = rounds / 50 > 1000 ? rounds / 50 : 1000;
    if (warmup > rounds) warmup = rounds;
    while (atomic_load(&done_rounds) < warmup) {
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    long baseline = rss_kib(), peak = baseline;
    printf("soak: %ld rounds, %ld threads; RSS after %ld warm-up rounds: %ld KiB\n", rounds, threads, warmup, baseline);
    for (int tenth = 1; tenth <= 10; tenth++) {
        while (atomic_load(&done_rounds) < rounds * tenth / 10) {
            struct timespec nap = {0, 50 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        long rss = rss_kib();
        if (rss > peak) peak = rss;
        printf("soak: %3d%% %9ld rounds  RSS %ld KiB (%+ld KiB)\n", tenth * 10, atomic_load(&done_rounds), rss, rss - baseline);
        fflush(stdout);
    }
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long end = rss_kib();
    ocikms_seal_free(seal);
    free(ids);
    printf("soak: %ld round trips in %.1f s (%.0f/s), failures %ld; RSS growth after warm-up %+ld KiB "
           "(peak %+ld KiB, limit %ld KiB)\n",
           rounds, secs, (double)rounds / secs, atomic_load(&failures), end - baseline, peak - baseline, max_growth);
    if (atomic_load(&failures) != 0) return 1;
    if (end - baseline > max_growth) {
        fprintf(stderr, "soak: resident memory grew by %ld KiB (limit %ld KiB)\n", end - baseline, max_growth);
        return 1;
    }
    return 0;
}
