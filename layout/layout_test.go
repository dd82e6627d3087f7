package layout

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// table renders Files as the table of doc.go.
func table() string {
	rows := [][]string{{"name", "mode", "holds", "written by"}}
	for _, f := range Files {
		name := f.Name
		if f.Dir {
			name += "/"
		}
		rows = append(rows, []string{name, fmt.Sprintf("%04o", uint32(f.Mode)), f.Holds, f.Writer})
	}
	width := make([]int, 4)
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("//\t|")
		for i, c := range cells {
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-len([]rune(c))) + " |")
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("//\t|")
	for _, w := range width {
		b.WriteString(strings.Repeat("-", w+2) + "|")
	}
	b.WriteString("\n")
	for _, r := range rows[1:] {
		line(r)
	}
	return b.String()
}

// TestDocTable checks that doc.go's table is Files, so the description
// cannot drift from the names and modes the code uses.
func TestDocTable(t *testing.T) {
	data, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	doc := string(data)
	// The table is the run of lines that start with "//\t|".
	i := strings.Index(doc, "//\t| name")
	require.True(t, i >= 0, "doc.go has the table")
	j := i
	for strings.HasPrefix(doc[j:], "//\t|") {
		j += strings.IndexByte(doc[j:], '\n') + 1
	}
	want := table()
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile("doc.go", []byte(doc[:i]+want+doc[j:]), 0o644))
		return
	}
	assert.Equal(t, want, doc[i:j], "doc.go's table is stale: run WBPAY_UPDATE_GOLDEN=1 go test ./layout")
}

func TestFilesDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Files {
		assert.False(t, seen[f.Name], "%s listed twice", f.Name)
		seen[f.Name] = true
		assert.NotEmpty(t, f.Holds, f.Name)
		assert.NotEmpty(t, f.Writer, f.Name)
		assert.NotZero(t, f.Mode, f.Name)
	}
}

func TestHomePaths(t *testing.T) {
	h := Home(filepath.Join("var", "pos1"))
	for _, tc := range []struct{ got, name string }{
		{h.Conf(), ConfFile}, {h.Journal(), JournalFile}, {h.JournalID(), JournalIDFile},
		{h.UserCodeKey(), UserCodeKeyFile}, {h.Damage(), DamageFile}, {h.Log(), LogDir},
		{h.Serve(), ServeFile}, {h.Token(), TokenFile},
	} {
		assert.Equal(t, filepath.Join("var", "pos1", tc.name), tc.got)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(dir, TokenFile, []byte("a\n"), true))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, TokenFile))
		require.NoError(t, err)
		assert.Equal(t, TokenMode, fi.Mode().Perm(), "the layout's mode")
	}
	err := Write(dir, TokenFile, []byte("b\n"), true)
	require.ErrorIs(t, err, ErrExists)
	require.NoError(t, Write(dir, TokenFile, []byte("c\n"), false), "not exclusive: replaced")
	data, err := os.ReadFile(filepath.Join(dir, TokenFile))
	require.NoError(t, err)
	assert.Equal(t, "c\n", string(data))

	err = Write(dir, "notes.txt", []byte("x"), false)
	require.ErrorIs(t, err, ErrNotInLayout)
	assert.Contains(t, err.Error(), "notes.txt")
	assert.NoFileExists(t, filepath.Join(dir, "notes.txt"))
	_, ok := ModeOf(LogDir)
	assert.False(t, ok, "a folder has no file mode")
}

func TestMkdirLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "home")
	require.NoError(t, MkdirLog(dir))
	assert.DirExists(t, Home(dir).Log())
	require.NoError(t, MkdirLog(dir), "an existing folder is fine")
}
