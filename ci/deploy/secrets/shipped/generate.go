//go:build ignore

// generate (re)writes the sample SOPS files charts/soccer-predict/secrets/<env>.enc.yaml
// from the fake values below, encrypted with the SOPS library for the age
// recipients that .sops.yaml lists for each file. Run it from ci/deploy/secrets (its Go module):
//
//	cd ci/deploy/secrets && go run ./shipped/generate.go              # re-encrypt the sample files
//	cd ci/deploy/secrets && go run ./shipped/generate.go -new-key     # first create the TEST key pair
//	cd ci/deploy/secrets && go run ./shipped/generate.go -new-production-placeholder
//
// The key tests/testdata/keys/test-age.key is a TEST-ONLY key committed on
// purpose; every value encrypted here is fake. dev and staging are encrypted to
// it; production never is: its rule lists a PLACEHOLDER recipient whose private
// key nobody holds (-new-production-placeholder creates a fresh key pair, writes
// its public key into the production rule of .sops.yaml and discards the private
// key), until operators put their real production recipient there and run
// `sops updatekeys`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

// envs lists the environments and their fake values, in file order.
var envs = []string{"dev", "staging", "production"}

func plaintext(env string) []byte {
	return []byte(fmt.Sprintf(`secrets:
    databaseUrl: postgresql://soccerpredict:FAKE-%[1]s-db-password@postgres.soccerpredict-%[1]s.svc.cluster.local:5432/soccerpredict
    celeryBrokerUrl: redis://:FAKE-%[1]s-redis-password@redis.soccerpredict-%[1]s.svc.cluster.local:6379/0
    mlflowTrackingToken: FAKE-%[1]s-mlflow-token-not-a-real-secret
`, env))
}

const keyHeader = `# TEST-ONLY age key of the SoccerPredictAI CI/CD repository. NOT A SECRET.
# It is committed on purpose so tests (and the sops CLI) can decrypt the sample
# files charts/soccer-predict/secrets/*.enc.yaml, whose values are all fake.
# Never encrypt real data for it. Real environments use their own age keys,
# given to CI as a mounted secret file; add their public keys to .sops.yaml.
# Regenerate with: (cd ci/deploy/secrets && go run ./shipped/generate.go) -new-key (after deleting this file)
`

func main() {
	keyPath := flag.String("key", "../../../tests/testdata/keys/test-age.key", "TEST age identity file")
	sopsConfig := flag.String("sops-config", "../../../.sops.yaml", "SOPS creation rules")
	outDir := flag.String("out", "../../../charts/soccer-predict/secrets", "directory for <env>.enc.yaml")
	newKey := flag.Bool("new-key", false, "create the TEST key pair at -key (refuses to overwrite) and stop")
	placeholder := flag.Bool("new-production-placeholder", false, "put a fresh recipient whose private key is discarded into the production rule of -sops-config, then re-encrypt")
	flag.Parse()
	if *placeholder {
		if err := newProductionPlaceholder(*sopsConfig); err != nil {
			fmt.Fprintln(os.Stderr, "generate:", err)
			os.Exit(1)
		}
	}
	if err := run(*keyPath, *sopsConfig, *outDir, *newKey); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(keyPath, sopsConfig, outDir string, newKey bool) error {
	if newKey {
		if _, err := os.Stat(keyPath); err == nil {
			return fmt.Errorf("%s exists: delete it first if you really want a new test key (then update .sops.yaml and re-run)", keyPath)
		}
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		body := keyHeader + fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
		if err := os.MkdirAll(filepath.Dir(keyPath), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(keyPath, []byte(body), 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s\npublic key: %s\n", keyPath, id.Recipient())
		return nil
	}

	ids, err := secrets.LoadIdentityFile(keyPath)
	if err != nil {
		return err
	}
	pubs := ids.Recipients()
	if len(pubs) != 1 {
		return fmt.Errorf("%s must hold exactly one identity, found %d", keyPath, len(pubs))
	}
	rules, err := loadRules(sopsConfig)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, env := range envs {
		path := filepath.ToSlash(secrets.EnvFile(outDir, env))
		recipients, err := rules.recipientsFor(path)
		if err != nil {
			return err
		}
		production := env == "production"
		switch {
		case production && slices.Contains(recipients, pubs[0]):
			return fmt.Errorf("%s: the rule in %s lists the repository's test key %s: production must not decrypt with a key in the repository; remove it (or run with -new-production-placeholder)", path, sopsConfig, pubs[0])
		case !production && !slices.Contains(recipients, pubs[0]):
			return fmt.Errorf("%s: the rule in %s does not list the test key %s: add it", path, sopsConfig, pubs[0])
		}
		plain := plaintext(env)
		enc, err := secrets.Encrypt(plain, recipients...)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		back, err := secrets.Decrypt(enc, ids)
		switch {
		case production && err == nil:
			return fmt.Errorf("%s: the test key decrypts production: refusing to write it", path)
		case production:
			// Nobody here can open it: that is the point.
		case err != nil:
			return fmt.Errorf("%s: round trip: %w", path, err)
		case !bytes.Equal(normalize(back), normalize(plain)):
			return fmt.Errorf("%s: round trip changed the content", path)
		}
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s for %s\n", path, strings.Join(recipients, ", "))
	}
	return nil
}

// productionRule matches the age line of the production rule in .sops.yaml.
var productionRule = regexp.MustCompile(`(?m)(path_regex: charts/soccer-predict/secrets/production\\\.enc\\\.yaml\$\n\s+age: )(\S+)`)

// newProductionPlaceholder generates a fresh age key pair, writes its public key as the
// production recipient in the SOPS config, and discards the private key: the production sample
// is then encrypted to a recipient nobody can decrypt for.
func newProductionPlaceholder(sopsConfig string) error {
	data, err := os.ReadFile(sopsConfig)
	if err != nil {
		return err
	}
	if !productionRule.Match(data) {
		return fmt.Errorf("%s: no production rule (a path_regex for production.enc.yaml followed by its age: line) to update", sopsConfig)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	pub := id.Recipient().String()
	id = nil // the private key is never written anywhere
	out := productionRule.ReplaceAll(data, []byte("${1}"+pub))
	if err := os.WriteFile(sopsConfig, out, 0o644); err != nil {
		return err
	}
	fmt.Printf("production placeholder recipient: %s (its private key was discarded)\n", pub)
	return nil
}

func normalize(b []byte) []byte {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := yaml.Marshal(v)
	return out
}

type creationRules []struct {
	PathRegex string `yaml:"path_regex"`
	Age       string `yaml:"age"`
}

func loadRules(path string) (creationRules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		CreationRules creationRules `yaml:"creation_rules"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return cfg.CreationRules, nil
}

// recipientsFor applies the first matching rule, like the sops CLI.
func (rs creationRules) recipientsFor(path string) ([]string, error) {
	for _, r := range rs {
		re, err := regexp.Compile(r.PathRegex)
		if err != nil {
			return nil, fmt.Errorf("path_regex %q: %v", r.PathRegex, err)
		}
		if re.MatchString(path) {
			var out []string
			for _, a := range strings.Split(r.Age, ",") {
				if a = strings.TrimSpace(a); a != "" {
					out = append(out, a)
				}
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("%s: the matching rule lists no age recipient", path)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("%s: no creation rule matches it", path)
}
