// Package logincsv reads user principal names from a CSV file: the column
// named login, upn, userPrincipalName, email or mail when the first row is a
// header, else the first column. Blank lines and lines starting with # are
// skipped. The starter reads a whole file (Read); workers read a large one a
// page at a time from a cursor (ReadPage), checking that its content is the
// one the batch was started with.
package logincsv

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrChanged is returned when a file's content is not the one pinned by its hash.
var ErrChanged = errors.New("the users file changed since the batch started")

func newReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	return cr
}

// headerColumn reports whether rec is a header row, and its login column.
func headerColumn(rec []string) (int, bool) {
	for i, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "login", "upn", "userprincipalname", "email", "mail":
			return i, true
		}
	}
	return 0, false
}

// login extracts and checks the login of a record; "" for a blank cell.
func login(rec []string, col, line int) (string, error) {
	if col >= len(rec) {
		return "", fmt.Errorf("users file line %d: no column %d", line, col+1)
	}
	l := strings.TrimSpace(rec[col])
	if l != "" && !strings.Contains(l, "@") {
		return "", fmt.Errorf("users file line %d: %q is not a user principal name (name@domain)", line, l)
	}
	return l, nil
}

// scan calls fn with every login of r, in order, checking each row.
func scan(r io.Reader, fn func(login string)) error {
	cr := newReader(r)
	col, first := 0, true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("users file: %w", err)
		}
		if first {
			first = false
			if c, ok := headerColumn(rec); ok {
				col = c
				continue
			}
		}
		line, _ := cr.FieldPos(0)
		l, err := login(rec, col, line)
		if err != nil {
			return err
		}
		if l != "" {
			fn(l)
		}
	}
}

// Read reads every login of r, dropping duplicates (case-insensitive).
func Read(r io.Reader) ([]string, error) {
	seen := map[string]bool{}
	var logins []string
	err := scan(r, func(l string) {
		if k := strings.ToLower(l); !seen[k] {
			seen[k] = true
			logins = append(logins, l)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(logins) == 0 {
		return nil, errors.New("users file: no users")
	}
	return logins, nil
}

// Describe reads a file once: its SHA-256 (hex) and its number of logins,
// checking every row as Read does. A login listed twice is an error: the
// workers read the file a page at a time and cannot drop repeats, and a
// repeat of a user whose migration has ended would start it again.
func Describe(path string) (sha string, rows int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	seen := map[string]bool{}
	var dup []string
	err = scan(io.TeeReader(f, h), func(l string) {
		rows++
		if k := strings.ToLower(l); seen[k] {
			dup = append(dup, l)
		} else {
			seen[k] = true
		}
	})
	if err != nil {
		return "", 0, err
	}
	if len(dup) > 0 {
		return "", 0, fmt.Errorf("users file: %d logins are listed more than once (first: %s); remove the repeats", len(dup), dup[0])
	}
	if rows == 0 {
		return "", 0, errors.New("users file: no users")
	}
	return hex.EncodeToString(h.Sum(nil)), rows, nil
}

// hashes caches the SHA-256 of files by path, size and modification time, so
// that a worker hashes a file once, not once per page.
var hashes sync.Map // key string → string

func verify(f *os.File, path, want string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	key := path + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + fi.ModTime().UTC().Format(time.RFC3339Nano)
	got, ok := hashes.Load(key)
	if !ok {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		got = hex.EncodeToString(h.Sum(nil))
		hashes.Store(key, got)
	}
	if !strings.EqualFold(got.(string), want) {
		return ErrChanged
	}
	return nil
}

// cursor is where a page starts: a byte offset into the file, the login
// column, and the line number (for messages). "" is the file's start.
type cursor struct {
	offset int64
	col    int
	line   int
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{col: -1}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return cursor{}, fmt.Errorf("invalid users file cursor %q", s)
	}
	var c cursor
	var err1, err2, err3 error
	c.offset, err1 = strconv.ParseInt(parts[0], 10, 64)
	c.col, err2 = strconv.Atoi(parts[1])
	c.line, err3 = strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || c.offset < 0 || c.col < 0 {
		return cursor{}, fmt.Errorf("invalid users file cursor %q", s)
	}
	return c, nil
}

func (c cursor) String() string {
	return strconv.FormatInt(c.offset, 10) + ":" + strconv.Itoa(c.col) + ":" + strconv.Itoa(c.line)
}

// ReadPage reads up to n logins of the file at path from cur ("" for the
// start) after checking that its SHA-256 is sha, and returns them with the
// cursor of the next page ("" at the end). Each page seeks to its byte offset,
// so reading a file costs one pass whatever its size.
func ReadPage(path, sha, cur string, n int) (logins []string, next string, err error) {
	if n <= 0 {
		return nil, "", fmt.Errorf("page size %d", n)
	}
	c, err := parseCursor(cur)
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	if err := verify(f, path, sha); err != nil {
		return nil, "", err
	}
	if _, err := f.Seek(c.offset, io.SeekStart); err != nil {
		return nil, "", err
	}
	cr := newReader(f)
	for len(logins) < n {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return logins, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("users file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		line += c.line
		if c.col < 0 { // the file's first record
			c.col = 0
			if col, ok := headerColumn(rec); ok {
				c.col = col
				continue
			}
		}
		l, err := login(rec, c.col, line)
		if err != nil {
			return nil, "", err
		}
		if l != "" {
			logins = append(logins, l)
		}
	}
	end := c.offset + cr.InputOffset()
	line, _ := cr.FieldPos(0)
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if end >= fi.Size() {
		return logins, "", nil
	}
	return logins, cursor{offset: end, col: c.col, line: c.line + line}.String(), nil
}
