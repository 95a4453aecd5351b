// SPDX-License-Identifier: MPL-2.0
/* A program built against an installed ocikms with nothing but pkg-config (tests/c/install.sh):
 * the header and the library it finds must agree on the version, and a call must work. */
#include <stdio.h>
#include <string.h>

#include <ocikms.h>

int main(void) {
    if (strcmp(ocikms_version(), OCIKMS_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, header %s\n", ocikms_version(), OCIKMS_VERSION_STRING);
        return 1;
    }
    ocikms_seal *seal = NULL;
    ocikms_error *err = NULL;
    int32_t status = ocikms_seal_init("{}", &seal, &err);
    if (status != OCIKMS_STATUS_CONFIG || seal != NULL || err == NULL) {
        fprintf(stderr, "ocikms_seal_init(\"{}\") gave status %d, expected CONFIG\n", status);
        return 1;
    }
    printf("installed ocikms %s: %s\n", ocikms_version(), ocikms_error_message(err));
    ocikms_error_free(err);
    return 0;
}
