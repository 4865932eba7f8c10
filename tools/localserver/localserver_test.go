package localserver

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestStartTriesAnotherPortWhenTaken: a port probed free can be taken by
// another process before picbed binds it; Start then runs picbed on
// another port, and never reports the server that holds the taken one.
func TestStartTriesAnotherPortWhenTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0") // another process's server
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	probes := 0
	probePort = func() (int, error) {
		if probes++; probes == 1 {
			return takenPort, nil
		}
		return freePort()
	}
	defer func() { probePort = freePort }()

	srv, err := Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if probes != 2 || strings.HasSuffix(srv.URL, ":"+strconv.Itoa(takenPort)) {
		t.Errorf("started on %s after %d probes; want a second port, not the taken %d", srv.URL, probes, takenPort)
	}
	if err := srv.Healthy(t.Context()); err != nil {
		t.Errorf("the started server: %v", err)
	}
}
