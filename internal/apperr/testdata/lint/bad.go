// Package bad holds each way of passing a string literal where a problem
// code is expected; TestNoCodeLiteralsCatches expects every one reported.
package bad

import "github.com/switchboard-dev/switchboard/internal/apperr"

func refuse(code apperr.Code, detail string) error { return apperr.E(apperr.Invalid, code, detail) }

func assigned(renamed bool) error {
	code := apperr.CodeInvalidDeployment
	if renamed {
		code = "invalid_project_name" // 9: a literal assigned to a code
	}
	kind, other := apperr.Unprocessable, apperr.CodeTargetsRefused
	if renamed {
		kind, other = apperr.Conflict, "connection_expired" // 10
	}
	var third apperr.Code
	third = "busy" // 11
	name := "not a code"
	name = "still not a code" // not reported: a plain string
	_ = name
	_, _, _ = kind, other, third
	return apperr.E(apperr.Invalid, code, "")
}

func all(err error) []error {
	fail := func(code apperr.Code) error { return apperr.E(apperr.Conflict, code, "") }
	e, _ := apperr.As(err)
	_ = e.Code == "condition_failed" // 1: a comparison
	_ = e.Code == ""                 // not reported: the empty code is no code
	return []error{
		apperr.E(apperr.Invalid, "invalid_body", ""),              // 2
		apperr.Wrap(apperr.Internal, "internal_error", "", err),   // 3
		apperr.Errorf(apperr.NotFound, "not_found", "%s", "x"),    // 4
		&apperr.Error{Kind: apperr.Conflict, Code: "busy"},        // 5
		refuse("invalid_query", "x"),                              // 6: a function taking a Code
		fail("not_connected"),                                     // 7: a bound function literal
		apperr.E(apperr.Invalid, apperr.Code("invalid_body"), ""), // 8: a conversion
		apperr.E(apperr.Invalid, apperr.CodeInvalidBody, ""),      // not reported
	}
}
