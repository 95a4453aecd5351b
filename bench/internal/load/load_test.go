package load

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsEveryOpAndMeasuresLatency(t *testing.T) {
	var calls atomic.Int64
	res, err := Phase(4, 30*time.Millisecond, func(int) error {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops() < 4 || int64(res.Ops()) != calls.Load() {
		t.Fatalf("measured %d ops of %d calls", res.Ops(), calls.Load())
	}
	for _, us := range res.LatenciesUs {
		if us < 1000 {
			t.Fatalf("latency %vµs is shorter than the 1 ms op", us)
		}
	}
	if res.Wall < 30*time.Millisecond {
		t.Fatalf("wall %v shorter than the run", res.Wall)
	}
}

func TestRunStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	if _, err := Phase(2, time.Second, func(int) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}
