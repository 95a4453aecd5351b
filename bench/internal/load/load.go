// Package load runs one operation in a closed loop at a fixed concurrency and measures it: per-op
// latency, throughput, and the process CPU time the measured phase consumed.
package load

import (
	"sync"
	"time"

	"github.com/ocikms/ocikms/bench/internal/proc"
)

// Op is one operation; worker is the goroutine index (0..concurrency-1).
type Op func(worker int) error

// Result is one measured phase.
type Result struct {
	LatenciesUs []float64     // one per completed op, in microseconds
	Wall        time.Duration // the measured phase, first start to last finish
	CPU         time.Duration // process CPU time (user+system, all threads) during the phase
}

// Ops is the number of completed operations.
func (r Result) Ops() int { return len(r.LatenciesUs) }

// Phase runs op in concurrency closed loops for duration (each loop at least once) and measures
// it. Any error stops the run and is returned. Run a short phase first to warm up (connections).
func Phase(concurrency int, duration time.Duration, op Op) (Result, error) {
	perWorker := make([][]float64, concurrency)
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	cpu0 := proc.CPUTime()
	start := time.Now()
	deadline := start.Add(duration)
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]float64, 0, 1024)
			for {
				t0 := time.Now()
				if err := op(w); err != nil {
					errs[w] = err
					break
				}
				t1 := time.Now()
				samples = append(samples, float64(t1.Sub(t0).Nanoseconds())/1e3)
				if !t1.Before(deadline) {
					break
				}
			}
			perWorker[w] = samples
		}()
	}
	wg.Wait()
	res := Result{Wall: time.Since(start), CPU: proc.CPUTime() - cpu0}
	for w := range concurrency {
		if errs[w] != nil {
			return Result{}, errs[w]
		}
		res.LatenciesUs = append(res.LatenciesUs, perWorker[w]...)
	}
	return res, nil
}
