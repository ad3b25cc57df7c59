// Package secretenv reads the product's secrets from the environment. Each
// secret variable NAME may instead be given as NAME_FILE, the path of a file
// holding the value: the convention of Docker and Compose secrets, which mount
// each secret as a file under /run/secrets
// (https://docs.docker.com/compose/how-tos/use-secrets/). Every binary reads
// its secrets through this package, so the rule is the same everywhere.
package secretenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// FileSuffix turns a secret variable's name into the name of the variable
// that holds the path of its file.
const FileSuffix = "_FILE"

// MaxFileSize bounds a secret file. Tokens, client secrets, API keys and PEM
// private keys are far smaller; a larger file is a wrong path.
const MaxFileSize = 64 << 10

// Names returns the secret variables of the product's binaries: the Okta API
// token and OAuth private key, the Graph client secret, the hook server's two
// header secrets, MFA canary password and shared store URL (which may carry a
// database password), and the Temporal API key.
func Names() []string {
	return []string{
		"OKTA_API_TOKEN", "OKTA_PRIVATE_KEY", "ENTRA_CLIENT_SECRET",
		"HOOK_AUTH_SECRET", "HOOK_EVENTS_AUTH_SECRET", "HOOK_MFA_CANARY_PASSWORD",
		"TEMPORAL_API_KEY", "HOOK_STORE",
	}
}

// Lookup returns the secret name as getenv has it: the variable's value, or
// the content of the file that name_FILE names with one trailing newline
// removed (files written by editors and echo end with one). It is "" when
// neither is set. Setting both, an unreadable, empty or oversized file is an
// error that names the variable and the path, never the content.
func Lookup(getenv func(string) string, name string) (string, error) {
	value, path := getenv(name), getenv(name+FileSuffix)
	switch {
	case path == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("%s and %s%s are both set: set one of them", name, name, FileSuffix)
	}
	content, err := readFile(path)
	if err != nil {
		return "", fmt.Errorf("%s%s: %w", name, FileSuffix, err)
	}
	return content, nil
}

// Getenv returns a getenv in which each of names reads as its secret
// (Lookup) and each name_FILE as unset, so that code reading the result needs
// no knowledge of files; other variables pass through to getenv. The error
// joins the problem of every secret that could not be read; those read as "".
func Getenv(getenv func(string) string, names ...string) (func(string) string, error) {
	secrets := make(map[string]string, len(names))
	files := make(map[string]bool, len(names))
	var errs []error
	for _, name := range names {
		v, err := Lookup(getenv, name)
		if err != nil {
			errs = append(errs, err)
		}
		secrets[name] = v
		files[name+FileSuffix] = true
	}
	return func(key string) string {
		if v, ok := secrets[key]; ok {
			return v
		}
		if files[key] {
			return ""
		}
		return getenv(key)
	}, errors.Join(errs...)
}

// readFile reads a secret file, bounded by MaxFileSize, and removes one
// trailing newline ("\n" or "\r\n").
func readFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathless(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathless(err))
	}
	if len(b) > MaxFileSize {
		return "", fmt.Errorf("%s is larger than %d KiB: not a secret file", path, MaxFileSize>>10)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		s = t
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// pathless drops the operation and path a *fs.PathError repeats, keeping its
// cause ("no such file or directory", "permission denied").
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
