package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocikms/ocikms/bench/internal/scenario"
)

func worker(impl string, latencyUs, cpuUs float64, n int) *scenario.WorkerReport {
	w := &scenario.WorkerReport{Impl: impl}
	for _, sc := range scenario.All {
		m := scenario.Measurement{Name: sc.Name, WallS: 1, CPUUs: cpuUs * float64(n), RSSKiB: 20 << 10}
		for range n {
			m.LatenciesUs = append(m.LatenciesUs, latencyUs)
		}
		w.Measurements = append(w.Measurements, m)
	}
	return w
}

func TestAggregatePoolsRoundsAndChecksTargets(t *testing.T) {
	workers := []*scenario.WorkerReport{
		worker("ours", 100, 250, 10), worker("official", 1000, 2000, 2),
		worker("official", 1000, 2000, 2), worker("ours", 100, 250, 10),
	}
	res := Aggregate(workers, Floors{RSA2048SignUs: 200, EmulatorOpsPerS: 10000})
	if len(res.Scenarios) != len(scenario.All) {
		t.Fatalf("%d scenarios, want %d", len(res.Scenarios), len(scenario.All))
	}
	enc := res.Scenario("encrypt_32B_c1")
	if enc.Ours.OpsPerS != 10 || enc.Official.OpsPerS != 2 || enc.Ours.P50Us != 100 || enc.Ours.CPUUsPerOp != 250 || enc.Ours.RSSMiB != 20 {
		t.Fatalf("pooled figures wrong: %+v", enc)
	}
	var failed []string
	for _, c := range res.Checks() {
		if !c.Met() {
			failed = append(failed, c.Target)
		}
	}
	// 250 µs/op is 1.25× the 200 µs floor and 0.125× the official: only the 20 MiB init fails.
	if len(failed) != 1 || !strings.Contains(failed[0], "resident memory") {
		t.Fatalf("unexpected failed targets: %v", failed)
	}
	if md := res.Markdown(RunInfo{Rounds: 2}); !strings.Contains(md, "| encrypt_32B_c1 | **ours ÷ official** | **5.00×** | **0.10×**") {
		t.Fatalf("markdown lacks the ratio row:\n%s", md)
	}
}

func TestUpdateMarkdownReplacesOnlyTheGeneratedSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	text := "intro\n" + beginMarker + "\nold\n" + endMarker + "\noutro\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := UpdateMarkdown(path, "new\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "intro\n" + beginMarker + "\nnew\n" + endMarker + "\noutro\n"
	if string(got) != want {
		t.Fatalf("got %q", got)
	}
	if err := os.WriteFile(path, []byte("no markers"), 0o644); err != nil {
		t.Fatal(err)
	}
	if UpdateMarkdown(path, "x") == nil {
		t.Fatal("a file without markers must be refused")
	}
}

