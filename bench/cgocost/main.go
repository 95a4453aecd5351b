// Command cgocost measures the Go runtime's CPU cost around long cgo calls, the effect behind the
// Go binding's throttled yield (go-bindings/call.go): it calls a C function that spins for -spin
// and then sleeps for -sleep, -n times from one goroutine, and prints the process CPU time per call
// (all threads, getrusage) next to the time the C function itself uses.
//
//	go run ./cgocost                   # no yield
//	go run ./cgocost -yield every      # runtime.Gosched() before every call
//	go run ./cgocost -yield throttled  # at most once per millisecond (what the binding does)
package main

/*
#include <time.h>
#include <unistd.h>

static long long elapsed_us(const struct timespec *a, const struct timespec *b) {
	return (b->tv_sec - a->tv_sec) * 1000000LL + (b->tv_nsec - a->tv_nsec) / 1000;
}

static void work(long spin_us, long sleep_us) {
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (elapsed_us(&start, &now) < spin_us);
	if (sleep_us > 0) {
		usleep(sleep_us);
	}
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

func main() {
	spin := flag.Duration("spin", 200*time.Microsecond, "CPU time the C function spins per call")
	sleep := flag.Duration("sleep", 50*time.Microsecond, "time the C function then sleeps (a network wait)")
	n := flag.Int("n", 5000, "calls")
	yield := flag.String("yield", "none", "none, every, or throttled (at most once per millisecond)")
	flag.Parse()

	var lastYield time.Time
	cpu0, start := processCPU(), time.Now()
	for i := 0; i < *n; i++ {
		switch *yield {
		case "every":
			runtime.Gosched()
		case "throttled":
			if now := time.Now(); now.Sub(lastYield) > time.Millisecond {
				lastYield = now
				runtime.Gosched()
			}
		case "none":
		default:
			fmt.Fprintln(os.Stderr, "-yield must be none, every or throttled")
			os.Exit(2)
		}
		C.work(C.long(spin.Microseconds()), C.long(sleep.Microseconds()))
	}
	perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(*n) }
	fmt.Printf("yield=%s spin=%v sleep=%v: CPU %.1f µs/call, wall %.1f µs/call (the C function spins %.0f µs)\n",
		*yield, *spin, *sleep, perCall(processCPU()-cpu0), perCall(time.Since(start)), float64(spin.Microseconds()))
}

// processCPU is the user + system CPU time of the whole process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
