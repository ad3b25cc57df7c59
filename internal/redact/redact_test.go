package redact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"entra2okta/internal/redact"
)

func TestNothingPrintsTheValue(t *testing.T) {
	const pw = "Sup3r-Secret-Pa55word"
	s := redact.New(pw)
	holder := struct {
		User     string
		Password redact.String
	}{"u@example.com", s}

	hidden := struct {
		user     string
		password redact.String
	}{"u@example.com", s}

	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, &holder),
			fmt.Sprintf(verb, hidden), fmt.Sprintf(verb, &hidden))
	}
	out = append(out, fmt.Sprint(s), fmt.Sprintln(holder), fmt.Errorf("check %v: %w", holder, errors.New("x")).Error())
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("check", "password", s, "holder", holder, "hidden", hidden, slog.Any("any", s))
	}
	out = append(out, logs.String())
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))
	for _, o := range out {
		if strings.Contains(o, pw) || strings.Contains(o, fmt.Sprintf("%x", pw)) || strings.Contains(o, "Pa55") {
			t.Fatalf("the value leaked: %s", o)
		}
	}
	if !strings.Contains(logs.String(), redact.Redacted) || !strings.Contains(string(j), redact.Redacted) {
		t.Fatalf("not rendered as %s: %s %s", redact.Redacted, logs.String(), j)
	}
	if s.Reveal() != pw || s.Len() != len(pw) || s.Empty() || !redact.New("").Empty() || !(redact.String{}).Empty() {
		t.Fatal("Reveal, Len or Empty")
	}
}
