// Package domain holds the product's nouns, each defined and parsed in exactly one place:
//
//   - [Environment]: dev, staging, production — with the approvals each needs, its Kubernetes
//     namespace, whether it requires a complete trace and whether it gets the `latest` tag;
//   - [Service]: api, worker, airflow — with its Dockerfile, requirements file, chart values key and
//     the dotenv variable that carries its image;
//   - [Commit]: a full git object name;
//   - [Digest]: a sha256 content digest;
//   - [Repository], [Tag] and [ImageRef]: image names, tags and references;
//   - [Version]: a release version (strict semantic versioning with a leading "v").
//
// Every other package takes these types, not strings: a value of one of them has passed its one
// rule, so nothing downstream validates it again. Parse errors say what was wrong and what to pass
// instead. The package has no dependency on Dagger, the network or the file system.
package domain
