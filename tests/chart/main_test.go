package chart_test

import (
	"io"
	"log"
	"os"
	"testing"
)

// TestMain silences the helm engine, which logs every `fail` it meets in
// lint mode through the standard logger.
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}
