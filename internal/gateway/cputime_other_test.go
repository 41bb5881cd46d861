//go:build !linux

package gateway

// threadCPU is unavailable here: the benchmarks report wall time only.
func threadCPU() int64 { return -1 }
