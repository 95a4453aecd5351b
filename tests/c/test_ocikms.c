// SPDX-License-Identifier: MPL-2.0
/*
 * C ABI tests of libocikms against a running emulator: every function, NULL and bad-length
 * inputs, stored-value forms, cancellation, error details, logging, and N threads x M round trips
 * sharing one seal.
 *
 * `test_ocikms inflight` runs only the in-flight cancellation and timeout tests: run.sh first makes
 * the emulator answer the first encrypt (the seal's validation) and hold the next two for 3 s.
 * `test_ocikms retry-after` runs only the huge Retry-After test: run.sh makes the emulator answer
 * the second encrypt 429 with a Retry-After no clock can add.
 * `test_ocikms half-open|close-idle|late-answer` run one connection-fault test each (issue 14), with
 * `attempt_timeout = 500ms`: run.sh sets the emulator's fault plan for it (see each test) and
 * OCIKMS_TEST_EMULATOR_PORT.
 * (The panic boundary: test_panic.c, against a library built with the `debug-panic` feature.)
 *
 * Environment (tests/c/run.sh sets it):
 *   OCIKMS_TEST_CONFIG_JSON   config_json for ocikms_seal_init (emulator key, endpoints, API key)
 *   OCIKMS_TEST_THREADS       threads in the concurrency test (default 8)
 *   OCIKMS_TEST_ITERATIONS    round trips per thread (default 1000)
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "ocikms.h"

/* Checks that a call returned `want` and, on failure, that the error object `*errp` agrees; frees
 * it and resets `*errp`. (Takes the address: the call fills `*errp` after arguments are evaluated.) */
static void expect_status(const char *what, int32_t got, ocikms_error **errp, int32_t want) {
    ocikms_error *err = *errp;
    *errp = NULL;
    CHECK(got == want, "%s: status %d (%s), want %d (%s): %s", what, got, ocikms_status_name(got), want,
          ocikms_status_name(want), err ? ocikms_error_message(err) : "(no error object)");
    if (want != OCIKMS_STATUS_OK) {
        CHECK(err != NULL, "%s: no error object", what);
        if (err) {
            CHECK(ocikms_error_code(err) == want, "%s: error object code %d", what, ocikms_error_code(err));
            CHECK(strlen(ocikms_error_message(err)) > 0, "%s: empty message", what);
        }
    }
    ocikms_error_free(err);
}

static const char *config_json(void) {
    const char *json = getenv("OCIKMS_TEST_CONFIG_JSON");
    if (!json || !*json) {
        fprintf(stderr, "OCIKMS_TEST_CONFIG_JSON is not set: run tests/c/run.sh\n");
        exit(2);
    }
    return json;
}

static int env_int(const char *name, int fallback) {
    const char *v = getenv(name);
    return (v && *v) ? atoi(v) : fallback;
}

static void test_version_and_names(void) {
    CHECK(strcmp(ocikms_version(), OCIKMS_VERSION_STRING) == 0, "library %s, header %s", ocikms_version(),
          OCIKMS_VERSION_STRING);
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", OCIKMS_VERSION_MAJOR, OCIKMS_VERSION_MINOR,
             OCIKMS_VERSION_PATCH);
    CHECK(strcmp(expected, OCIKMS_VERSION_STRING) == 0, "macros %s vs %s", expected, OCIKMS_VERSION_STRING);
    CHECK(strcmp(ocikms_status_name(OCIKMS_STATUS_OK), "ok") == 0, "ok name");
    CHECK(strcmp(ocikms_status_name(OCIKMS_STATUS_DECRYPT_FAILED), "decrypt_failed") == 0, "name");
    CHECK(strcmp(ocikms_status_name(-5), "unknown") == 0, "unknown name");
}

