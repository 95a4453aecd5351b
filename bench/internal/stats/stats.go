// Package stats summarises latency samples.
package stats

import (
	"math"
	"sort"
)

// Percentile returns the p-th percentile (0..100, nearest rank) of samples; 0 when empty.
// It sorts a copy, leaving samples untouched.
func Percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	rank = min(max(rank, 0), len(sorted)-1)
	return sorted[rank]
}

// Median is Percentile(samples, 50).
func Median(samples []float64) float64 {
	return Percentile(samples, 50)
}
