// SPDX-License-Identifier: MPL-2.0

package ocikms

/*
#include <stdint.h>
*/
import "C"

import "unsafe"

// ocikmsGoLog receives the library's log lines (through the trampoline in log.go).
//
//export ocikmsGoLog
func ocikmsGoLog(level C.int32_t, message *C.char, _ unsafe.Pointer) {
	forwardLog(int32(level), C.GoString(message))
}
