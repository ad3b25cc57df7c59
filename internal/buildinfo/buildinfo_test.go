package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{}, "(devel)"},
		{debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "(devel) 0123456789ab+dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "v2.0.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, "v2.0.0 abc"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261205100042-4c04d6797293+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4c04d6797293aaaa"}, {Key: "vcs.modified", Value: "true"}}}, "v0.0.0-20261205100042-4c04d6797293+dirty"},
	} {
		if got := format(&tc.bi); got != tc.want {
			t.Errorf("format(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
	if Version() == "" || Version() == "unknown" {
		t.Fatalf("Version() = %q in a test binary, which has build information", Version())
	}
}
