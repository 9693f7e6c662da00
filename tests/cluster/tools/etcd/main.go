// Command etcd is etcd's own main (go.etcd.io/etcd/server/v3/etcdmain), built at the version
// k8s.io/kubernetes is tested with, for tests/cluster/up.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
