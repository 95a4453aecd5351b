// Package report aggregates the workers' measurements into the results (bench/results/latest.json,
// in the shape issue 7 gives) and renders them as markdown with the targets checked.
package report

import (
	"encoding/json"
	"os"

	"github.com/ocikms/ocikms/bench/internal/impls"
	"github.com/ocikms/ocikms/bench/internal/scenario"
	"github.com/ocikms/ocikms/bench/internal/stats"
)

// Figures are one implementation's results in one scenario. For the plugin, CPU per op and RSS
// are the totals of the client process and the plugin process, whose shares are given apart.
type Figures struct {
	OpsPerS    float64 `json:"ops_per_s"`
	P50Us      float64 `json:"p50_us"`
	P99Us      float64 `json:"p99_us"`
	CPUUsPerOp float64 `json:"cpu_us_per_op"`
	RSSMiB     float64 `json:"rss_mib"`
	// The plugin process's share of CPUUsPerOp and RSSMiB (0 for in-process implementations).
	PluginCPUUsPerOp float64 `json:"plugin_cpu_us_per_op,omitempty"`
	PluginRSSMiB     float64 `json:"plugin_rss_mib,omitempty"`
	// CPUPerOpInFloors is the CPU per op in units of the signature floor measured just before
	// each worker: the CPU of all rounds ÷ Σ(ops × that round's floor), so a machine that is
	// slower in one round is judged by its speed in that round (0: no per-worker floors).
	CPUPerOpInFloors float64 `json:"cpu_per_op_in_floors,omitempty"`
	// GCCPUUsPerOp is the Go runtime's estimate of its garbage collector's CPU per op, part of
	// CPUUsPerOp (an overestimate: pauses count × GOMAXPROCS).
	GCCPUUsPerOp float64 `json:"gc_cpu_us_per_op,omitempty"`
	// EmulatorCPUUsPerOp is the emulator's CPU per op in the same phases (markdown only).
	EmulatorCPUUsPerOp float64 `json:"-"`
	Ops                int     `json:"-"`
}

// ScenarioResult is one scenario, every implementation.
type ScenarioResult struct {
	Name     string  `json:"name"`
	Ours     Figures `json:"ours"`
	Official Figures `json:"official"`
	Plugin   Figures `json:"plugin"`
}

// Floors are the two floors measured in the same run. The signature floor is the median of the
// ones measured before each worker when there are any (PerWorkerSignUs), else the run's first.
type Floors struct {
	RSA2048SignUs   float64   `json:"rsa2048_sign_us"`
	EmulatorOpsPerS float64   `json:"emulator_ops_per_s"`
	PerWorkerSignUs []float64 `json:"rsa2048_sign_us_per_worker,omitempty"`
}

// Results is bench/results/latest.json.
type Results struct {
	Scenarios []ScenarioResult `json:"scenarios"`
	Floors    Floors           `json:"floors"`
}

// Aggregate merges the rounds of every worker: latencies pooled, throughput and CPU per op over
// the summed phases, resident memory the median of the rounds.
func Aggregate(workers []*scenario.WorkerReport, floors Floors) *Results {
	res := &Results{Floors: floors}
	for _, w := range workers {
		if w.SignFloorUs > 0 {
			res.Floors.PerWorkerSignUs = append(res.Floors.PerWorkerSignUs, w.SignFloorUs)
		}
	}
	if len(res.Floors.PerWorkerSignUs) > 0 {
		res.Floors.RSA2048SignUs = round(stats.Median(res.Floors.PerWorkerSignUs), 1)
	}
	for _, sc := range scenario.All {
		row := ScenarioResult{Name: sc.Name}
		row.Ours = figures(workers, impls.Ours, sc.Name)
		if sc.Kind == scenario.Init {
			row.Ours.CPUPerOpInFloors = 0 // a seal init is not one request: not judged by the floor
		}
		row.Official = figures(workers, impls.Official, sc.Name)
		row.Plugin = figures(workers, impls.Plugin, sc.Name)
		res.Scenarios = append(res.Scenarios, row)
	}
	return res
}

// figures pools one implementation's measurements of one scenario.
func figures(workers []*scenario.WorkerReport, impl, name string) Figures {
	var latencies, rss, pluginRSS []float64
	var wall, cpu, emu, pluginCPU, gc, floorCost float64
	everyRoundHasAFloor := true
	for _, w := range workers {
		if w.Impl != impl {
			continue
		}
		for _, m := range w.Measurements {
			if m.Name != name {
				continue
			}
			latencies = append(latencies, m.LatenciesUs...)
			wall += m.WallS
			cpu += m.CPUUs + m.PluginCPUUs
			pluginCPU += m.PluginCPUUs
			emu += m.EmulatorCPUs
			gc += m.GCCPUUs
			floorCost += float64(len(m.LatenciesUs)) * w.SignFloorUs
			everyRoundHasAFloor = everyRoundHasAFloor && w.SignFloorUs > 0
			rss = append(rss, float64(m.RSSKiB+m.PluginRSSKiB)/1024)
			pluginRSS = append(pluginRSS, float64(m.PluginRSSKiB)/1024)
		}
	}
	f := Figures{Ops: len(latencies), RSSMiB: round(stats.Median(rss), 1), PluginRSSMiB: round(stats.Median(pluginRSS), 1)}
	if f.Ops == 0 || wall == 0 {
		return f
	}
	f.OpsPerS = round(float64(f.Ops)/wall, 1)
	f.P50Us = round(stats.Percentile(latencies, 50), 1)
	f.P99Us = round(stats.Percentile(latencies, 99), 1)
	f.CPUUsPerOp = round(cpu/float64(f.Ops), 1)
	f.EmulatorCPUUsPerOp = round(emu/float64(f.Ops), 1)
	f.PluginCPUUsPerOp = round(pluginCPU/float64(f.Ops), 1)
	f.GCCPUUsPerOp = round(gc/float64(f.Ops), 1)
	if everyRoundHasAFloor && floorCost > 0 {
		f.CPUPerOpInFloors = round(cpu/floorCost, 3)
	}
	return f
}

// round rounds to the given number of decimals.
func round(v float64, decimals int) float64 {
	scale := 1.0
	for range decimals {
		scale *= 10
	}
	return float64(int64(v*scale+0.5)) / scale
}

// Scenario returns the named scenario's row (zero when absent).
func (r *Results) Scenario(name string) ScenarioResult {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s
		}
	}
	return ScenarioResult{Name: name}
}

// WriteJSON writes the results, indented, to path.
func (r *Results) WriteJSON(path string) error {
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(out, '\n'), 0o644)
}
