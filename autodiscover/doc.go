// Package autodiscover makes calfed discoverable the way Exchange is: SOAP
// Autodiscover ([MS-OXWSADISC]: GetFederationInformation, GetUserSettings,
// GetDomainSettings, GetOrganizationRelationshipSettings), POX Autodiscover
// ([MS-OXDSCLI]: autodiscover.xml), the JSON endpoint modern clients try
// first, and the plain-HTTP redirect probe. Protocol facts are cited as
// docs/protocol.md §n.
package autodiscover
