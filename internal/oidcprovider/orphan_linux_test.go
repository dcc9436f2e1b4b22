package oidcprovider

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const orphanHelperEnv = "OIDCPROVIDER_ORPHAN_HELPER"

// TestOrphanHelper is not a test: TestNoOrphanWhenTheTestBinaryDies runs
// this binary again with it, to start a provider and be killed.
func TestOrphanHelper(t *testing.T) {
	if os.Getenv(orphanHelperEnv) != "1" {
		t.Skip("helper process for TestNoOrphanWhenTheTestBinaryDies")
	}
	s, err := Start(t.Context(), Options{RedirectURIs: []string{testRedirect}})
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("PID %d %s\n", s.cmd.Process.Pid, s.Issuer)
	time.Sleep(time.Minute) // killed long before
	os.Exit(1)
}

// TestNoOrphanWhenTheTestBinaryDies kills (SIGKILL: no Cleanup, no Close) a
// process that started a provider, and expects node to go with it.
func TestNoOrphanWhenTheTestBinaryDies(t *testing.T) {
	StartForTest(t, Options{RedirectURIs: []string{testRedirect}}) // skips without Node, installs once
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	helper := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOrphanHelper$")
	helper.Env = append(os.Environ(), orphanHelperEnv+"=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	var issuer string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "PID" {
			pid, _ = strconv.Atoi(f[1])
			issuer = f[2]
			break
		}
		if strings.HasPrefix(sc.Text(), "ERROR") {
			t.Fatalf("helper: %s", sc.Text())
		}
	}
	if pid == 0 {
		t.Fatalf("helper printed no node pid (%v)", sc.Err())
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("node (pid %d) outlived the killed test binary by 5s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(issuer + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after its node died", issuer)
	}
}

// processGone reports whether pid no longer runs: gone, or a zombie
// waiting for a reaper (a container's init may never reap it).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces, so look after the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] == 'Z'
}
