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
	"runtime"
	"sync/atomic"
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
		token := idleTokens.get()
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
			if stop() {
				idleTokens.put(token) // never cancelled: as good as new
				return
			}
			<-fired // the callback started: let it finish before the token is freed
			C.ocikms_cancel_token_free(token)
		}()
	}

	yieldNowAndThen()
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

// lastYield is when a call last yielded the processor (Unix nanoseconds).
var lastYield atomic.Int64

// yieldNowAndThen lets the scheduler run (runtime.Gosched) at most once per millisecond across
// all calls. A goroutine that makes long cgo calls back to back without ever being rescheduled
// (a rewrap or migration loop, a benchmark) looks to the Go scheduler as if it had run for over
// 10 ms: sysmon then takes its P away during every call, waking another thread and itself each
// time. Measured on a 2-CPU VM with go1.26 (a cgo call of 200 µs CPU + 50 µs sleep): 255 µs CPU
// per call without yielding, 227 µs yielding before every call (Gosched wakes an idle thread),
// 222 µs yielding at most once per millisecond — the same as the C function alone (219 µs).
func yieldNowAndThen() {
	now := time.Now().UnixNano()
	last := lastYield.Load()
	if now-last > int64(time.Millisecond) && lastYield.CompareAndSwap(last, now) {
		runtime.Gosched()
	}
}

// tokenPool keeps cancellation tokens that were never cancelled, for reuse by later calls: a
// token costs two cgo calls (create, free) and an allocation, on every call with a cancellable
// context (all of Vault's).
type tokenPool struct {
	idle chan *cancelToken
}

// cancelToken is the library's cancellation token.
type cancelToken = C.ocikms_cancel_token

// idleTokens is the process's pool; it keeps at most 256 idle tokens.
var idleTokens = tokenPool{idle: make(chan *cancelToken, 256)}

// get returns an idle token, or a new one (nil if the library cannot create one).
func (p tokenPool) get() *cancelToken {
	select {
	case token := <-p.idle:
		return token
	default:
		return C.ocikms_cancel_token_new()
	}
}

// put keeps an uncancelled token for reuse, or frees it when the pool is full.
func (p tokenPool) put(token *cancelToken) {
	select {
	case p.idle <- token:
	default:
		C.ocikms_cancel_token_free(token)
	}
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
