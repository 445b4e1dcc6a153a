// Package run holds the report every scheduled run gives: how much work it
// found and what became of it. Lambda logs it; tests and the local gateway
// read it.
package run

// Report counts what one run of a scheduled job did.
type Report struct {
	// Function names the Lambda function that ran, when the report leaves it.
	Function string `json:"function"`
	Found    int    `json:"found"`             // due items the index of due work listed
	Done     int    `json:"done"`              // moved on by this run
	Failed   int    `json:"failed"`            // could not be moved on; the next run tries again
	Skipped  int    `json:"skipped,omitempty"` // left for the next run: time ran short
	// Unchanged were found due but needed nothing by the time they were
	// read (another run or request got there first, or they were no longer
	// due); they are not counted as done.
	Unchanged int `json:"unchanged,omitempty"`
}
