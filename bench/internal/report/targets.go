package report

import "fmt"

// Check is one target (issue 7) or goal (issue 12) evaluated on a run.
type Check struct {
	Target   string
	Measured float64
	Limit    float64
	AtMost   bool // the measured value must be ≤ Limit (else ≥)
	Unit     string
}

// Met tells whether the target is met.
func (c Check) Met() bool {
	if c.AtMost {
		return c.Measured <= c.Limit
	}
	return c.Measured >= c.Limit
}

// opScenarios are the scenarios whose client CPU per op is judged.
var opScenarios = []string{"encrypt_32B_c1", "decrypt_32B_c1", "encrypt_32B_c32", "decrypt_32B_c32", "encrypt_64KiB_c1"}

// ratio is a ÷ b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Checks evaluates every target of issue 7 (ratios are ours ÷ official from this run).
func (r *Results) Checks() []Check {
	p50 := func(name string) float64 {
		s := r.Scenario(name)
		return ratio(s.Ours.P50Us, s.Official.P50Us)
	}
	ops := func(name string) float64 {
		s := r.Scenario(name)
		return ratio(s.Ours.OpsPerS, s.Official.OpsPerS)
	}
	checks := []Check{
		{Target: "encrypt p50 latency, c=1 (ours ÷ official)", Measured: p50("encrypt_32B_c1"), Limit: 0.45, AtMost: true, Unit: "×"},
		{Target: "decrypt p50 latency, c=1 (ours ÷ official)", Measured: p50("decrypt_32B_c1"), Limit: 0.7, AtMost: true, Unit: "×"},
		{Target: "encrypt throughput, c=32 (ours ÷ official)", Measured: ops("encrypt_32B_c32"), Limit: 3, Unit: "×"},
		{Target: "decrypt throughput, c=32 (ours ÷ official)", Measured: ops("decrypt_32B_c32"), Limit: 1.8, Unit: "×"},
	}
	checks = append(checks, r.perScenario(opScenarios, "client CPU/op, %s (ours ÷ official)", func(s ScenarioResult) float64 {
		return ratio(s.Ours.CPUUsPerOp, s.Official.CPUUsPerOp)
	}, 0.35)...)
	checks = append(checks, r.perScenario(opScenarios, "client CPU/op, %s (ours ÷ one-signature floor)", func(s ScenarioResult) float64 {
		if s.Ours.CPUPerOpInFloors > 0 {
			return s.Ours.CPUPerOpInFloors // each round against the floor measured just before it
		}
		return ratio(s.Ours.CPUUsPerOp, r.Floors.RSA2048SignUs)
	}, 1.3)...)
	init := r.Scenario("seal_init")
	checks = append(checks, Check{
		Target: "resident memory added by loading the library + seal init (ours)", Measured: init.Ours.RSSMiB,
		Limit: 15, AtMost: true, Unit: " MiB",
	})
	return checks
}

// perScenario is one at-most check (a ratio) per named scenario; target names the scenario with %s.
func (r *Results) perScenario(names []string, target string, measured func(ScenarioResult) float64, limit float64) []Check {
	var checks []Check
	for _, name := range names {
		checks = append(checks, Check{
			Target: fmt.Sprintf(target, name), Measured: measured(r.Scenario(name)), Limit: limit, AtMost: true, Unit: "×",
		})
	}
	return checks
}

// pluginP50Scenarios are the scenarios whose p50 the gRPC hop must not raise by more than 15 %.
var pluginP50Scenarios = []string{"encrypt_32B_c1", "decrypt_32B_c1", "encrypt_32B_c32", "decrypt_32B_c32"}

// PluginGoals evaluates the goals of issue 12 for the OpenBao plugin, reported and not asserted:
// the gRPC hop adds at most 15 % to p50 (plugin ÷ ours), and the plugin keeps at least 3× the
// official Go seal's encrypt throughput at c=32.
func (r *Results) PluginGoals() []Check {
	checks := r.perScenario(pluginP50Scenarios, "p50 latency, %s (plugin ÷ ours)", func(s ScenarioResult) float64 {
		return ratio(s.Plugin.P50Us, s.Ours.P50Us)
	}, 1.15)
	enc := r.Scenario("encrypt_32B_c32")
	return append(checks, Check{
		Target:   "encrypt throughput, c=32 (plugin ÷ official)",
		Measured: ratio(enc.Plugin.OpsPerS, enc.Official.OpsPerS), Limit: 3, Unit: "×",
	})
}
