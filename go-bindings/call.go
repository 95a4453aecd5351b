package ocikms

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "ocikms.h"
*/
import "C"

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// callSpec is what a call needs besides its own arguments.
type callSpec struct {
	aad             []byte
	withoutEnvelope bool
}

// cCall performs one C call given the prepared options and the error out-parameter.
type cCall func(opts *C.ocikms_call_opts, cerr **C.ocikms_error) C.int32_t

// callWithContext runs call with options built from ctx and spec: the ctx deadline becomes the
// call's timeout, and a context.AfterFunc callback cancels the call's token when ctx is
// cancelled, so an in-flight call returns promptly. No Go pointer is handed to C: AAD is copied
// to C memory.
func callWithContext(ctx context.Context, spec callSpec, call cCall) error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	opts := C.ocikms_call_opts{struct_size: C.size_t(unsafe.Sizeof(C.ocikms_call_opts{}))}
	opts.without_envelope = C.bool(spec.withoutEnvelope)
	if spec.aad != nil {
		opts.aad_len = C.size_t(len(spec.aad))
		if len(spec.aad) > 0 {
			aad := C.CBytes(spec.aad)
			defer C.free(aad)
			opts.aad = (*C.uint8_t)(aad)
		}
	}
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		// Rounded up (and one more) so the library's timer fires at or after ctx's deadline.
		opts.timeout_ms = C.uint64_t(time.Until(deadline)/time.Millisecond + 1)
	}
	if ctx.Done() != nil {
		token := C.ocikms_cancel_token_new()
		if token == nil {
			return newError(CodeInternal, "cannot create a cancellation token")
		}
		opts.cancel = token
		// context.AfterFunc registers a callback instead of starting a goroutine per call.
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			C.ocikms_cancel_token_cancel(token)
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // the callback started: let it finish before the token is freed
			}
			C.ocikms_cancel_token_free(token)
		}()
	}

	var cerr *C.ocikms_error
	status := call(&opts, &cerr)
	if status == C.OCIKMS_STATUS_OK {
		return nil
	}
	err := takeError(status, cerr)
	switch {
	case (err.Code == CodeCancelled || err.Code == CodeTimeout) && ctx.Err() != nil:
		err.cause = ctx.Err()
		if errors.Is(err.cause, context.DeadlineExceeded) {
			// The callback cancelled the call because ctx's deadline passed.
			err.Code = CodeTimeout
		}
	case err.Code == CodeTimeout && hasDeadline && !time.Now().Before(deadline):
		// ctx's own timer may not have fired yet: the deadline that passed is ctx's.
		err.cause = context.DeadlineExceeded
	}
	return err
}

// contextError reports a context that ended before the call started.
func contextError(err error) *Error {
	code := CodeCancelled
	if errors.Is(err, context.DeadlineExceeded) {
		code = CodeTimeout
	}
	e := newError(code, "the call was not started: %v", err)
	e.cause = err
	return e
}

// bytesArg returns a C view of b for the duration of a call (NULL for an empty slice); the
// caller keeps b alive with runtime.KeepAlive after the call.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// takeBuffer copies a library buffer into Go memory and frees (zeroes) the C copy.
func takeBuffer(buf *C.ocikms_buffer) []byte {
	var out []byte
	useBuffer(buf, func(view []byte) error {
		out = make([]byte, len(view))
		copy(out, view)
		return nil
	})
	return out
}

// useBuffer hands use a view of a library buffer (no copy), then frees (zeroes) the C buffer:
// use must not keep the view or anything that aliases it.
func useBuffer(buf *C.ocikms_buffer, use func(view []byte) error) error {
	defer C.ocikms_buffer_free(buf)
	var view []byte
	if buf.len > 0 {
		view = unsafe.Slice((*byte)(unsafe.Pointer(buf.data)), int(buf.len))
	}
	return use(view)
}

// takeString copies a library string into Go memory and frees the C copy.
func takeString(s *C.char) string {
	defer C.ocikms_string_free(s)
	return C.GoString(s)
}
