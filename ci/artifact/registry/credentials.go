package registry

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Credentials is a registry username and password (or token). Its String and GoString
// methods never print the password.
type Credentials struct {
	Username string
	Password string
}

// Empty reports whether no credentials were given (anonymous access).
func (c Credentials) Empty() bool { return c.Username == "" && c.Password == "" }

// Authenticator returns basic-auth credentials for go-containerregistry, or
// authn.Anonymous when c is empty. go-containerregistry exchanges them for a bearer
// token when the registry asks for one (GitLab does).
func (c Credentials) Authenticator() authn.Authenticator {
	if c.Empty() {
		return authn.Anonymous
	}
	return &authn.Basic{Username: c.Username, Password: c.Password}
}

// String shows the username only.
func (c Credentials) String() string {
	if c.Empty() {
		return "anonymous"
	}
	return fmt.Sprintf("user %q (password redacted)", c.Username)
}

// GoString shows the username only, so %#v cannot leak the password either.
func (c Credentials) GoString() string {
	return fmt.Sprintf("registry.Credentials{Username: %q, Password: <redacted>}", c.Username)
}

func (c Credentials) validate(userSource, passSource string) (Credentials, error) {
	if c.Username == "" {
		return Credentials{}, fmt.Errorf("registry username from %s is empty: put the registry user (GitLab: CI_REGISTRY_USER) there", userSource)
	}
	if c.Password == "" {
		return Credentials{}, fmt.Errorf("registry password from %s is empty: put the registry password or token (GitLab: CI_REGISTRY_PASSWORD) there", passSource)
	}
	if strings.ContainsAny(c.Username, "\r\n:") {
		return Credentials{}, fmt.Errorf("registry username from %s contains a newline or ':': store the bare username", userSource)
	}
	if strings.ContainsAny(c.Password, "\r\n") {
		return Credentials{}, fmt.Errorf("registry password from %s spans several lines: store the bare password on one line", passSource)
	}
	return c, nil
}

// LoadCredentials reads the username and the password from two files (for example
// Dagger secrets mounted as files). One trailing newline ("\n" or "\r\n") is removed
// from each; anything else must be exactly the value.
func LoadCredentials(usernameFile, passwordFile string) (Credentials, error) {
	if usernameFile == "" || passwordFile == "" {
		return Credentials{}, fmt.Errorf("give both --username-file and --password-file, or neither for anonymous access")
	}
	user, err := readValueFile(usernameFile, "--username-file")
	if err != nil {
		return Credentials{}, err
	}
	pass, err := readValueFile(passwordFile, "--password-file")
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Username: user, Password: pass}.validate("file "+usernameFile, "file "+passwordFile)
}

func readValueFile(path, flag string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// The error from os names the path and the reason, never the content.
		return "", fmt.Errorf("cannot read %s: %w: mount the secret file there", flag, err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, nil
}

// CredentialsFromEnv reads the username and password from the two named variables
// through lookup (pass os.LookupEnv explicitly to use the process environment). Both
// variable names are required: nothing is read implicitly.
func CredentialsFromEnv(lookup func(string) (string, bool), usernameVar, passwordVar string) (Credentials, error) {
	if lookup == nil {
		return Credentials{}, fmt.Errorf("no environment lookup given: pass os.LookupEnv or a map lookup")
	}
	if usernameVar == "" || passwordVar == "" {
		return Credentials{}, fmt.Errorf("give both the username and the password variable names, e.g. REGISTRY_USER and REGISTRY_PASSWORD")
	}
	user, ok := lookup(usernameVar)
	if !ok {
		return Credentials{}, fmt.Errorf("variable %s is not set: set it to the registry user (GitLab: CI_REGISTRY_USER)", usernameVar)
	}
	pass, ok := lookup(passwordVar)
	if !ok {
		return Credentials{}, fmt.Errorf("variable %s is not set: set it to the registry password or token (GitLab: CI_REGISTRY_PASSWORD)", passwordVar)
	}
	return Credentials{Username: user, Password: pass}.validate("variable "+usernameVar, "variable "+passwordVar)
}
