// SPDX-License-Identifier: MPL-2.0
/*
 * The C ABI's panic boundary, seen from C: a panic inside the library becomes
 * OCIKMS_STATUS_PANIC with an error object, never an abort or an unwind into the caller, and the
 * library keeps working afterwards.
 *
 * `ocikms_debug_force_panic` panics on purpose. It is not part of the release ABI: ocikms.h does
 * not declare it and only a library built with the `debug-panic` feature has it
 * (scripts/build-debug-panic.sh; tests/c/run.sh panic builds and links this test against it).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ocikms.h"

/* Declared here: the header leaves it out on purpose. */
int32_t ocikms_debug_force_panic(ocikms_error **out_err);

int main(void) {
    for (int round = 0; round < 2; round++) {
        ocikms_error *err = NULL;
        int32_t status = ocikms_debug_force_panic(&err);
        CHECK(status == OCIKMS_STATUS_PANIC, "status %d (%s)", status, ocikms_status_name(status));
        CHECK(err != NULL && ocikms_error_code(err) == OCIKMS_STATUS_PANIC, "error object code");
        CHECK(err != NULL && strstr(ocikms_error_message(err), "panic") != NULL, "message %s",
              err ? ocikms_error_message(err) : "(none)");
        ocikms_error_free(err);
    }
    /* NULL out_err: the status alone reports it. */
    CHECK(ocikms_debug_force_panic(NULL) == OCIKMS_STATUS_PANIC, "NULL out_err");
    /* The library still works after caught panics. */
    CHECK(strcmp(ocikms_version(), OCIKMS_VERSION_STRING) == 0, "version after a panic");
    CHECK(ocikms_set_log_level(OCIKMS_LOG_INFO, NULL) == OCIKMS_STATUS_OK, "a call after a panic");
    printf("panic boundary: %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
