//go:build linux && race

package lazyfs_test

const raceEnabled = true
