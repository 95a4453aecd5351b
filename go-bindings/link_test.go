// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestLinkMode proves how the library was linked: by default the static archive (no
// libocikms.so mapped into the process), with the ocikms_shared tag the shared library.
func TestLinkMode(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/maps")
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	mapped := strings.Contains(string(maps), "libocikms.so")
	if mapped != linkedShared {
		t.Fatalf("libocikms.so mapped = %v, want %v (linkedShared)", mapped, linkedShared)
	}
}
