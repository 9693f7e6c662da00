package domain

// Text encodings, so that records (release plans, JSON reports) carry the nouns as their usual
// strings and decoding a record parses them with the one rule.

// MarshalText renders r with [ImageRef.String].
func (r ImageRef) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses text with [ParseImageRef].
func (r *ImageRef) UnmarshalText(text []byte) error {
	v, err := ParseImageRef(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText renders v with [Version.String].
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses text with [ParseVersion] (a release version, never an arbitrary tag).
func (v *Version) UnmarshalText(text []byte) error {
	p, err := ParseVersion(string(text))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
