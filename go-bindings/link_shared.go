// SPDX-License-Identifier: MPL-2.0

//go:build ocikms_shared

package ocikms

// With the build tag ocikms_shared: link libocikms.so from the repository's target/release and
// record that directory as the run-time search path (move the .so and set LD_LIBRARY_PATH to
// deploy it elsewhere).

/*
#cgo LDFLAGS: -L${SRCDIR}/../target/release -locikms -Wl,-rpath,${SRCDIR}/../target/release
*/
import "C"
