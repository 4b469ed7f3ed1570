package activitylog

import (
	"bytes"
	"os"
	"strconv"
)

// processStart identifies one process across PID reuse: the boot ID and the
// process's start time in clock ticks since boot (field 22 of
// /proc/PID/stat). It is "" when the process is gone or /proc unreadable.
func processStart(pid int) string {
	if pid <= 0 {
		return ""
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces and
	// parentheses itself: count fields from the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return ""
	}
	fields := bytes.Fields(stat[i+1:]) // fields 3 onwards
	if len(fields) < 20 {
		return ""
	}
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return string(bytes.TrimSpace(boot)) + "/" + string(fields[19])
}
