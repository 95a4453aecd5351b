// Package proc reads the CPU time (getrusage, /proc/<pid>/stat) and resident memory
// (/proc/<pid>/status) of this process and of the processes it measures alongside (the emulator,
// the OpenBao plugin).
package proc

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// CPUTime is the user+system CPU time of the whole process (all threads, Go and Rust alike).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPUMetric is the Go runtime's estimate of the CPU its garbage collector has used.
const gcCPUMetric = "/cpu/classes/gc/total:cpu-seconds"

// GCCPUTime is the Go runtime's estimate of the CPU time its garbage collector has used in this
// process so far (mark assists, background and idle mark workers, and pauses counted as their
// duration × GOMAXPROCS: an overestimate, which the runtime's documentation says to compare only
// with its other estimates). The runtime updates it when a GC cycle ends, so a delta over a phase
// counts the cycles that ended in it, whole.
func GCCPUTime() time.Duration {
	sample := []metrics.Sample{{Name: gcCPUMetric}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(sample[0].Value.Float64() * float64(time.Second))
}

// Memory is the resident set of this process, in KiB.
type Memory struct {
	RSSKiB  int64 // VmRSS: resident now
	PeakKiB int64 // VmHWM: the high-water mark since the process started
}

// ReadMemory reads VmRSS and VmHWM from /proc/self/status.
func ReadMemory() (Memory, error) {
	return readMemory("/proc/self/status")
}

// ReadProcessMemory reads another process's VmRSS and VmHWM from /proc/<pid>/status.
func ReadProcessMemory(pid int) (Memory, error) {
	return readMemory(fmt.Sprintf("/proc/%d/status", pid))
}

// readMemory reads VmRSS and VmHWM from a /proc/<pid>/status file.
func readMemory(path string) (Memory, error) {
	f, err := os.Open(path)
	if err != nil {
		return Memory{}, fmt.Errorf("reading resident memory: %w", err)
	}
	defer f.Close()
	var m Memory
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), ":")
		if !ok {
			continue
		}
		switch name {
		case "VmRSS":
			m.RSSKiB, err = kib(value)
		case "VmHWM":
			m.PeakKiB, err = kib(value)
		}
		if err != nil {
			return Memory{}, fmt.Errorf("%s %s: %w", path, name, err)
		}
	}
	if m.RSSKiB == 0 {
		return Memory{}, fmt.Errorf("%s has no VmRSS line", path)
	}
	return m, scanner.Err()
}

// kib parses a "  1234 kB" value.
func kib(value string) (int64, error) {
	return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
}

// ProcessCPUTime is another process's CPU time so far (user+system, from /proc/<pid>/stat).
func ProcessCPUTime(pid int) (time.Duration, error) {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the ")" that closes the command name start at field 3 (state); utime and
	// stime are fields 14 and 15, in clock ticks.
	closing := strings.LastIndexByte(string(text), ')')
	fields := strings.Fields(string(text[closing+1:]))
	if closing < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	const clockTicksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond, nil
}

// ThreadCPUTime is the calling OS thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID),
// exact to the nanosecond); unlike wall time it does not grow while the thread is preempted.
// Goroutines must call runtime.LockOSThread first.
func ThreadCPUTime() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, fmt.Errorf("reading the thread CPU clock: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
