// Package scenario defines the benchmark scenarios and runs them all for one implementation in
// one (worker) process, so that the process's CPU time and memory belong to that implementation.
package scenario

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"

	"github.com/ocikms/ocikms/bench/internal/impls"
	"github.com/ocikms/ocikms/bench/internal/load"
	"github.com/ocikms/ocikms/bench/internal/proc"
)

// Kind is what a scenario's operation does.
type Kind string

// The scenario kinds.
const (
	Encrypt Kind = "encrypt"
	Decrypt Kind = "decrypt"
	Init    Kind = "init"
)

// Scenario is one measured workload.
type Scenario struct {
	Name        string
	Kind        Kind
	Size        int // plaintext bytes (encrypt, decrypt)
	Concurrency int
}

// InitName is the name of the seal-init scenario.
const InitName = "seal_init"

// All is every scenario, in report order. Seal init always runs first in a fresh process.
var All = []Scenario{
	{Name: InitName, Kind: Init, Concurrency: 1},
	{Name: "encrypt_32B_c1", Kind: Encrypt, Size: 32, Concurrency: 1},
	{Name: "decrypt_32B_c1", Kind: Decrypt, Size: 32, Concurrency: 1},
	{Name: "encrypt_32B_c32", Kind: Encrypt, Size: 32, Concurrency: 32},
	{Name: "decrypt_32B_c32", Kind: Decrypt, Size: 32, Concurrency: 32},
	{Name: "encrypt_64KiB_c1", Kind: Encrypt, Size: 64 << 10, Concurrency: 1},
}

// Settings size one worker's run.
type Settings struct {
	Warmup      time.Duration
	Duration    time.Duration
	InitSamples int    // seal inits timed (the first in a fresh process)
	EmulatorPID int    // to attribute the emulator's CPU time per op (0: not measured)
	Only        string // comma-separated scenario names to run (empty: all), e.g. for profiling one
}

// selected reports whether scenario name is to run under s.Only.
func (s Settings) selected(name string) bool {
	return s.Only == "" || slices.Contains(strings.Split(s.Only, ","), name)
}

// Measurement is one scenario measured in one worker.
type Measurement struct {
	Name         string    `json:"name"`
	LatenciesUs  []float64 `json:"latencies_us"`
	WallS        float64   `json:"wall_s"`
	CPUUs        float64   `json:"cpu_us"`          // this process, all threads
	EmulatorCPUs float64   `json:"emulator_cpu_us"` // the emulator process in the same phase
	RSSKiB       int64     `json:"rss_kib"`         // resident after the phase; for init: added by load + first init
	// The Go runtime's estimate of its garbage collector's CPU in the phase (runtime/metrics
	// /cpu/classes/gc/total: mark assists, background and idle mark workers, pauses counted as
	// pause × GOMAXPROCS, so an overestimate); part of CPUUs. Not measured for seal_init.
	GCCPUUs float64 `json:"gc_cpu_us,omitempty"`
	// The plugin implementation's own process (0 for the in-process implementations): its CPU in
	// the same phase (for init: each started plugin process's CPU up to its SetConfig's end) and
	// its resident memory after the phase (for init: after the first SetConfig).
	PluginCPUUs  float64 `json:"plugin_cpu_us,omitempty"`
	PluginRSSKiB int64   `json:"plugin_rss_kib,omitempty"`
}

// WorkerReport is everything one worker measured.
type WorkerReport struct {
	Impl         string        `json:"impl"`
	Measurements []Measurement `json:"measurements"`
	// SignFloorUs is the signature floor the parent measured just before starting this worker
	// (0: not measured), so its CPU per op is judged against the machine's speed at the time.
	SignFloorUs float64 `json:"sign_floor_us,omitempty"`
}

// RunAll measures every scenario for impl against target, seal init first.
func RunAll(impl string, target impls.Target, s Settings) (*WorkerReport, error) {
	ctx, cancel := context.WithCancel(context.Background()) // cancellable, as Vault's contexts are
	defer cancel()
	initM, w, err := measureInit(ctx, impl, target, s)
	if err != nil {
		return nil, err
	}
	defer impls.Close(ctx, w)
	report := &WorkerReport{Impl: impl, Measurements: []Measurement{initM}}
	for _, sc := range All {
		if sc.Kind == Init || !s.selected(sc.Name) {
			continue
		}
		m, err := measureOp(ctx, w, sc, s)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", impl, sc.Name, err)
		}
		report.Measurements = append(report.Measurements, m)
	}
	return report, nil
}

