// Package live holds byob's acceptance tests against real AWS, Google
// Cloud and Snowflake accounts, and the sweepers that clean up after an
// interrupted run. They are built only with the live tag and run only with
// BYOB_LIVE=1 (BYOB_LIVE=emulators runs them against this repository's
// emulators, to check the suite itself):
//
//	BYOB_LIVE=1 go test -tags live ./live/ -v -timeout 30m
//	go test -tags live ./live/ -run TestSweep
//
// docs/live-tests.md lists the credentials, permissions and cost.
package live
