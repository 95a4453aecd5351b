// SPDX-License-Identifier: MPL-2.0

package adapter

import (
	"errors"
	"strings"
	"testing"

	ocikms "github.com/ocikms/ocikms/go-bindings"
)

func TestDecryptErrorMarksOnlyAuthenticationFailures(t *testing.T) {
	failed := &ocikms.Error{Code: ocikms.CodeDecryptFailed, Message: "envelope decrypt: AES-256-GCM authentication failed"}
	err := decryptError(failed)
	if !strings.HasSuffix(err.Error(), ": cipher: message authentication failed") {
		t.Errorf("decrypt_failed reads %q: OpenBao would not see an invalid key", err)
	}
	if !strings.HasPrefix(err.Error(), failed.Error()) {
		t.Errorf("decrypt_failed reads %q: the library's explanation is lost", err)
	}
	var e *ocikms.Error
	if !errors.As(err, &e) || e != failed {
		t.Errorf("the library's *Error is no longer reachable with errors.As")
	}

	for _, other := range []error{
		&ocikms.Error{Code: ocikms.CodeMalformedBlob, Message: "not a BlobInfo"},
		&ocikms.Error{Code: ocikms.CodeNotAuthorizedOrNotFound, Message: "key not found"},
		errors.New("plain error"),
	} {
		if got := decryptError(other); got != other {
			t.Errorf("decryptError(%q) = %q, want it unchanged", other, got)
		}
	}
}
