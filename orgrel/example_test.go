package orgrel_test

import (
	"fmt"

	"github.com/calfed/calfed/orgrel"
)

// A LimitedDetails relationship shows details only of mailboxes whose
// owners opted in, and only inside its scope.
func ExampleDecide() {
	rel := &orgrel.Relationship{Name: "NHS trust", Domains: []string{"trust.example"}, Enabled: true,
		FreeBusyAccessEnabled: true, FreeBusyAccessLevel: orgrel.LimitedDetails, FreeBusyAccessScope: "staff"}
	fmt.Println(orgrel.Decide(rel, orgrel.AvailabilityOnly, []string{"staff"}).Level)
	fmt.Println(orgrel.Decide(rel, orgrel.LimitedDetails, []string{"staff"}).Level)
	fmt.Println(orgrel.Decide(rel, orgrel.LimitedDetails, []string{"rooms"}).Level)
	fmt.Println(orgrel.Decide(nil, orgrel.LimitedDetails, nil).Related)
	// Output:
	// AvailabilityOnly
	// LimitedDetails
	// None
	// false
}
