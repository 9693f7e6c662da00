package config

import "strconv"

// SourceDateEpochArg is the build argument (and environment variable) through which the
// reproducible-builds convention (https://reproducible-builds.org/docs/source-date-epoch/)
// hands the commit time to the tools a Dockerfile runs: CPython's py_compile writes hash-based
// .pyc files when it is set, shadow-utils' useradd/groupadd take their day count from it.
const SourceDateEpochArg = "SOURCE_DATE_EPOCH"

// SourceDateEpoch is the commit time (CommitTimestamp) as SOURCE_DATE_EPOCH: decimal seconds
// since the Unix epoch. It is the one place that value is computed; like CommitTimestamp it is
// an error naming --commit-time when the setting is missing.
func (s Settings) SourceDateEpoch() (string, error) {
	t, err := s.CommitTimestamp()
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(t.Unix(), 10), nil
}
