package clients_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/sim"
)

// Debian packages the client tests need (also installed by .ci/run).
const (
	monoPackages = "mono-mcs mono-runtime libmono-system-net-http4.0-cil libmono-system-runtime-serialization4.0-cil"
	jdkPackages  = "default-jdk-headless (or openjdk-17-jdk-headless)"
)

var (
	engineOnce sync.Once
	enginePath string
	engineErr  error
)

// engineBinary builds ./cmd/wbpay-engine once per test process, or uses
// $WBPAY_ENGINE_BIN when set (a prebuilt binary). It skips the test when
// the binary has no serve verb.
func engineBinary(t *testing.T) string {
	t.Helper()
	engineOnce.Do(func() {
		if p := os.Getenv("WBPAY_ENGINE_BIN"); p != "" {
			enginePath = p
			return
		}
		dir, err := os.MkdirTemp("", "wbpay-clients-bin-")
		if err != nil {
			engineErr = err
			return
		}
		enginePath = filepath.Join(dir, "wbpay-engine")
		goBin, err := exec.LookPath("go")
		if err != nil {
			engineErr = err
			return
		}
		out, err := exec.Command(goBin, "build", "-o", enginePath, "github.com/wbpay/wbpay/cmd/wbpay-engine").CombinedOutput()
		if err != nil {
			engineErr = fmt.Errorf("go build wbpay-engine: %v\n%s", err, out)
		}
	})
	require.NoError(t, engineErr)
	if out, err := exec.Command(enginePath, "serve", "--help").CombinedOutput(); err != nil {
		t.Skipf("wbpay-engine has no serve verb (the daemon): %v\n%s", err, out)
	}
	return enginePath
}

// needTools skips the test when one of the commands is missing.
func needTools(t *testing.T, pkgs string, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not found: install the Debian packages %s", c, pkgs)
		}
	}
}

// daemon is `wbpay-engine serve` on one home, as a subprocess.
type daemon struct {
	t    *testing.T
	bin  string
	home string
	ca   string
	log  *os.File // its stderr and stdout, appended across restarts
	cmd  *exec.Cmd
	done chan struct{}
}

// newHome writes keys and a WbCPSPay.conf talking to g; polling selects
// PayConfirmPollingMode.
func newHome(t *testing.T, g *testgw.Gateway, polling bool) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.MkdirAll(home, 0o700))
	require.NoError(t, testgw.WriteKeys(home))
	mode := "no"
	if polling {
		mode = "yes"
	}
	require.NoError(t, testgw.WriteConf(home, testgw.Merge(testgw.LiveConf(g.URL()), map[string]string{
		"HttpTimeout":               "15",
		"RequestConfirmInterval":    "0",
		"PayConfirmPollingMode":     mode,
		"PayConfirmPollingWait":     "1",
		"PayConfirmPollingInterval": "1",
		"PayConfirmPollingTimeout":  "30",
		"LogLevel":                  "Sequence",
	})))
	return home
}

func startDaemon(t *testing.T, bin, home, ca string) *daemon {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "daemon.log"))
	require.NoError(t, err)
	d := &daemon{t: t, bin: bin, home: home, ca: ca, log: logf}
	d.start()
	t.Cleanup(func() {
		d.stop()
		_ = logf.Close()
	})
	return d
}

// start runs the daemon and waits until serve.json names its pid.
func (d *daemon) start() {
	d.t.Helper()
	cmd := exec.Command(d.bin, "serve", "--home", d.home, "--listen", "127.0.0.1:0", "--gateway-ca", d.ca, "--http-timeout", "2s")
	cmd.Stdout, cmd.Stderr = d.log, d.log
	require.NoError(d.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	d.cmd, d.done = cmd, done
	deadline := time.Now().Add(60 * time.Second)
	for {
		var sj struct {
			URL string `json:"url"`
			Pid int    `json:"pid"`
		}
		if b, err := os.ReadFile(layout.Home(d.home).Serve()); err == nil && json.Unmarshal(b, &sj) == nil && sj.Pid == cmd.Process.Pid && sj.URL != "" {
			return
		}
		select {
		case <-done:
			d.t.Fatalf("wbpay-engine serve exited before writing serve.json (%v); its log:\n%s", cmd.ProcessState, d.logText())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no serve.json with pid %d after 60 s; the daemon's log:\n%s", cmd.Process.Pid, d.logText())
		}
	}
}

// kill SIGKILLs the daemon and waits until it is gone.
func (d *daemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop ends the daemon with SIGTERM (SIGKILL after 15 s).
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.kill()
	}
}

func (d *daemon) logText() string {
	b, _ := os.ReadFile(d.log.Name())
	return string(b)
}

