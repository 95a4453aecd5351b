// SPDX-License-Identifier: MPL-2.0

package ocikms

// The transport's connection handling under the emulator's connection faults (issue #14 §2),
// through the cgo binding, each test against an emulator of its own:
//   - a pooled connection that went silent (blackhole) is abandoned after attempt_timeout and the
//     call retried on a fresh connection, well before request_timeout;
//   - pooled connections the server closed when idle (close_idle_ms) are pruned, not left in
//     CLOSE_WAIT;
//   - a late unsolicited 408 left on a pooled connection is not read as the next call's answer.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

// TCP states in /proc/net/tcp.
const (
	tcpEstablished = "01"
	tcpCloseWait   = "08"
)

// emulatorPort is the port of the emulator's single listener.
func emulatorPort(t *testing.T, e *emulatortest.Emulator) int {
	t.Helper()
	i := strings.LastIndex(e.CryptoEndpoint, ":")
	port, err := strconv.Atoi(e.CryptoEndpoint[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("no port in %q", e.CryptoEndpoint)
	}
	return port
}

// heldSockets counts the sockets this process holds to remote port in TCP state (from
// /proc/self/net/tcp and tcp6, restricted to the socket inodes among /proc/self/fd).
func heldSockets(t *testing.T, port int, state string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("listing /proc/self/fd: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	count := 0
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		text, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(text), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) <= 9 || f[3] != state || !inodes[f[9]] {
				continue
			}
			i := strings.LastIndex(f[2], ":")
			if remote, err := strconv.ParseInt(f[2][i+1:], 16, 32); err == nil && int(remote) == port {
				count++
			}
		}
	}
	return count
}

func TestTransportAbandonsASilentPooledConnection(t *testing.T) {
	e := ownEmulator(t)
	w := wrapperOn(t, e, map[string]string{"attempt_timeout": "500ms", "request_timeout": "20s"})
	// The first encrypt is answered and leaves its connection pooled; the next request (on that
	// connection) is read and never answered, as over a half-open connection.
	if err := e.SetFaults(`{"rules":[{"route":"encrypt","sequence":[{"kind":"none"},{"kind":"blackhole"}]}]}`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.Encrypt(ctx, []byte("first")); err != nil {
		t.Fatalf("first encrypt: %v", err)
	}
	start := time.Now()
	_, err := w.Encrypt(ctx, []byte("second"))
	took := time.Since(start)
	if err != nil || took > 5*time.Second {
		t.Fatalf("the second encrypt took %s (attempt_timeout 500ms, request_timeout 20s) and returned %v: "+
			"the silent pooled connection was not abandoned after attempt_timeout", took.Round(100*time.Millisecond), err)
	}
	if got := counters(t, e)["encrypt"]["blackhole"]; got != 1 {
		t.Fatalf("the emulator blackholed %d encrypts, want 1", got)
	}
	t.Logf("second encrypt, first attempt blackholed: succeeded after %s", took.Round(time.Millisecond))
}

func TestTransportPrunesPooledConnectionsTheServerClosed(t *testing.T) {
	e := ownEmulator(t)
	w := wrapperOn(t, e, map[string]string{"attempt_timeout": "500ms"})
	port := emulatorPort(t, e)
	// Eight concurrent encrypts, each held 300 ms, so the pool ends up with several connections;
	// the emulator closes every connection idle for 300 ms.
	held := strings.TrimSuffix(strings.Repeat(`{"kind":"delay","ms":300},`, 8), ",")
	if err := e.SetFaults(`{"close_idle_ms":300,"rules":[{"route":"encrypt","sequence":[` + held + `]}]}`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = w.Encrypt(context.Background(), []byte(fmt.Sprint(i)))
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent encrypt %d: %v", i, err)
		}
	}
	open := heldSockets(t, port, tcpEstablished)
	if open < 4 {
		t.Fatalf("only %d connections to the emulator after 8 concurrent calls", open)
	}

	// Every pooled connection is closed by the emulator; new ones are kept from now on.
	time.Sleep(time.Second)
	if err := e.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Encrypt(context.Background(), []byte("after the idle close")); err != nil {
		t.Fatalf("the encrypt after the idle close: %v", err)
	}
	if dead := heldSockets(t, port, tcpCloseWait); dead != 0 {
		t.Fatalf("after a call, this process still holds %d connections to the emulator in CLOSE_WAIT "+
			"(of the %d open before the idle close): dead idle connections were not pruned", dead, open)
	}
}

func TestTransportDoesNotReadALateAnswerAsTheNextOne(t *testing.T) {
	e := ownEmulator(t)
	// One attempt per call: reading the stale 408 cannot be hidden by a retry.
	w := wrapperOn(t, e, map[string]string{"attempt_timeout": "500ms", "request_timeout": "20s", "max_retries": "0"})
	if err := e.SetFaults(`{"rules":[{"route":"encrypt","sequence":[{"kind":"late_answer","ms":100}]}]}`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.Encrypt(ctx, []byte("first")); err != nil {
		t.Fatalf("first encrypt: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); counters(t, e)["encrypt"]["late_answer"] == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the emulator never sent the late 408")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := w.Encrypt(ctx, []byte("second")); err != nil {
		t.Fatalf("the encrypt after the late 408 failed (%v): the stale 408 left on the pooled connection "+
			"was read as its answer", err)
	}
}
