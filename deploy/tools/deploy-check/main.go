// deploy-check: the two checks of `npm run deploy:check` that need Go. Each runs the tool its
// users run, as a library: kustomize's own build of an overlay, and compose-go (what
// `docker compose` loads files with), which validates a Compose file against the Compose
// specification's schema before it interprets it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: deploy-check kustomize <dir> | compose <file>")
		os.Exit(2)
	}
	var out []byte
	var err error
	switch os.Args[1] {
	case "kustomize":
		out, err = kustomize(os.Args[2])
	case "compose":
		out, err = compose(os.Args[2])
	default:
		err = fmt.Errorf("unknown check %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

// kustomize builds an overlay as `kubectl apply -k` would, and prints the resources as YAML.
func kustomize(dir string) ([]byte, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return resources.AsYaml()
}

// compose loads a Compose file with its schema validation and consistency checks, without the
// environment of the machine it runs on, and prints the project as compose-go resolved it.
func compose(file string) ([]byte, error) {
	options, err := cli.NewProjectOptions([]string{file}, cli.WithName("lienthong"), cli.WithResolvedPaths(false))
	if err != nil {
		return nil, err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	return project.MarshalYAML()
}