func TestPluginFiguresAddThePluginProcessAndGoalsAreReported(t *testing.T) {
	plugin := worker("plugin", 110, 100, 10)
	for i := range plugin.Measurements {
		plugin.Measurements[i].PluginCPUUs = 200 * 10
		plugin.Measurements[i].PluginRSSKiB = 10 << 10
	}
	workers := []*scenario.WorkerReport{worker("ours", 100, 250, 10), worker("official", 1000, 2000, 2), plugin}
	res := Aggregate(workers, Floors{RSA2048SignUs: 200})
	enc := res.Scenario("encrypt_32B_c1")
	if enc.Plugin.CPUUsPerOp != 300 || enc.Plugin.PluginCPUUsPerOp != 200 || enc.Plugin.RSSMiB != 30 || enc.Plugin.PluginRSSMiB != 10 {
		t.Fatalf("plugin figures must total both processes: %+v", enc.Plugin)
	}
	if enc.Ours.PluginCPUUsPerOp != 0 || enc.Ours.CPUUsPerOp != 250 {
		t.Fatalf("ours must have no plugin share: %+v", enc.Ours)
	}
	goals := res.PluginGoals()
	if len(goals) != 5 || !goals[0].Met() || goals[0].Measured != 1.1 || !goals[4].Met() || goals[4].Measured != 5 {
		t.Fatalf("unexpected goals: %+v", goals)
	}
	md := res.Markdown(RunInfo{Rounds: 1, Restart: &Restart{
		Server: "OpenBao v2.7.2 (abc)", PollS: 0.02, StopS: []float64{0.5, 0.7, 0.6}, StartToUnsealedS: []float64{1, 3, 2},
	}})
	for _, want := range []string{
		"| encrypt_32B_c1 | plugin | 10 | 110 | 110 | 300 (100 + 200) | 30.0 (20.0 + 10.0) | 0 |",
		"| encrypt_32B_c1 | **plugin ÷ ours** | **1.00×** | **1.10×**",
		"| p50 latency, encrypt_32B_c1 (plugin ÷ ours) | 1.10× | ≤ 1.15× | yes |",
		"OpenBao v2.7.2, one raft node",
		"| **start → unsealed** (plugin started, stored keys decrypted) | 1.00 | 2.00 | 3.00 |",
		"| stop → unsealed | 1.50 | 2.60 | 3.70 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestReadRestartRefusesMismatchedSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "restart.json")
	if err := os.WriteFile(path, []byte(`{"server":"x","stop_s":[1],"start_to_unsealed_s":[1,2]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRestart(path); err == nil {
		t.Fatal("mismatched samples must be refused")
	}
}

func TestCPUPerOpIsJudgedAgainstEachWorkersOwnFloor(t *testing.T) {
	// Round 1: 10 ops at 250 µs while a signature costs 200 µs; round 2: the machine is slower,
	// 30 ops at 390 µs while a signature costs 300 µs. Each round is 1.25× (round 2: 1.30×) its
	// own floor: (10×250 + 30×390) ÷ (10×200 + 30×300) = 14200 ÷ 11000 = 1.291. Against the
	// (nearest-rank) median floor, 200 µs, the pooled 355 µs/op would read 1.78×.
	fast, slow := worker("ours", 100, 250, 10), worker("ours", 100, 390, 30)
	fast.SignFloorUs, slow.SignFloorUs = 200, 300
	res := Aggregate([]*scenario.WorkerReport{fast, worker("official", 1000, 2000, 2), slow}, Floors{RSA2048SignUs: 180})
	enc := res.Scenario("encrypt_32B_c1")
	if enc.Ours.CPUPerOpInFloors != 1.291 || enc.Ours.CPUUsPerOp != 355 {
		t.Fatalf("floor-weighted CPU/op %v, pooled %v µs; want 1.291 and 355", enc.Ours.CPUPerOpInFloors, enc.Ours.CPUUsPerOp)
	}
	if res.Floors.RSA2048SignUs != 200 || len(res.Floors.PerWorkerSignUs) != 2 {
		t.Fatalf("floors %+v: want the median of the per-worker floors", res.Floors)
	}
	for _, c := range res.Checks() {
		if strings.Contains(c.Target, "encrypt_32B_c1 (ours ÷ one-signature floor)") && c.Measured != 1.291 {
			t.Fatalf("%s measured %v, want the floor-weighted 1.291", c.Target, c.Measured)
		}
	}
	if md := res.Markdown(RunInfo{Rounds: 2}); !strings.Contains(md, "each of our 2 workers: median **200 µs** (200–300 µs)") {
		t.Fatalf("markdown lacks the per-worker floors:\n%s", md)
	}
	// A worker without a floor (an older report): no floor-weighted figure, so the target falls
	// back to CPU/op ÷ the run's floor (here the median of the floors the other workers have).
	slow.SignFloorUs = 0
	if got := Aggregate([]*scenario.WorkerReport{fast, slow}, Floors{RSA2048SignUs: 180}).Scenario("encrypt_32B_c1").Ours.CPUPerOpInFloors; got != 0 {
		t.Fatalf("CPUPerOpInFloors %v with a round lacking its floor, want 0 (fallback)", got)
	}
}
