// Package journaltest appends realistic transactions to a journal for the
// tests of shipping and HQ: finished pays (send, then paid), pays left
// unknown, and escalated ones, through journal.Append as the engine writes
// them. Test data only: the user code is made up.
package journaltest
