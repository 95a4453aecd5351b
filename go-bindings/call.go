// SPDX-License-Identifier: MPL-2.0

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
// call's timeout, and context.AfterFunc callbacks cancel the call's token when ctx is cancelled
// or ending ends (the seal handle's lifetime; context.Background() for none), so an in-flight
// call returns promptly. No Go pointer is handed to C: AAD is copied to C memory.
func callWithContext(ctx, ending context.Context, spec callSpec, call cCall) error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	if ending.Err() != nil {
		return finalizedError(newError(CodeCancelled, "the call was not started"), ending)
	}
	opts := C.ocikms_call_opts{struct_size: C.size_t(unsafe.Sizeof(C.ocikms_call_opts{}))}
	opts.without_envelope = cFlag(spec.withoutEnvelope)
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
		ms, ok := timeoutMillis(time.Until(deadline))
		if !ok {
			return contextError(context.DeadlineExceeded)
		}
		opts.timeout_ms = ms
	}
	token, release, err := cancelWhenDone(ctx, ending)
	if err != nil {
		return err
	}
	if token != nil {
		opts.cancel = token
		defer release()
	}

	yieldNowAndThen()
	var cerr *C.ocikms_error
	status := call(&opts, &cerr)
	if status == C.OCIKMS_STATUS_OK {
		return nil
	}
	return callError(takeError(status, cerr), ctx, ending, hasDeadline && !time.Now().Before(deadline))
}

// callError relates a failed call's error to what ended it: ctx (its error becomes the cause),
// ctx's deadline (deadlinePassed), or the end of the handle's lifetime (Finalize).
func callError(err *Error, ctx, ending context.Context, deadlinePassed bool) *Error {
	switch {
	case (err.Code == CodeCancelled || err.Code == CodeTimeout) && ctx.Err() != nil:
		err.cause = ctx.Err()
		if errors.Is(err.cause, context.DeadlineExceeded) {
			// The callback cancelled the call because ctx's deadline passed.
			err.Code = CodeTimeout
		}
	case err.Code == CodeTimeout && deadlinePassed:
		// ctx's own timer may not have fired yet: the deadline that passed is ctx's.
		err.cause = context.DeadlineExceeded
	case err.Code == CodeCancelled && ending.Err() != nil:
		return finalizedError(err, ending)
	}
	return err
}

// finalizedError marks err as caused by the end of the handle's lifetime (ErrFinalized).
func finalizedError(err *Error, ending context.Context) *Error {
	err.cause = context.Cause(ending)
	err.Message += ": " + err.cause.Error()
	return err
}

// timeoutMillis is the library's timeout_ms for a deadline `left` from now: rounded up (and one
// more) so the library's timer fires at or after the deadline. ok is false when the deadline has
// already passed (never a negative number wrapped into a huge unsigned timeout).
func timeoutMillis(left time.Duration) (ms C.uint64_t, ok bool) {
	if left <= 0 {
		return 0, false
	}
	return C.uint64_t(left/time.Millisecond + 1), true
}

// cFlag is a boolean field of the C ABI: a uint8_t holding 0 or 1.
func cFlag(b bool) C.uint8_t {
	if b {
		return 1
	}
	return 0
}

// cancelWhenDone gives the call a cancellation token that is cancelled as soon as ctx or ending
// is done; it returns no token when neither can end. release, deferred until the call returned,
// waits for a cancellation callback that started, then pools the token when it was never
// cancelled, else frees it.
func cancelWhenDone(ctx, ending context.Context) (*cancelToken, func(), error) {
	if ctx.Done() == nil && ending.Done() == nil {
		return nil, nil, nil
	}
	token := idleTokens.get()
	if token == nil {
		return nil, nil, newError(CodeInternal, "cannot create a cancellation token")
	}
	stopCtx := cancelOnDone(ctx, token)
	stopEnding := cancelOnDone(ending, token)
	release := func() {
		cancelledByCtx := stopCtx()
		if cancelledByEnding := stopEnding(); cancelledByCtx || cancelledByEnding {
			C.ocikms_cancel_token_free(token)
			return
		}
		idleTokens.put(token) // never cancelled: as good as new
	}
	return token, release, nil
}

// cancelOnDone cancels token when c is done (nothing for a context that is never done). The
// returned stop unregisters it and reports whether the token was cancelled, after waiting for
// a callback that already started (so the token is not freed under it).
func cancelOnDone(c context.Context, token *cancelToken) (stop func() (cancelled bool)) {
	if c.Done() == nil {
		return func() bool { return false }
	}
	// context.AfterFunc registers a callback instead of starting a goroutine per call.
	fired := make(chan struct{})
	unregister := context.AfterFunc(c, func() {
		C.ocikms_cancel_token_cancel(token)
		close(fired)
	})
	return func() bool {
		if unregister() {
			return false
		}
		<-fired
		return true
	}
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
