// Package upgradetest tests worker upgrades across releases on the dev
// server. Its tests live in the external test package upgradetest_test
// (upgrade_test.go, record_test.go, harness_test.go), which imports this
// package under the name release1.
//
// The files release1_*_test.go of this package are a frozen copy of the
// first release's workflow code (workflows/*.go, not the tests, at commit
// 89c60e7), with only the package clause and the file names changed; as test
// files they are built for this package's tests only. Their functions have
// the names, and so register under the workflow type names, of the current
// workflows package (MigrateUser, MigrateBatch), so a worker that registers
// them runs exactly the code that the first release's workers ran. The
// upgrade test starts migrations on it, replaces it with the current code
// mid-migration, and the corpus recorder records the first release's
// histories from it.
//
// Never edit these files: they are what running migrations were started
// with. A copy, rather than a build from the git history at test time,
// keeps the test independent of the clone's depth and of a Go toolchain
// able to build an old tree, and it compiles against the current activities
// package, which is what a worker upgrade keeps (activity payloads are not
// replayed). Comments inside cite documents of that release.
package upgradetest
