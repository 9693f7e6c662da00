package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// EncryptedSuffix is the file name suffix of an environment's encrypted
// values file: <env>.enc.yaml.
const EncryptedSuffix = ".enc.yaml"

// EnvFile returns the path of the encrypted values file of env inside dir,
// for example EnvFile("charts/soccer-predict/secrets", "staging") is
// "charts/soccer-predict/secrets/staging.enc.yaml".
func EnvFile(dir, env string) string {
	return filepath.Join(dir, env+EncryptedSuffix)
}

// DecryptFile reads the SOPS-encrypted YAML file at path and returns its
// plaintext YAML. A missing file fails with ErrMissingFile and the error
// lists the *.enc.yaml files that do exist in the same directory.
func DecryptFile(path string, ids *Identities) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, missingFileError(path)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	plain, err := decrypt(data, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return plain, nil
}

// Decrypt decrypts SOPS-encrypted YAML and returns its plaintext YAML. It
// checks every value's authentication tag and the file MAC.
func Decrypt(data []byte, ids *Identities) ([]byte, error) {
	return decrypt(data, ids)
}

// missingFileError builds the ErrMissingFile error for path, naming the
// encrypted files that exist beside it.
func missingFileError(path string) error {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: %s (directory %s cannot be read either: %v): check --file, or run from the repository root", ErrMissingFile, path, dir, err)
	}
	var found []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), EncryptedSuffix) {
			found = append(found, e.Name())
		}
	}
	sort.Strings(found)
	if len(found) == 0 {
		return fmt.Errorf("%w: %s; %s holds no *%s file: create one with `sops --encrypt` using the rules in .sops.yaml", ErrMissingFile, path, dir, EncryptedSuffix)
	}
	return fmt.Errorf("%w: %s; files that exist in %s: %s: pick one of those environments or create the file with `sops --encrypt` using the rules in .sops.yaml",
		ErrMissingFile, path, dir, strings.Join(found, ", "))
}

func newStore() *sopsyaml.Store {
	return sopsyaml.NewStore(&config.YAMLStoreConfig{})
}

func decrypt(data []byte, ids *Identities) (plain []byte, err error) {
	defer func() {
		// The SOPS stores are not hardened against every hostile input;
		// turn a panic into a malformed-file error instead of crashing.
		if r := recover(); r != nil {
			plain, err = nil, fmt.Errorf("%w: the SOPS library could not parse it: check that the file was written by sops", ErrMalformed)
		}
	}()
	if !ids.usable() {
		return nil, fmt.Errorf("%w: no age identity loaded: pass the age key file with --identity", ErrBadIdentity)
	}
	store := newStore()
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		if errors.Is(err, sops.MetadataNotFound) {
			return nil, fmt.Errorf("%w: no \"sops\" metadata block: the file is not encrypted; encrypt it with `sops --encrypt --in-place` (rules in .sops.yaml)", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: %s: restore the file from git or re-encrypt it with sops", ErrMalformed, describeLoadError(err))
	}
	fileRecipients, other := recipientsOf(tree.Metadata)
	if len(fileRecipients) == 0 {
		if len(other) == 0 {
			return nil, fmt.Errorf("%w: the sops metadata lists no keys: re-encrypt it with the age recipients in .sops.yaml", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: the file is encrypted only for non-age keys (%s): re-encrypt it for the age recipients in .sops.yaml", ErrWrongKey, strings.Join(other, ", "))
	}

	svc := &ageKeyService{ids: ids.parsed}
	dataKey, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(svc)}, nil)
	if err != nil {
		if svc.broken() {
			return nil, fmt.Errorf("%w: the encrypted data key for an age recipient is damaged (the identity matched but the age payload did not decrypt): restore the file from git", ErrTampered)
		}
		return nil, fmt.Errorf("%w: the file is encrypted for %s but the identity's public key is %s: use the age key whose public key is listed in .sops.yaml for this environment, or re-encrypt the file for this key with `sops updatekeys`",
			ErrWrongKey, strings.Join(fileRecipients, ", "), orNone(ids.Recipients()))
	}

	cipher := aes.NewCipher()
	computedMAC, err := tree.Decrypt(dataKey, cipher)
	if err != nil {
		// Do not wrap err: SOPS can quote the ciphertext in it.
		return nil, fmt.Errorf("%w: a value's ciphertext failed authentication (it was altered after encryption): restore the file from git or re-encrypt it with sops", ErrTampered)
	}
	fileMAC, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("%w: MAC mismatch: the stored MAC does not decrypt (the mac or lastmodified field was altered): restore the file from git or re-encrypt it with sops", ErrTampered)
	}
	if s, ok := fileMAC.(string); !ok || s != computedMAC {
		return nil, fmt.Errorf("%w: MAC mismatch: values were added, removed or replaced after encryption: restore the file from git or re-encrypt it with sops", ErrTampered)
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypted tree cannot be written back as YAML: %v", ErrMalformed, err)
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`line [0-9]+`)

// describeLoadError summarises why the SOPS store rejected a file without
// quoting the file: parser messages can repeat its content.
func describeLoadError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "yaml:"):
		if loc := yamlLineRE.FindString(msg); loc != "" {
			return "not valid YAML (" + loc + ")"
		}
		return "not valid YAML"
	case strings.Contains(msg, "parsing time"):
		return "sops.lastmodified is not an RFC 3339 time"
	case strings.Contains(msg, "duplicate"):
		return "the file has more than one \"sops\" block"
	case strings.Contains(msg, "not a mapping"):
		return "the \"sops\" entry is not a mapping"
	}
	return "the \"sops\" metadata block is invalid"
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// recipientsOf lists the age recipients of a file's key groups and, apart,
// the other master keys.
func recipientsOf(m sops.Metadata) (ageRecipients, other []string) {
	for _, group := range m.KeyGroups {
		for _, k := range group {
			if ak, ok := k.(*sopsage.MasterKey); ok {
				ageRecipients = append(ageRecipients, ak.Recipient)
				continue
			}
			other = append(other, k.TypeToIdentifier())
		}
	}
	sort.Strings(ageRecipients)
	sort.Strings(other)
	return ageRecipients, other
}

// ageKeyService is a SOPS key service that decrypts age data keys with the
// identities it was given and nothing else: unlike the default local key
// service it never looks at SOPS_AGE_KEY* variables or ~/.config/sops.
type ageKeyService struct {
	ids sopsage.ParsedIdentities

	mu sync.Mutex
	// damaged is set when an identity matched a recipient stanza but the
	// payload did not decrypt.
	damaged bool
}

// Encrypt is not offered: decryption only.
func (s *ageKeyService) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("this key service only decrypts")
}

// Decrypt decrypts an age-encrypted data key with the service's identities.
func (s *ageKeyService) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	k, ok := req.GetKey().GetKeyType().(*keyservice.Key_AgeKey)
	if !ok {
		return nil, errors.New("not an age key")
	}
	if len(s.ids) == 0 {
		return nil, errors.New("no age identities")
	}
	mk := &sopsage.MasterKey{Recipient: k.AgeKey.GetRecipient(), EncryptedKey: string(req.GetCiphertext())}
	s.ids.ApplyToMasterKey(mk)
	plain, err := mk.Decrypt()
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if !errors.As(err, &noMatch) {
			s.mu.Lock()
			s.damaged = true
			s.mu.Unlock()
		}
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

func (s *ageKeyService) broken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.damaged
}
