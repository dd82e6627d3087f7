package bench

import (
	"slices"
	"time"
)

// Sample collects durations and answers quantiles.
type Sample struct {
	d      []time.Duration
	sorted bool
}

// Add records one duration.
func (s *Sample) Add(d time.Duration) {
	s.d = append(s.d, d)
	s.sorted = false
}

// Len returns how many durations were recorded.
func (s *Sample) Len() int { return len(s.d) }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank method:
// the smallest recorded duration that at least q of them do not exceed;
// 0 when nothing was recorded.
func (s *Sample) Quantile(q float64) time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	if !s.sorted {
		slices.Sort(s.d)
		s.sorted = true
	}
	rank := int(q*float64(len(s.d)) + 0.999999999) // ceil, robust to float error
	rank = min(max(rank, 1), len(s.d))
	return s.d[rank-1]
}

// Total returns the sum of the recorded durations.
func (s *Sample) Total() time.Duration {
	var t time.Duration
	for _, d := range s.d {
		t += d
	}
	return t
}
