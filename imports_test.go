package wbpay_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/wbpay/wbpay"

// importRule is one of the architecture brief's import directions for a
// package (a path relative to the module root, "" for the root package).
// Allowed, when not nil, lists every project package the package may
// reach, directly or through others (besides its own subpackages);
// Forbidden lists packages it must never reach; Direct, when not nil,
// lists the only project packages it may import itself.
type importRule struct {
	Pkg       string
	Allowed   []string
	Forbidden []string
	Direct    []string
	Why       string
}

// importRules are the brief's directions (/work/shared/architecture.md,
// "Dependency directions"), plus the leaves every package may use.
var importRules = []importRule{
	{Pkg: "paytree", Allowed: []string{}, Why: "the wire vocabulary imports nothing of the project"},
	{Pkg: "keys", Allowed: []string{}, Why: "keys imports nothing of the project"},
	{Pkg: "internal/atomicfile", Allowed: []string{}, Why: "a leaf every package may use"},
	{Pkg: "layout", Allowed: []string{"internal/atomicfile"}, Why: "the home's layout is a leaf every package may use"},
	{Pkg: "fsm", Forbidden: []string{"journal", "transport", "sim", "recovery", ""}, Why: "fsm is pure: no journal, transport or sim"},
	{Pkg: "journal", Forbidden: []string{"transport", "sim", "recovery", ""}, Why: "journal never imports transport or sim"},
	{Pkg: "transport", Forbidden: []string{"journal", "fsm", "sim", "recovery", ""}, Why: "transport never imports journal or fsm"},
	{Pkg: "sim", Allowed: []string{"paytree", "keys", "internal/atomicfile"},
		Why: "sim is the gateway's peer: only the vocabulary and keys (and the atomic file writer for its store)"},
	{Pkg: "recovery", Forbidden: []string{"transport", "sim", ""}, Why: "recovery decides what to resume from the journal, it sends nothing"},
	{Pkg: "hq", Direct: []string{"journal"}, Forbidden: []string{"", "transport", "sim", "recovery", "ship", "api"},
		Why: "hq uses journal's codec and chain function only, never the engine, transport or sim"},
	{Pkg: "ship", Forbidden: []string{"", "transport", "sim", "recovery", "api"}, Why: "ship reads the journal, it never drives the engine"},
}

// projectImports returns, for every package of the module below root, the
// project packages its non-test files import (with any build tags), as
// paths relative to the module root.
func projectImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if pkg == "." {
			pkg = ""
		}
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			dep, ok := strings.CutPrefix(p, module)
			if !ok || (dep != "" && dep[0] != '/') {
				continue
			}
			dep = strings.TrimPrefix(dep, "/")
			if !slices.Contains(graph[pkg], dep) {
				graph[pkg] = append(graph[pkg], dep)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return graph
}

// within reports whether pkg is base or one of its subpackages.
func within(pkg, base string) bool {
	return pkg == base || (base != "" && strings.HasPrefix(pkg, base+"/"))
}

// show names a package for messages.
func show(pkg string) string {
	if pkg == "" {
		return "the root package"
	}
	return pkg
}

// checkImports returns one message per broken rule, naming the chain of
// imports that breaks it.
func checkImports(graph map[string][]string, rules []importRule) []string {
	var out []string
	for _, r := range rules {
		if _, ok := graph[r.Pkg]; !ok {
			out = append(out, fmt.Sprintf("%s: no such package (the rule %q checks nothing)", show(r.Pkg), r.Why))
			continue
		}
		if r.Direct != nil {
			for _, d := range graph[r.Pkg] {
				if !within(d, r.Pkg) && !slices.Contains(r.Direct, d) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", show(r.Pkg), show(d), r.Why))
				}
			}
		}
		// Breadth first from r.Pkg, remembering how each package was reached.
		from := map[string]string{r.Pkg: r.Pkg}
		queue := []string{r.Pkg}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			for _, d := range graph[p] {
				if _, seen := from[d]; seen {
					continue
				}
				from[d] = p
				queue = append(queue, d)
				bad := slices.ContainsFunc(r.Forbidden, func(f string) bool { return within(d, f) || d == f })
				if r.Allowed != nil && !within(d, r.Pkg) && !slices.Contains(r.Allowed, d) {
					bad = true
				}
				if bad {
					chain := []string{show(d)}
					for q := p; q != r.Pkg; q = from[q] {
						chain = append([]string{show(q)}, chain...)
					}
					out = append(out, fmt.Sprintf("%s → %s: %s", show(r.Pkg), strings.Join(chain, " → "), r.Why))
				}
			}
		}
	}
	return out
}

// TestImportDirections: the architecture brief's import directions hold
// for every non-test file of the module, whatever its build tags.
func TestImportDirections(t *testing.T) {
	graph := projectImports(t, ".")
	require.Contains(t, graph, "paytree", "the walk found the module's packages")
	assert.Empty(t, checkImports(graph, importRules))
	if _, err := os.Stat(filepath.Join("sim", "store.go")); err == nil {
		assert.Contains(t, graph["sim"], "internal/atomicfile", "the walk reads imports (sim's store writes atomically)")
	}
}

// TestImportDirectionsCatch: the checker reports each kind of broken rule,
// with the chain that breaks it.
func TestImportDirectionsCatch(t *testing.T) {
	graph := map[string][]string{
		"":                    {"journal", "sim"},
		"paytree":             nil,
		"keys":                {"internal/atomicfile"},
		"fsm":                 {"paytree", "fsm/x"},
		"fsm/x":               {"journal"},
		"journal":             {"fsm", "paytree"},
		"sim":                 {"paytree", "sim/inner"},
		"sim/inner":           {"keys"},
		"hq":                  {"journal", "config"},
		"config":              nil,
		"internal/atomicfile": nil,
	}
	rules := []importRule{
		{Pkg: "paytree", Allowed: []string{}, Why: "leaf"},
		{Pkg: "keys", Allowed: []string{}, Why: "keys alone"},
		{Pkg: "fsm", Forbidden: []string{"journal"}, Why: "fsm pure"},
		{Pkg: "sim", Allowed: []string{"paytree", "keys"}, Why: "sim peer"},
		{Pkg: "hq", Direct: []string{"journal"}, Why: "hq journal only"},
		{Pkg: "absent", Allowed: []string{}, Why: "gone"},
	}
	assert.Equal(t, []string{
		"keys → internal/atomicfile: keys alone",
		"fsm → fsm/x → journal: fsm pure",
		"sim → sim/inner → keys → internal/atomicfile: sim peer",
		"hq imports config: hq journal only",
		`absent: no such package (the rule "gone" checks nothing)`,
	}, checkImports(graph, rules))
}
