package testpeer

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts a peer in a process group of its own, so that stop reaches
// anything it (or a wrapper named by CONNCTL_HYDRA or CONNCTL_RCLONE) started, and makes the
// kernel kill it when the process that started it dies, so that a test binary
// that crashes or is killed leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group that sysProcAttr made.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}
