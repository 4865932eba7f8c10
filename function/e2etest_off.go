//go:build !e2etest

package main

import "picbed/handler"

// testOptions is empty in every release build; see e2etest.go.
func testOptions() []handler.Option { return nil }
