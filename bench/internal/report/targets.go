package report

import "fmt"

// Check is one target of issue 7 evaluated on a run.
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

// Checks evaluates every target of issue 7 (ratios are ours ÷ official from this run).
func (r *Results) Checks() []Check {
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
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
	for _, name := range opScenarios {
		s := r.Scenario(name)
		checks = append(checks, Check{
			Target:   fmt.Sprintf("client CPU/op, %s (ours ÷ official)", name),
			Measured: ratio(s.Ours.CPUUsPerOp, s.Official.CPUUsPerOp), Limit: 0.35, AtMost: true, Unit: "×",
		})
	}
	for _, name := range opScenarios {
		s := r.Scenario(name)
		checks = append(checks, Check{
			Target:   fmt.Sprintf("client CPU/op, %s (ours ÷ one-signature floor)", name),
			Measured: ratio(s.Ours.CPUUsPerOp, r.Floors.RSA2048SignUs), Limit: 1.3, AtMost: true, Unit: "×",
		})
	}
	init := r.Scenario("seal_init")
	checks = append(checks, Check{
		Target: "resident memory added by loading the library + seal init (ours)", Measured: init.Ours.RSSMiB,
		Limit: 15, AtMost: true, Unit: " MiB",
	})
	return checks
}
