// SPDX-License-Identifier: MPL-2.0
/* The C tests' CHECK(cond, printf-style message...): counts every check, and prints and counts
 * each failure (thread-safe). A test program ends with
 * `printf("%d passed, %d failed\n", checks - failures, failures); return failures ? 1 : 0;`. */
#ifndef OCIKMS_TESTS_CHECK_H
#define OCIKMS_TESTS_CHECK_H

#include <stdatomic.h>
#include <stdio.h>

static atomic_int failures = 0;
static atomic_int checks = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

#endif
