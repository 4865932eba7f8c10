package main

import (
	"errors"

	"picbed/handler"
)

// runFC serves Function Compute invocations.
func runFC(cfg handler.Config) error {
	return errors.New("the Function Compute door is not implemented yet")
}
