// Package buildinfo computes the OCI labels stamped on every service image, so that an
// image says which commit, dataset and model it was built from:
//
//	org.opencontainers.image.revision   full 40-hex git commit
//	org.opencontainers.image.source     repository URL (no credentials)
//	org.opencontainers.image.created    RFC 3339 timestamp, normalised to UTC (passed in)
//	org.opencontainers.image.version    image version (release or branch tag)
//	org.opencontainers.image.title      image title, e.g. soccer-predict-api
//	io.soccerpredict.dataset.version    dataset version (see ProjectDataset)
//	io.soccerpredict.dataset.pointer    the DVC file it was read from (.dvc file or dvc.lock)
//	io.soccerpredict.model.version      model version (explicit or from the metrics file)
//
// Dataset version. When the dataset is tracked with `dvc add` (data/raw/matches.csv.dvc, or a
// .dvc file of an enclosing directory), the version is the md5 of that pointer file,
// "md5:<hex>"; a dvc.lock that records the same path must agree. Otherwise it comes from
// dvc.lock (ProjectDataset, ResolveDataset). With a dataset path (the raw dataset tracked by DVC, e.g.
// "data/raw"), the version is the md5 DVC recorded for that path in dvc.lock, written
// "md5:<hex>" (or "md5:<hex>.dir" for a directory): the same value `dvc status` and the
// DVC remote use, so it can be looked up directly. Without a dataset path, the version is
// "sha256:<hex>" of every stage output: the lines "<path> <md5>\n" sorted by path, which
// changes whenever any tracked output changes. The dataset path is preferred because it
// does not move when only the model is retrained.
//
// Nothing here reads the clock or the environment; the caller passes every value.
// Depends on the standard library and gopkg.in/yaml.v3 only.
package buildinfo
