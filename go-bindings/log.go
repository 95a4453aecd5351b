// SPDX-License-Identifier: MPL-2.0

package ocikms

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "ocikms.h"

extern void ocikmsGoLog(int32_t level, char *message, void *user);

static void ocikms_go_log_trampoline(int32_t level, const char *message, void *user) {
	ocikmsGoLog(level, (char *)message, user);
}

static void ocikms_go_install_log(void) {
	ocikms_set_log_callback(ocikms_go_log_trampoline, NULL);
}
*/
import "C"

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

var (
	logInstall sync.Once
	logTarget  atomic.Pointer[hclog.Logger]
)

// useLogger makes logger the destination of the library's log lines (process-wide) and sets the
// library's level to the logger's.
func useLogger(logger hclog.Logger) {
	logTarget.Store(&logger)
	logInstall.Do(func() { C.ocikms_go_install_log() })
	C.ocikms_set_log_level(C.int32_t(libraryLevel(logger)), nil)
}

// libraryLevel maps an hclog level to the library's OCIKMS_LOG_* level.
func libraryLevel(logger hclog.Logger) int32 {
	switch {
	case logger.IsTrace():
		return C.OCIKMS_LOG_TRACE
	case logger.IsDebug():
		return C.OCIKMS_LOG_DEBUG
	case logger.IsInfo():
		return C.OCIKMS_LOG_INFO
	case logger.IsWarn():
		return C.OCIKMS_LOG_WARN
	default:
		return C.OCIKMS_LOG_ERROR
	}
}

// forwardLog writes one library line to the current logger. It runs on library threads and must
// never panic into C.
func forwardLog(level int32, message string) {
	defer func() { _ = recover() }()
	target := logTarget.Load()
	if target == nil {
		return
	}
	logger := *target
	switch level {
	case C.OCIKMS_LOG_ERROR:
		logger.Error(message)
	case C.OCIKMS_LOG_WARN:
		logger.Warn(message)
	case C.OCIKMS_LOG_INFO:
		logger.Info(message)
	case C.OCIKMS_LOG_DEBUG:
		logger.Debug(message)
	default:
		logger.Trace(message)
	}
}