// runProgram runs a client test program with WBPAY_HOME=home, serving its
// "@@KILL_DAEMON" requests, and returns its output. It fails the test
// unless the last line is "N passed, 0 failed" with N > 0, or (wantKill)
// the program never asked for a crash.
func runProgram(t *testing.T, d *daemon, name string, wantKill bool, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "WBPAY_HOME="+d.home)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var out strings.Builder
	kills := 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var last string
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if strings.TrimSpace(line) != "" {
			last = strings.TrimSpace(line)
		}
		if line == "@@KILL_DAEMON" {
			kills++
			d.kill()
			d.start()
			_, err := io.WriteString(stdin, "@@RESTARTED\n")
			require.NoError(t, err)
		}
	}
	_ = stdin.Close()
	werr := cmd.Wait()
	report := func() string {
		return fmt.Sprintf("%s output:\n%s\nstderr:\n%s\ndaemon log (tail):\n%s", name, out.String(), stderr.String(), tail(d.logText(), 60))
	}
	m := regexp.MustCompile(`^(\d+) passed, (\d+) failed$`).FindStringSubmatch(last)
	require.NotNil(t, m, "the last line is not 'N passed, M failed' (exit %v)\n%s", werr, report())
	assert.Equal(t, "0", m[2], "failed tests\n%s", report())
	assert.NotEqual(t, "0", m[1], "no test passed\n%s", report())
	assert.NoError(t, werr, "exit status\n%s", report())
	if wantKill {
		assert.Positive(t, kills, "the program never asked to kill the daemon\n%s", report())
	}
	if !t.Failed() {
		t.Logf("%s: %s (daemon killed and restarted %d times)", name, last, kills)
	}
	return out.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// gatewayFor starts the simulator the daemons of a test talk to: quick
// customer approvals and a short approval timeout (class 7).
func gatewayFor(t *testing.T, faults string) *testgw.Gateway {
	t.Helper()
	ff, err := sim.ParseFaults(faults)
	require.NoError(t, err)
	g, err := testgw.StartGateway(sim.Config{ApproveAfter: 1500 * time.Millisecond, ApprovalTimeout: 4 * time.Second, Faults: ff}, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(g.Close)
	return g
}

// repoDir is the directory of this package (the tests run in it).
func repoDir(t *testing.T, rel string) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return filepath.Join(wd, rel)
}

var (
	buildMu   sync.Mutex
	buildDone = map[string]error{}
)

// build runs a client's build script once per test process.
func build(t *testing.T, script string, args ...string) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	id := strings.Join(append([]string{script}, args...), " ")
	err, done := buildDone[id]
	if !done {
		var out []byte
		if out, err = exec.Command("bash", append([]string{script}, args...)...).CombinedOutput(); err != nil {
			err = fmt.Errorf("%s: %v\n%s", id, err, out)
		}
		buildDone[id] = err
	}
	require.NoError(t, err)
}

// TestDotnetClient builds WbPay.dll and its test program with mcs and runs
// the program under mono against the real daemon: every request method,
// pay classes 0–7, PayConfirm(true/false), refunds, reverse, deposit, every
// exception, a request from a handler, a SynchronizationContext and a
// kill -9 of the daemon in the middle of a pay; then the same in polling
// mode on a second home.
func TestDotnetClient(t *testing.T) {
	needTools(t, monoPackages, "mcs", "mono")
	bin := engineBinary(t)
	build(t, repoDir(t, "dotnet/build.sh"), "--test")
	exe := repoDir(t, "dotnet/bin/WbPayTest.exe")
	g := gatewayFor(t, "")
	for _, mode := range []string{"main", "polling"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, bin, newHome(t, g, mode == "polling"), g.CAFile)
			runProgram(t, d, "WbPayTest.exe "+mode, true, "mono", "--debug", exe, mode)
		})
	}
	// A gateway that never processes a reverse: a pay whose answer is lost
	// (class 2) cannot be undone, so it ends in two ErrorEvents.
	t.Run("unachieved-reverse", func(t *testing.T) {
		t.Parallel()
		fg := gatewayFor(t, "500-before:reverse")
		d := startDaemon(t, bin, newHome(t, fg, false), fg.CAFile)
		runProgram(t, d, "WbPayTest.exe unachieved-reverse", false, "mono", "--debug", exe, "unachieved-reverse")
	})
}

// TestJavaClient builds the Java client and its test program with javac and
// runs it against the real daemon: a pay, an approval, a refund, an error
// and a kill -9 of the daemon in the middle of a pay.
func TestJavaClient(t *testing.T) {
	needTools(t, jdkPackages, "javac", "java")
	bin := engineBinary(t)
	build(t, repoDir(t, "java/build.sh"), "--test")
	g := gatewayFor(t, "")
	d := startDaemon(t, bin, newHome(t, g, false), g.CAFile)
	runProgram(t, d, "WbPayTest.java", true, "java", "-cp", javaClassPath(t), "jp.wellba.wbpay.test.WbPayTest")
}

func javaClassPath(t *testing.T) string {
	return repoDir(t, "java/build/classes") + string(os.PathListSeparator) + repoDir(t, "java/build/test-classes")
}

func execCommand(argv ...string) *exec.Cmd { return exec.Command(argv[0], argv[1:]...) }