// measureInit times InitSamples seal inits (new wrapper + SetConfig, which validates the key with
// one encrypt; for the plugin, the plugin process is started first) and the resident memory the
// first one adds to this fresh process (plus the plugin process's). It returns the first wrapper,
// configured, for the other scenarios.
func measureInit(ctx context.Context, impl string, target impls.Target, s Settings) (Measurement, wrapping.Wrapper, error) {
	m := Measurement{Name: InitName}
	before, err := proc.ReadMemory()
	if err != nil {
		return m, nil, err
	}
	emu0 := processCPU(s.EmulatorPID)
	cpu0 := proc.CPUTime()
	start := time.Now()
	var first wrapping.Wrapper
	for i := range max(s.InitSamples, 1) {
		t0 := time.Now()
		w, err := impls.New(impl, target)
		if err != nil {
			return m, nil, err
		}
		if err := impls.SetConfig(ctx, impl, w, target); err != nil {
			return m, nil, err
		}
		m.LatenciesUs = append(m.LatenciesUs, float64(time.Since(t0).Nanoseconds())/1e3)
		pid := impls.ChildPID(w) // a plugin process started for this init: all its CPU so far
		m.PluginCPUUs += float64(processCPU(pid).Nanoseconds()) / 1e3
		if i == 0 {
			first = w
			after, err := proc.ReadMemory()
			if err != nil {
				return m, nil, err
			}
			m.RSSKiB = after.RSSKiB - before.RSSKiB
			m.PluginRSSKiB = processRSS(pid)
		} else {
			impls.Close(ctx, w)
		}
	}
	m.WallS = time.Since(start).Seconds()
	m.CPUUs = float64((proc.CPUTime() - cpu0).Nanoseconds()) / 1e3
	m.EmulatorCPUs = float64((processCPU(s.EmulatorPID) - emu0).Nanoseconds()) / 1e3
	return m, first, nil
}

// measureOp runs an encrypt or decrypt scenario on the configured wrapper w.
func measureOp(ctx context.Context, w wrapping.Wrapper, sc Scenario, s Settings) (Measurement, error) {
	plaintext := make([]byte, sc.Size)
	if _, err := rand.Read(plaintext); err != nil {
		return Measurement{}, err
	}
	var op load.Op
	switch sc.Kind {
	case Encrypt:
		op = func(int) error {
			_, err := w.Encrypt(ctx, plaintext)
			return err
		}
	case Decrypt:
		blob, err := w.Encrypt(ctx, plaintext)
		if err != nil {
			return Measurement{}, fmt.Errorf("encrypting the blob to decrypt: %w", err)
		}
		op = func(int) error {
			_, err := w.Decrypt(ctx, blob)
			return err
		}
	default:
		return Measurement{}, fmt.Errorf("scenario kind %q is not an operation", sc.Kind)
	}
	if _, err := load.Phase(sc.Concurrency, s.Warmup, op); err != nil {
		return Measurement{}, fmt.Errorf("warm-up: %w", err)
	}
	pluginPID := impls.ChildPID(w)
	emu0, plugin0, gc0 := processCPU(s.EmulatorPID), processCPU(pluginPID), proc.GCCPUTime()
	res, err := load.Phase(sc.Concurrency, s.Duration, op)
	if err != nil {
		return Measurement{}, err
	}
	emu, plugin, gc := processCPU(s.EmulatorPID)-emu0, processCPU(pluginPID)-plugin0, proc.GCCPUTime()-gc0
	mem, err := proc.ReadMemory()
	if err != nil {
		return Measurement{}, err
	}
	return Measurement{
		Name:         sc.Name,
		LatenciesUs:  res.LatenciesUs,
		WallS:        res.Wall.Seconds(),
		CPUUs:        float64(res.CPU.Nanoseconds()) / 1e3,
		EmulatorCPUs: float64(emu.Nanoseconds()) / 1e3,
		RSSKiB:       mem.RSSKiB,
		PluginCPUUs:  float64(plugin.Nanoseconds()) / 1e3,
		PluginRSSKiB: processRSS(pluginPID),
		GCCPUUs:      float64(gc.Nanoseconds()) / 1e3,
	}, nil
}

// processCPU is another process's (the emulator's, the plugin's) CPU time so far, or 0 when not
// measured (pid 0).
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	d, err := proc.ProcessCPUTime(pid)
	if err != nil {
		return 0
	}
	return d
}

// processRSS is another process's resident memory in KiB, or 0 when not measured (pid 0).
func processRSS(pid int) int64 {
	if pid == 0 {
		return 0
	}
	m, err := proc.ReadProcessMemory(pid)
	if err != nil {
		return 0
	}
	return m.RSSKiB
}
