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
