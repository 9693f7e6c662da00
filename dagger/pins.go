//go:build pins

// This file is never compiled (no build ever sets the `pins` tag); `go mod tidy` still reads
// it, so it keeps dagger/go.mod honest about what the module needs but does not import:
//   - dagger.io/dagger v0.21.8, whose exported API the offline harness aliases, and the
//     OpenTelemetry version it requires (newer otel releases break v0.21.8's generated code);
//   - the packages the offline tests (tests/module, overlaid by tests/harness) import.
package main

import (
	_ "dagger.io/dagger"
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/require"
	_ "github.com/vektah/gqlparser/v2/ast"
	_ "github.com/vektah/gqlparser/v2/parser"
	_ "go.opentelemetry.io/otel"
	_ "go.opentelemetry.io/otel/trace"
)