static void test_null_and_bad_inputs_without_a_seal(void) {
    ocikms_error *err = NULL;
    ocikms_seal *seal = (ocikms_seal *)0x10; /* must stay untouched on failure */

    expect_status("init NULL json", ocikms_seal_init(NULL, &seal, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    CHECK(seal == (ocikms_seal *)0x10, "out_seal written on failure");
    err = NULL;
    expect_status("init NULL out_seal", ocikms_seal_init("{}", NULL, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("init bad JSON", ocikms_seal_init("{", &seal, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("init array", ocikms_seal_init("[]", &seal, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("init bad UTF-8", ocikms_seal_init("{\"key_id\":\"\xff\"}", &seal, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("init without key_id",
                  ocikms_seal_init("{\"crypto_endpoint\":\"http://127.0.0.1:9\",\"disallow_env_vars\":true}", &seal,
                                   &err), &err, OCIKMS_STATUS_CONFIG);
    CHECK(seal == (ocikms_seal *)0x10, "out_seal written on failure");
    /* out_err may be NULL: the status alone reports the failure. */
    CHECK(ocikms_seal_init(NULL, &seal, NULL) == OCIKMS_STATUS_INVALID_ARGUMENT, "NULL out_err");

    ocikms_buffer buf = {NULL, 0};
    err = NULL;
    expect_status("encrypt NULL seal", ocikms_encrypt(NULL, (const uint8_t *)"x", 1, NULL, &buf, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    CHECK(buf.data == NULL && buf.len == 0, "out_blob written on failure");
    err = NULL;
    expect_status("decrypt NULL seal", ocikms_decrypt(NULL, (const uint8_t *)"x", 1, NULL, &buf, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    bool rewrapped = false;
    expect_status("rewrap NULL seal", ocikms_rewrap(NULL, (const uint8_t *)"x", 1, NULL, &buf, &rewrapped, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    char *text = NULL;
    err = NULL;
    expect_status("key_version NULL seal", ocikms_key_version(NULL, &text, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("metadata NULL seal", ocikms_metadata_json(NULL, &text, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    CHECK(text == NULL, "string out-param written on failure");
    err = NULL;
    expect_status("log level 0", ocikms_set_log_level(0, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);

    /* Error accessors and frees are NULL-safe. */
    CHECK(ocikms_error_code(NULL) == OCIKMS_STATUS_INVALID_ARGUMENT, "code(NULL)");
    CHECK(strcmp(ocikms_error_message(NULL), "") == 0, "message(NULL)");
    CHECK(strcmp(ocikms_error_oci_code(NULL), "") == 0, "oci_code(NULL)");
    CHECK(strcmp(ocikms_error_opc_request_id(NULL), "") == 0, "opc_request_id(NULL)");
    CHECK(ocikms_error_http_status(NULL) == 0, "http_status(NULL)");
    CHECK(!ocikms_error_retryable(NULL), "retryable(NULL)");
    ocikms_error_free(NULL);
    ocikms_buffer_free(NULL);
    ocikms_buffer_free(&buf);
    ocikms_string_free(NULL);
    ocikms_seal_free(NULL);
    ocikms_cancel_token_free(NULL);
    ocikms_cancel_token_cancel(NULL);
    CHECK(!ocikms_cancel_token_is_cancelled(NULL), "is_cancelled(NULL)");
}

static atomic_int log_lines = 0;
static atomic_int log_user_ok = 1;

static void count_log(int32_t level, const char *message, void *user) {
    if (level < OCIKMS_LOG_ERROR || level > OCIKMS_LOG_TRACE || message == NULL || user != &log_lines) {
        atomic_store(&log_user_ok, 0);
    }
    atomic_fetch_add(&log_lines, 1);
}

/* A seal for the test config, with `extra_keys` (JSON members such as "max_retries":"0", or NULL)
 * added in front of its keys. */
static ocikms_seal *init_seal_with(const char *extra_keys) {
    const char *base = config_json();
    size_t len = strlen(base) + (extra_keys ? strlen(extra_keys) : 0) + 4;
    char *json = malloc(len);
    if (extra_keys) {
        snprintf(json, len, "{%s,%s", extra_keys, base + 1);
    } else {
        snprintf(json, len, "%s", base);
    }
    ocikms_error *err = NULL;
    ocikms_seal *seal = NULL;
    int32_t status = ocikms_seal_init(json, &seal, &err);
    free(json);
    if (status != OCIKMS_STATUS_OK) {
        fprintf(stderr, "ocikms_seal_init failed: %d %s\n", status, ocikms_error_message(err));
        ocikms_error_free(err);
        exit(1);
    }
    return seal;
}

static ocikms_seal *init_seal(void) { return init_seal_with(NULL); }

/* Encrypts then decrypts `text` with `opts`; returns 1 when the plaintext comes back. */
static int round_trip(const ocikms_seal *seal, const char *text, size_t len, const ocikms_call_opts *opts) {
    ocikms_buffer blob = {NULL, 0}, plain = {NULL, 0};
    ocikms_error *err = NULL;
    int32_t status = ocikms_encrypt(seal, (const uint8_t *)text, len, opts, &blob, &err);
    if (status != OCIKMS_STATUS_OK) {
        fprintf(stderr, "encrypt: %d %s\n", status, ocikms_error_message(err));
        ocikms_error_free(err);
        return 0;
    }
    status = ocikms_decrypt(seal, blob.data, blob.len, opts, &plain, &err);
    ocikms_buffer_free(&blob);
    if (status != OCIKMS_STATUS_OK) {
        fprintf(stderr, "decrypt: %d %s\n", status, ocikms_error_message(err));
        ocikms_error_free(err);
        return 0;
    }
    int ok = plain.len == len && (len == 0 || memcmp(plain.data, text, len) == 0);
    ocikms_buffer_free(&plain);
    CHECK(plain.data == NULL && plain.len == 0, "buffer_free resets the buffer");
    return ok;
}

static void test_seal_operations(const ocikms_seal *seal) {
    ocikms_error *err = NULL;
    char *text = NULL;

    CHECK(ocikms_key_version(seal, &text, &err) == OCIKMS_STATUS_OK, "key_version");
    CHECK(text != NULL && strlen(text) > 0, "key version empty");
    ocikms_string_free(text);
    text = NULL;
    CHECK(ocikms_metadata_json(seal, &text, &err) == OCIKMS_STATUS_OK, "metadata_json");
    const char *keys[] = {"\"key_id\"", "\"crypto_endpoint\"", "\"management_endpoint\"", "\"principal_type\":\"user\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK(text && strstr(text, keys[i]), "metadata %s lacks %s", text ? text : "(null)", keys[i]);
    }
    ocikms_string_free(text);

    /* Envelope, direct (mechanism 1), AAD, empty plaintext, NULL opts. */
    const char *secret = "root key material";
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    CHECK(round_trip(seal, secret, strlen(secret), NULL), "envelope round trip");
    CHECK(round_trip(seal, "", 0, NULL), "empty plaintext round trip");
    CHECK(round_trip(seal, NULL, 0, &opts), "NULL+0 plaintext round trip");
    opts.aad = (const uint8_t *)"vault-path";
    opts.aad_len = 10;
    CHECK(round_trip(seal, secret, strlen(secret), &opts), "AAD round trip");
    ocikms_call_opts direct = OCIKMS_CALL_OPTS_INIT;
    direct.without_envelope = true;
    CHECK(round_trip(seal, secret, strlen(secret), &direct), "direct round trip");
    direct.timeout_ms = 30000;
    CHECK(round_trip(seal, secret, strlen(secret), &direct), "direct round trip with timeout");

    /* Wrong AAD fails authentication. */
    ocikms_buffer blob = {NULL, 0}, plain = {NULL, 0};
    CHECK(ocikms_encrypt(seal, (const uint8_t *)secret, strlen(secret), &opts, &blob, &err) == OCIKMS_STATUS_OK,
          "encrypt with AAD");
    ocikms_call_opts wrong = OCIKMS_CALL_OPTS_INIT;
    wrong.aad = (const uint8_t *)"other-path";
    wrong.aad_len = 10;
    err = NULL;
    expect_status("decrypt with wrong AAD", ocikms_decrypt(seal, blob.data, blob.len, &wrong, &plain, &err), &err,
                  OCIKMS_STATUS_DECRYPT_FAILED);
    CHECK(plain.data == NULL, "out_plaintext written on failure");

    /* The multiwrapvalue:1 form: header, 4-byte big-endian length, MultiWrapValue{1: 1, 2: blob}. */
    size_t proto_len = 2 + 1 + (blob.len >= 128 ? 2 : 1) + blob.len;
    uint8_t *multi = malloc(16 + 4 + proto_len);
    size_t n = 0;
    memcpy(multi, "multiwrapvalue:1", 16);
    n = 16;
    multi[n++] = (uint8_t)(proto_len >> 24);
    multi[n++] = (uint8_t)(proto_len >> 16);
    multi[n++] = (uint8_t)(proto_len >> 8);
    multi[n++] = (uint8_t)proto_len;
    multi[n++] = 0x08; /* field 1, varint: generation */
    multi[n++] = 0x01;
    multi[n++] = 0x12; /* field 2, length-delimited: a BlobInfo slot */
    if (blob.len >= 128) {
        multi[n++] = (uint8_t)(0x80 | (blob.len & 0x7f));
        multi[n++] = (uint8_t)(blob.len >> 7);
    } else {
        multi[n++] = (uint8_t)blob.len;
    }
    memcpy(multi + n, blob.data, blob.len);
    n += blob.len;
    err = NULL;
    CHECK(ocikms_decrypt(seal, multi, n, &opts, &plain, &err) == OCIKMS_STATUS_OK, "decrypt multiwrapvalue:1: %s",
          ocikms_error_message(err));
    CHECK(plain.len == strlen(secret) && memcmp(plain.data, secret, plain.len) == 0, "multiwrap plaintext");
    ocikms_buffer_free(&plain);
    err = NULL;
    expect_status("decrypt truncated multiwrap", ocikms_decrypt(seal, multi, n - 1, &opts, &plain, &err), &err,
                  OCIKMS_STATUS_MALFORMED_BLOB);
    bool rewrapped = true;
    err = NULL;
    expect_status("rewrap multiwrap", ocikms_rewrap(seal, multi, n, &opts, &plain, &rewrapped, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    free(multi);

    /* Rewrap of a current blob returns the same bytes and says so. */
    ocikms_buffer again = {NULL, 0};
    err = NULL;
    CHECK(ocikms_rewrap(seal, blob.data, blob.len, &opts, &again, &rewrapped, &err) == OCIKMS_STATUS_OK, "rewrap: %s",
          ocikms_error_message(err));
    CHECK(!rewrapped, "a current blob is not rewrapped");
    CHECK(again.len == blob.len && memcmp(again.data, blob.data, blob.len) == 0, "rewrap returns the input");
    ocikms_buffer_free(&again);
    CHECK(ocikms_rewrap(seal, blob.data, blob.len, &opts, &again, NULL, &err) == OCIKMS_STATUS_OK,
          "rewrap with NULL out_rewrapped");
    ocikms_buffer_free(&again);

    /* Bad inputs with a live seal. */
    err = NULL;
    expect_status("decrypt garbage", ocikms_decrypt(seal, (const uint8_t *)"\xff\xff\xff", 3, NULL, &plain, &err), &err, OCIKMS_STATUS_MALFORMED_BLOB);
    err = NULL;
    expect_status("decrypt NULL blob with length", ocikms_decrypt(seal, NULL, 12, NULL, &plain, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("decrypt impossible length", ocikms_decrypt(seal, blob.data, SIZE_MAX, NULL, &plain, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("encrypt NULL plaintext with length", ocikms_encrypt(seal, NULL, 5, NULL, &blob, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("encrypt NULL out_blob", ocikms_encrypt(seal, (const uint8_t *)"x", 1, NULL, NULL, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("decrypt NULL out_plaintext", ocikms_decrypt(seal, blob.data, blob.len, NULL, NULL, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    err = NULL;
    expect_status("key_version NULL out", ocikms_key_version(seal, NULL, &err), &err, OCIKMS_STATUS_INVALID_ARGUMENT);
    ocikms_call_opts small = OCIKMS_CALL_OPTS_INIT;
    small.struct_size = 4;
    err = NULL;
    expect_status("opts too small", ocikms_encrypt(seal, (const uint8_t *)"x", 1, &small, &blob, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    ocikms_call_opts null_aad = OCIKMS_CALL_OPTS_INIT;
    null_aad.aad_len = 3;
    err = NULL;
    expect_status("NULL aad with length", ocikms_encrypt(seal, (const uint8_t *)"x", 1, &null_aad, &blob, &err), &err,
                  OCIKMS_STATUS_INVALID_ARGUMENT);
    ocikms_buffer_free(&blob);

    /* A cancelled token stops the call. */
    ocikms_cancel_token *token = ocikms_cancel_token_new();
    CHECK(token != NULL && !ocikms_cancel_token_is_cancelled(token), "new token");
    ocikms_call_opts cancelled = OCIKMS_CALL_OPTS_INIT;
    cancelled.cancel = token;
    CHECK(round_trip(seal, secret, strlen(secret), &cancelled), "round trip with a live token");
    ocikms_cancel_token_cancel(token);
    ocikms_cancel_token_cancel(token);
    CHECK(ocikms_cancel_token_is_cancelled(token), "cancelled");
    err = NULL;
    expect_status("encrypt with a cancelled token",
                  ocikms_encrypt(seal, (const uint8_t *)secret, strlen(secret), &cancelled, &blob, &err), &err,
                  OCIKMS_STATUS_CANCELLED);
    ocikms_cancel_token_free(token);
}

static void test_service_error_details(void) {
    /* A key that does not exist: OCI answers 404 NotAuthorizedOrNotFound with an opc-request-id. */
    const char *base = config_json();
    const char *key = strstr(base, "\"key_id\"");
    CHECK(key != NULL, "config has key_id");
    if (!key) return;
    size_t len = strlen(base) + 64;
    char *json = malloc(len);
    /* Replace the value of key_id by an unknown key OCID, keeping the rest of the object. */
    const char *value = strchr(key + 8, '"');
    const char *end = value ? strchr(value + 1, '"') : NULL;
    CHECK(value && end, "key_id value");
    if (!value || !end) { free(json); return; }
    snprintf(json, len, "%.*s\"ocid1.key.oc1..doesnotexist\"%s", (int)(value - base), base, end + 1);
    ocikms_error *err = NULL;
    ocikms_seal *seal = NULL;
    int32_t status = ocikms_seal_init(json, &seal, &err);
    CHECK(status == OCIKMS_STATUS_NOT_AUTHORIZED_OR_NOT_FOUND, "status %d: %s", status, ocikms_error_message(err));
    CHECK(seal == NULL, "no seal on failure");
    if (err) {
        CHECK(ocikms_error_http_status(err) == 404, "http %d", ocikms_error_http_status(err));
        CHECK(strcmp(ocikms_error_oci_code(err), "NotAuthorizedOrNotFound") == 0, "oci code %s",
              ocikms_error_oci_code(err));
        CHECK(strlen(ocikms_error_opc_request_id(err)) > 0, "opc-request-id missing");
        CHECK(!ocikms_error_retryable(err), "404 is not retryable");
        CHECK(strstr(ocikms_error_message(err), ocikms_error_opc_request_id(err)) != NULL,
              "message names the opc-request-id: %s", ocikms_error_message(err));
    }
    ocikms_error_free(err);
    free(json);
}

static void test_log_callback(void) {
    ocikms_set_log_callback(count_log, (void *)&log_lines);
    CHECK(ocikms_set_log_level(OCIKMS_LOG_TRACE, NULL) == OCIKMS_STATUS_OK, "log level");
    ocikms_seal *seal = init_seal();
    CHECK(round_trip(seal, "logged", 6, NULL), "round trip while logging");
    ocikms_seal_free(seal);
    ocikms_set_log_callback(NULL, NULL);
    CHECK(ocikms_set_log_level(OCIKMS_LOG_INFO, NULL) == OCIKMS_STATUS_OK, "log level");
    int lines = atomic_load(&log_lines);
    CHECK(lines > 0, "no log line received");
    CHECK(atomic_load(&log_user_ok), "bad level, message or user pointer in a log call");
    seal = init_seal();
    ocikms_seal_free(seal);
    CHECK(atomic_load(&log_lines) == lines, "log lines after the callback was removed");
}

static void test_init_with_opts(void) {
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    opts.timeout_ms = 10000;
    ocikms_seal *seal = NULL;
    ocikms_error *err = NULL;
    CHECK(ocikms_seal_init_opts(config_json(), &opts, &seal, &err) == OCIKMS_STATUS_OK, "init_opts: %s",
          ocikms_error_message(err));
    CHECK(round_trip(seal, "x", 1, NULL), "round trip after init_opts");
    ocikms_seal_free(seal);
    CHECK(ocikms_seal_init_opts(config_json(), NULL, &seal, &err) == OCIKMS_STATUS_OK, "init_opts NULL opts");
    ocikms_seal_free(seal);

    ocikms_cancel_token *token = ocikms_cancel_token_new();
    ocikms_cancel_token_cancel(token);
    opts.cancel = token;
    seal = NULL;
    err = NULL;
    expect_status("init with a cancelled token", ocikms_seal_init_opts(config_json(), &opts, &seal, &err), &err,
                  OCIKMS_STATUS_CANCELLED);
    CHECK(seal == NULL, "no seal on a cancelled init");
    ocikms_cancel_token_free(token);
}

struct worker {
    const ocikms_seal *seal;
    int id;
    int iterations;
    int failures;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char text[64];
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    for (int i = 0; i < w->iterations; i++) {
        int len = snprintf(text, sizeof text, "thread %d iteration %d", w->id, i);
        opts.aad = (const uint8_t *)text;
        opts.without_envelope = (i % 10) == 9; /* mechanism 1 takes no AAD */
        opts.aad_len = (size_t)(i % 2 && !opts.without_envelope ? len : 0);
        if (!round_trip(w->seal, text, (size_t)len, &opts)) {
            w->failures++;
        }
    }
    return NULL;
}

static void test_threads(const ocikms_seal *seal) {
    int threads = env_int("OCIKMS_TEST_THREADS", 8);
    int iterations = env_int("OCIKMS_TEST_ITERATIONS", 1000);
    pthread_t ids[64];
    struct worker workers[64];
    if (threads > 64) threads = 64;
    for (int t = 0; t < threads; t++) {
        workers[t] = (struct worker){seal, t, iterations, 0};
        CHECK(pthread_create(&ids[t], NULL, worker_main, &workers[t]) == 0, "pthread_create");
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        failed += workers[t].failures;
    }
    CHECK(failed == 0, "%d of %d round trips failed", failed, threads * iterations);
    printf("threads: %d x %d round trips sharing one seal, %d failed\n", threads, iterations, failed);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct inflight {
    const ocikms_seal *seal;
    const ocikms_call_opts *opts;
    int32_t status;
};

static void *inflight_encrypt(void *arg) {
    struct inflight *call = arg;
    ocikms_buffer blob = {NULL, 0};
    ocikms_error *err = NULL;
    call->status = ocikms_encrypt(call->seal, (const uint8_t *)"x", 1, call->opts, &blob, &err);
    ocikms_buffer_free(&blob);
    ocikms_error_free(err);
    return NULL;
}

/* With every encrypt held 3 s by the emulator: cancelling from another thread, and a 300 ms
 * timeout, both end the call well before the emulator answers. */
static void test_inflight_cancel_and_timeout(const ocikms_seal *seal) {
    ocikms_cancel_token *token = ocikms_cancel_token_new();
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    opts.cancel = token;
    struct inflight call = {seal, &opts, -1};
    pthread_t thread;
    double start = now_seconds();
    CHECK(pthread_create(&thread, NULL, inflight_encrypt, &call) == 0, "pthread_create");
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    ocikms_cancel_token_cancel(token);
    pthread_join(thread, NULL);
    double elapsed = now_seconds() - start;
    CHECK(call.status == OCIKMS_STATUS_CANCELLED, "in-flight cancel: status %d (%s)", call.status,
          ocikms_status_name(call.status));
    CHECK(elapsed < 1.5, "in-flight cancel returned after %.2f s", elapsed);
    ocikms_cancel_token_free(token);

    ocikms_call_opts timed = OCIKMS_CALL_OPTS_INIT;
    timed.timeout_ms = 300;
    struct inflight timed_call = {seal, &timed, -1};
    start = now_seconds();
    inflight_encrypt(&timed_call);
    elapsed = now_seconds() - start;
    CHECK(timed_call.status == OCIKMS_STATUS_TIMEOUT, "timeout: status %d (%s)", timed_call.status,
          ocikms_status_name(timed_call.status));
    CHECK(elapsed >= 0.25 && elapsed < 1.5, "300 ms timeout returned after %.2f s", elapsed);
}

/* Status of an encrypt of "x" with `opts` (any struct the caller lays out); frees what it gets. */
static int32_t encrypt_status(const ocikms_seal *seal, const void *opts, char *message, size_t message_len) {
    ocikms_buffer blob = {NULL, 0};
    ocikms_error *err = NULL;
    int32_t status = ocikms_encrypt(seal, (const uint8_t *)"x", 1, (const ocikms_call_opts *)opts, &blob, &err);
    snprintf(message, message_len, "%s", err ? ocikms_error_message(err) : "");
    ocikms_buffer_free(&blob);
    ocikms_error_free(err);
    return status;
}

/* ocikms_call_opts grows by appending fields; struct_size tells the library which the caller has.
 * Here: a struct older than the first version (no `cancel`), this version, and a caller built
 * against a future header with one more field — zero (accepted) or set (refused). */
struct call_opts_before_v1 {
    size_t struct_size;
    const uint8_t *aad;
    size_t aad_len;
    uint8_t without_envelope;
    uint64_t timeout_ms;
};

struct call_opts_future {
    ocikms_call_opts v1;
    uint64_t added_field;
};

static void test_call_opts_layouts(const ocikms_seal *seal) {
    char message[512];
    struct call_opts_before_v1 old = {sizeof old, NULL, 0, 0, 0};
    int32_t status = encrypt_status(seal, &old, message, sizeof message);
    CHECK(status == OCIKMS_STATUS_INVALID_ARGUMENT && strstr(message, "first version"),
          "struct before v1 (%zu bytes): status %d: %s", sizeof old, status, message);

    ocikms_call_opts current = OCIKMS_CALL_OPTS_INIT;
    CHECK(encrypt_status(seal, &current, message, sizeof message) == OCIKMS_STATUS_OK, "v1: %s", message);

    struct call_opts_future future;
    memset(&future, 0, sizeof future);
    future.v1.struct_size = sizeof future;
    future.v1.aad = (const uint8_t *)"future";
    future.v1.aad_len = 6;
    CHECK(round_trip(seal, "from the future", 15, &future.v1), "future caller, new field zero");
    future.added_field = 1;
    status = encrypt_status(seal, &future, message, sizeof message);
    CHECK(status == OCIKMS_STATUS_INVALID_ARGUMENT && strstr(message, "newer ocikms.h"),
          "future caller, new field set: status %d: %s", status, message);

    /* The library reads no byte past struct_size: the options end where readable memory ends. */
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED && mprotect(pages + page, (size_t)page, PROT_NONE) == 0, "guard page");
    if (pages != MAP_FAILED) {
        ocikms_call_opts *at_edge = (ocikms_call_opts *)(pages + page - sizeof(ocikms_call_opts));
        *at_edge = (ocikms_call_opts)OCIKMS_CALL_OPTS_INIT;
        CHECK(encrypt_status(seal, at_edge, message, sizeof message) == OCIKMS_STATUS_OK, "opts at a page edge: %s",
              message);
        munmap(pages, 2 * (size_t)page);
    }
}

/* Boolean fields are uint8_t: 0 or 1, anything else is refused (never read as a C bool). A call
 * timeout of UINT64_MAX ms is far past what a clock can add: capped, never a panic. */
static void test_boolean_fields_and_huge_timeouts(const ocikms_seal *seal) {
    char message[512];
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    opts.without_envelope = 2;
    int32_t status = encrypt_status(seal, &opts, message, sizeof message);
    CHECK(status == OCIKMS_STATUS_INVALID_ARGUMENT && strstr(message, "without_envelope"),
          "without_envelope = 2: status %d: %s", status, message);
    opts.without_envelope = 1;
    opts.timeout_ms = UINT64_MAX;
    CHECK(round_trip(seal, "no deadline", 11, &opts), "timeout_ms = UINT64_MAX");
}

/* Config values that used to overflow the deadline are config errors, not OCIKMS_STATUS_PANIC. */
static void test_config_values_that_used_to_overflow(void) {
    const char *base = config_json();
    size_t len = strlen(base) + 64;
    char *json = malloc(len);
    const char *values[] = {"\"1e19\"", "1e19", "\"24h0m1s\""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(json, len, "{\"request_timeout\": %s, %s", values[i], base + 1);
        ocikms_seal *seal = NULL;
        ocikms_error *err = NULL;
        int32_t status = ocikms_seal_init(json, &seal, &err);
        CHECK(status == OCIKMS_STATUS_CONFIG && strstr(ocikms_error_message(err), "24h"),
              "request_timeout %s: status %d (%s): %s", values[i], status, ocikms_status_name(status),
              ocikms_error_message(err));
        ocikms_error_free(err);
        ocikms_seal_free(seal);
    }
    free(json);
}

/* run.sh makes the emulator answer the next encrypt 429 with Retry-After: 9999999999999999999
 * (seconds): a wait no clock can add, which used to panic. The call ends at once, throttled. */
static void test_huge_retry_after(const ocikms_seal *seal) {
    char message[512];
    double start = now_seconds();
    int32_t status = encrypt_status(seal, NULL, message, sizeof message);
    double elapsed = now_seconds() - start;
    CHECK(status == OCIKMS_STATUS_THROTTLED, "huge Retry-After: status %d (%s): %s", status,
          ocikms_status_name(status), message);
    CHECK(elapsed < 5.0, "huge Retry-After: returned after %.2f s", elapsed);
}

static void sleep_ms(long ms) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&pause, NULL);
}

/* TCP states in /proc/net/tcp. */
enum { TCP_ESTABLISHED_STATE = 0x01, TCP_CLOSE_WAIT_STATE = 0x08 };

/* How many sockets this process holds to remote `port` in TCP `state` (/proc/self/net/tcp and
 * tcp6, restricted to the socket inodes among /proc/self/fd). */
static int held_sockets(unsigned port, unsigned state) {
    static unsigned long inodes[4096];
    size_t n_inodes = 0;
    DIR *fds = opendir("/proc/self/fd");
    CHECK(fds != NULL, "opendir /proc/self/fd");
    if (!fds) return -1;
    struct dirent *fd;
    while ((fd = readdir(fds)) != NULL && n_inodes < sizeof inodes / sizeof inodes[0]) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", fd->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &inodes[n_inodes]) == 1) n_inodes++;
    }
    closedir(fds);
    int count = 0;
    const char *tables[] = {"/proc/self/net/tcp", "/proc/self/net/tcp6"};
    for (size_t t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "r");
        if (!f) continue;
        char line[512];
        while (fgets(line, sizeof line, f)) {
            unsigned remote_port, st;
            unsigned long inode;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, " %*s %*s %*[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %lu", &remote_port, &st, &inode) != 3)
                continue;
            if (remote_port != port || st != state) continue;
            for (size_t i = 0; i < n_inodes; i++) {
                if (inodes[i] == inode) {
                    count++;
                    break;
                }
            }
        }
        fclose(f);
    }
    return count;
}

/* run.sh: the emulator answers the first encrypt after init, then reads the next and never
 * answers it, as over a half-open pooled connection. The call abandons that attempt after
 * attempt_timeout (500 ms) and succeeds on a fresh connection, far from request_timeout (20 s). */
static void test_half_open_connection(const ocikms_seal *seal) {
    char message[512];
    CHECK(encrypt_status(seal, NULL, message, sizeof message) == OCIKMS_STATUS_OK, "first encrypt: %s", message);
    double start = now_seconds();
    int32_t status = encrypt_status(seal, NULL, message, sizeof message);
    double elapsed = now_seconds() - start;
    CHECK(status == OCIKMS_STATUS_OK && elapsed < 5.0,
          "the second encrypt took %.1f s (attempt_timeout 500ms, request_timeout 20s) and returned %s (%s): the "
          "silent pooled connection was not abandoned after attempt_timeout",
          elapsed, ocikms_status_name(status), message);
}

/* run.sh: init's and the next eight encrypts held 300 ms each, and connections idle for 1 s closed
 * by the emulator. Eight concurrent encrypts fill the pool; once the emulator has closed them all,
 * one more call must leave no connection to it in CLOSE_WAIT (it runs within the 1 s its own new
 * connection is kept). */
static void test_idle_connections_closed_by_the_server(const ocikms_seal *seal) {
    const char *port_text = getenv("OCIKMS_TEST_EMULATOR_PORT");
    unsigned port = port_text ? (unsigned)atoi(port_text) : 0;
    CHECK(port != 0, "OCIKMS_TEST_EMULATOR_PORT is not set: run tests/c/run.sh");
    ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;
    struct inflight calls[8];
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) {
        calls[i] = (struct inflight){seal, &opts, -1};
        CHECK(pthread_create(&threads[i], NULL, inflight_encrypt, &calls[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        CHECK(calls[i].status == OCIKMS_STATUS_OK, "concurrent encrypt %d: %s", i, ocikms_status_name(calls[i].status));
    }
    int open = held_sockets(port, TCP_ESTABLISHED_STATE);
    CHECK(open >= 4, "only %d connections to the emulator after 8 concurrent calls", open);
    sleep_ms(2500);
    char message[512];
    CHECK(encrypt_status(seal, NULL, message, sizeof message) == OCIKMS_STATUS_OK, "encrypt after the idle close: %s",
          message);
    int dead = held_sockets(port, TCP_CLOSE_WAIT_STATE);
    CHECK(dead == 0,
          "after a call, this process still holds %d connections to the emulator in CLOSE_WAIT (of the %d open "
          "before the idle close): dead idle connections were not pruned",
          dead, open);
}

/* run.sh: the emulator answers the first encrypt after init, then 100 ms later writes an
 * unsolicited 408 on that (pooled, idle) connection and closes it. With max_retries = 0 the next
 * encrypt succeeds only if it does not read the stale 408 as its answer. */
static void test_late_answer(const ocikms_seal *seal) {
    char message[512];
    CHECK(encrypt_status(seal, NULL, message, sizeof message) == OCIKMS_STATUS_OK, "first encrypt: %s", message);
    sleep_ms(1000);
    int32_t status = encrypt_status(seal, NULL, message, sizeof message);
    CHECK(status == OCIKMS_STATUS_OK,
          "the encrypt after the late 408 returned %s (%s): the stale 408 left on the pooled connection was read as "
          "its answer",
          ocikms_status_name(status), message);
}

/* The single-test modes run.sh uses with a fault plan of its own. */
#define TRANSPORT_KEYS "\"attempt_timeout\":\"500ms\",\"request_timeout\":\"20s\""
static const struct {
    const char *name;
    const char *extra_keys;
    void (*run)(const ocikms_seal *);
} modes[] = {
    {"inflight", NULL, test_inflight_cancel_and_timeout},
    {"retry-after", NULL, test_huge_retry_after},
    {"half-open", TRANSPORT_KEYS, test_half_open_connection},
    {"close-idle", TRANSPORT_KEYS, test_idle_connections_closed_by_the_server},
    {"late-answer", TRANSPORT_KEYS ",\"max_retries\":\"0\"", test_late_answer},
};

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    for (size_t i = 0; *mode && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(mode, modes[i].name) == 0) {
            ocikms_seal *seal = init_seal_with(modes[i].extra_keys);
            modes[i].run(seal);
            ocikms_seal_free(seal);
            printf("%s: %d passed, %d failed\n", mode, checks - failures, failures);
            return failures ? 1 : 0;
        }
    }
    if (*mode) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    test_version_and_names();
    test_null_and_bad_inputs_without_a_seal();
    test_config_values_that_used_to_overflow();
    test_service_error_details();
    test_log_callback();
    test_init_with_opts();
    ocikms_seal *seal = init_seal();
    test_seal_operations(seal);
    test_call_opts_layouts(seal);
    test_boolean_fields_and_huge_timeouts(seal);
    test_threads(seal);
    ocikms_seal_free(seal);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
