package stats

import "testing"

func TestPercentileNearestRank(t *testing.T) {
	samples := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	cases := map[float64]float64{0: 1, 10: 1, 50: 5, 90: 9, 99: 10, 100: 10}
	for p, want := range cases {
		if got := Percentile(samples, p); got != want {
			t.Errorf("Percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if samples[0] != 5 {
		t.Error("Percentile reordered its input")
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty input must give 0")
	}
}
