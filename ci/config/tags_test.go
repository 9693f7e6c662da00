package config

import (
	"reflect"
	"strings"
	"testing"
)

func envTags(t *testing.T) []string {
	t.Helper()
	var out []string
	typ := reflect.TypeOf(Settings{})
	for i := 0; i < typ.NumField(); i++ {
		tag := typ.Field(i).Tag.Get("env")
		name, _, _ := strings.Cut(tag, ",")
		out = append(out, strings.TrimSpace(name))
	}
	return out
}
