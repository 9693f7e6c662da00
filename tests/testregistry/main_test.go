package main

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The registry answers the distribution API's version check on the loopback address it prints,
// and stops when its standard input closes.
func TestServesOnLoopbackUntilStdinCloses(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(nil, stdinR, stdoutW) }()

	addr, err := bufio.NewReader(stdoutR).ReadString('\n')
	require.NoError(t, err)
	addr = strings.TrimSpace(addr)
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	resp, err := http.Get("http://" + addr + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, stdinW.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the registry did not stop when its standard input closed")
	}
	_, err = http.Get("http://" + addr + "/v2/")
	assert.Error(t, err, "nothing listens after the stop")
}
