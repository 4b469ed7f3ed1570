//go:build !linux

package activitylog

// processStart has no portable source outside Linux; staleness then rests on
// the PID alone.
func processStart(int) string { return "" }
