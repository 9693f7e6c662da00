// The offline tests of the Dagger module. They are never built here: tests/harness overlays them
// into dagger/ (module dagger/soccer-predict), where they compile against the module. This go.mod
// only keeps them out of the root module, whose go mod tidy must not look for the module's
// generated bindings.
module dagger/soccer-predict/tests/module

go 1.26.1
