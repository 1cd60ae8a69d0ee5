// Command byob sets up a "bring your own bucket" export storage for
// GrowthLoop. See the README.
package main

import (
	"os"

	"github.com/growthloop/byob/cmd"
)

func main() { os.Exit(cmd.Main()) }
