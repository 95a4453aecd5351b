// SPDX-License-Identifier: MPL-2.0

package ocikms

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "ocikms.h"
*/
import "C"

import "fmt"

// Code is a stable ocikms status code: the C ABI's OCIKMS_STATUS_* numbers (never renumbered).
type Code int32

// The status codes (see include/ocikms.h for their meaning).
const (
	CodeOK                      Code = C.OCIKMS_STATUS_OK
	CodeInvalidArgument         Code = C.OCIKMS_STATUS_INVALID_ARGUMENT
	CodeConfig                  Code = C.OCIKMS_STATUS_CONFIG
	CodeCredentials             Code = C.OCIKMS_STATUS_CREDENTIALS
	CodeNotAuthenticated        Code = C.OCIKMS_STATUS_NOT_AUTHENTICATED
	CodeNotAuthorizedOrNotFound Code = C.OCIKMS_STATUS_NOT_AUTHORIZED_OR_NOT_FOUND
	CodeIncorrectState          Code = C.OCIKMS_STATUS_INCORRECT_STATE
	CodeThrottled               Code = C.OCIKMS_STATUS_THROTTLED
	CodeServiceUnavailable      Code = C.OCIKMS_STATUS_SERVICE_UNAVAILABLE
	CodeServiceError            Code = C.OCIKMS_STATUS_SERVICE_ERROR
	CodeNetwork                 Code = C.OCIKMS_STATUS_NETWORK
	CodeTimeout                 Code = C.OCIKMS_STATUS_TIMEOUT
	CodeCancelled               Code = C.OCIKMS_STATUS_CANCELLED
	CodeNotInitialized          Code = C.OCIKMS_STATUS_NOT_INITIALIZED
	CodeDecryptFailed           Code = C.OCIKMS_STATUS_DECRYPT_FAILED
	CodeMalformedBlob           Code = C.OCIKMS_STATUS_MALFORMED_BLOB
	CodeUnsupportedMechanism    Code = C.OCIKMS_STATUS_UNSUPPORTED_MECHANISM
	CodePanic                   Code = C.OCIKMS_STATUS_PANIC
	CodeInternal                Code = C.OCIKMS_STATUS_INTERNAL
)

// String returns the code's stable name ("not_authorized_or_not_found", ...).
func (c Code) String() string {
	return C.GoString(C.ocikms_status_name(C.int32_t(c)))
}

// Error is the error type of every failed call into the library. Use errors.As to read it.
type Error struct {
	// Code is the stable status code.
	Code Code
	// Message says what failed, with what, and what to do (never secrets).
	Message string
	// OCICode is the OCI error code when OCI answered (e.g. "NotAuthorizedOrNotFound"), else "".
	OCICode string
	// HTTPStatus is the HTTP status of OCI's error response, 0 when OCI did not answer.
	HTTPStatus int
	// OpcRequestID is the opc-request-id of the failed OCI request ("" if none): quote it to
	// Oracle support.
	OpcRequestID string
	// Retryable tells whether the same call may succeed later.
	Retryable bool

	cause error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("ocikms: %s (%s)", e.Message, e.Code)
}

// Unwrap returns ctx.Err() for calls ended by their context (CodeCancelled, CodeTimeout), so
// errors.Is(err, context.Canceled) and errors.Is(err, context.DeadlineExceeded) work.
func (e *Error) Unwrap() error {
	return e.cause
}

// newError builds an *Error raised by the Go side itself (no C call involved).
func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// takeError converts and frees a C error (cerr may be NULL if the library could not allocate it).
func takeError(status C.int32_t, cerr *C.ocikms_error) *Error {
	if cerr == nil {
		return &Error{Code: Code(status), Message: "the library reported " + Code(status).String()}
	}
	defer C.ocikms_error_free(cerr)
	return &Error{
		Code:         Code(C.ocikms_error_code(cerr)),
		Message:      C.GoString(C.ocikms_error_message(cerr)),
		OCICode:      C.GoString(C.ocikms_error_oci_code(cerr)),
		HTTPStatus:   int(C.ocikms_error_http_status(cerr)),
		OpcRequestID: C.GoString(C.ocikms_error_opc_request_id(cerr)),
		Retryable:    bool(C.ocikms_error_retryable(cerr)),
	}
}
