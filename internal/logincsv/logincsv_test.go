package logincsv_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"entra2okta/internal/logincsv"
)

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.csv")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestReadPageWalksTheFileOnceWithAHeaderAndComments(t *testing.T) {
	var b strings.Builder
	b.WriteString("displayName,userPrincipalName\n# a comment\n")
	var want []string
	for i := range 2503 {
		l := fmt.Sprintf("user%04d@contoso.com", i)
		want = append(want, l)
		fmt.Fprintf(&b, "\"User, %d\",%s\n", i, l)
		if i%500 == 0 {
			b.WriteString("\n")
		}
	}
	p := write(t, b.String())
	sha, rows, err := logincsv.Describe(p)
	require.NoError(t, err)
	assert.Equal(t, 2503, rows)

	var got []string
	cur, pages := "", 0
	for {
		page, next, err := logincsv.ReadPage(p, sha, cur, 999)
		require.NoError(t, err)
		got = append(got, page...)
		pages++
		if next == "" {
			break
		}
		cur = next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	all, err := logincsv.Read(strings.NewReader(b.String()))
	require.NoError(t, err)
	assert.Equal(t, want, all)
}

func TestReadPageRefusesAChangedFile(t *testing.T) {
	p := write(t, "a@contoso.com\nb@contoso.com\n")
	sha, _, err := logincsv.Describe(p)
	require.NoError(t, err)
	page, next, err := logincsv.ReadPage(p, sha, "", 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@contoso.com"}, page)
	require.NoError(t, os.WriteFile(p, []byte("a@contoso.com\nmallory@contoso.com\n"), 0o600))
	_, _, err = logincsv.ReadPage(p, sha, next, 1)
	assert.True(t, errors.Is(err, logincsv.ErrChanged), "got %v", err)
}

func TestBadRowsAndCursors(t *testing.T) {
	_, _, err := logincsv.Describe(write(t, "login\nnot-a-upn\n"))
	assert.ErrorContains(t, err, "line 2")
	_, _, err = logincsv.Describe(write(t, "login\n"))
	assert.ErrorContains(t, err, "no users")
	_, _, err = logincsv.Describe(write(t, "a@contoso.com\nb@contoso.com\nA@Contoso.com\n"))
	assert.ErrorContains(t, err, "1 logins are listed more than once (first: A@Contoso.com)")
	p := write(t, "a@contoso.com\n")
	sha, _, err := logincsv.Describe(p)
	require.NoError(t, err)
	_, _, err = logincsv.ReadPage(p, sha, "12:x", 10)
	assert.ErrorContains(t, err, "invalid users file cursor")
}
