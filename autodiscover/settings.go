package autodiscover

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/legacydn"
)

// knownUserSettings are the UserSettingName values of [MS-OXWSADISC]
// 2.2.5.44; a name outside them is InvalidSetting, a name inside them that
// calfed has no value for is SettingIsNotAvailable.
var knownUserSettings = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`UserDisplayName UserDN UserDeploymentId InternalMailboxServer InternalRpcClientServer
		InternalMailboxServerDN InternalEcpUrl InternalEcpVoicemailUrl InternalEcpEmailSubscriptionsUrl InternalEcpTextMessagingUrl
		InternalEcpDeliveryReportUrl InternalEcpRetentionPolicyTagsUrl InternalEcpPublishingUrl InternalEcpPhotoUrl
		InternalEcpConnectUrl InternalEcpTeamMailboxUrl InternalEcpTeamMailboxCreatingUrl InternalEcpTeamMailboxEditingUrl
		InternalEcpExtensionInstallationUrl InternalEwsUrl InternalEmwsUrl InternalOABUrl InternalPhotosUrl InternalUMUrl
		InternalWebClientUrls MailboxDN PublicFolderServer ActiveDirectoryServer ExternalMailboxServer
		ExternalMailboxServerRequiresSSL ExternalMailboxServerAuthenticationMethods EcpVoicemailUrlFragment
		EcpEmailSubscriptionsUrlFragment EcpTextMessagingUrlFragment EcpDeliveryReportUrlFragment
		EcpRetentionPolicyTagsUrlFragment EcpPublishingUrlFragment EcpPhotoUrlFragment EcpConnectUrlFragment
		EcpTeamMailboxUrlFragment EcpTeamMailboxCreatingUrlFragment EcpTeamMailboxEditingUrlFragment
		EcpExtensionInstallationUrlFragment ExternalEcpUrl ExternalEcpVoicemailUrl ExternalEcpEmailSubscriptionsUrl
		ExternalEcpTextMessagingUrl ExternalEcpDeliveryReportUrl ExternalEcpRetentionPolicyTagsUrl ExternalEcpPublishingUrl
		ExternalEcpPhotoUrl ExternalEcpConnectUrl ExternalEcpTeamMailboxUrl ExternalEcpTeamMailboxCreatingUrl
		ExternalEcpTeamMailboxEditingUrl ExternalEcpExtensionInstallationUrl ExternalEwsUrl ExternalEmwsUrl ExternalOABUrl
		ExternalPhotosUrl ExternalUMUrl ExternalWebClientUrls CrossOrganizationSharingEnabled AlternateMailboxes CasVersion
		EwsSupportedSchemas InternalPop3Connections ExternalPop3Connections InternalImap4Connections ExternalImap4Connections
		InternalSmtpConnections ExternalSmtpConnections InternalServerExclusiveConnect ExternalEwsVersion MobileMailboxPolicy
		DocumentSharingLocations UserMSOnline InternalMailboxServerAuthenticationMethods MailboxVersion SPMySiteHostURL
		SiteMailboxCreationURL InternalRpcHttpServer InternalRpcHttpConnectivityRequiresSsl InternalRpcHttpAuthenticationMethod
		ExternalServerExclusiveConnect ExchangeRpcUrl ShowGalAsDefaultView AutoDiscoverSMTPAddress InteropExternalEwsUrl
		InteropExternalEwsVersion PublicFolderInformation RedirectUrl EwsPartnerUrl CertPrincipalName GroupingInformation
		MapiHttpEnabled MapiHttpServerUrl MapiHttpVersion MobileMailboxPolicyInterop`) {
		knownUserSettings[n] = true
	}
}

// supportedSchemas is what EwsSupportedSchemas lists; the newest must be a
// version every client knows (exchangelib picks the highest by name).
const supportedSchemas = "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016"

// Version is what calfed reports as its Exchange build: ExternalEwsVersion
// and CasVersion ≥ 15 make Exchange requesters use RequestServerVersion
// Exchange2012 and the new merged digits. docs/protocol.md §2.3.
const Version = "15.01.2507.006"

// userSetting returns the value of one setting for mb, and whether calfed
// has one.
func (h *Handler) userSetting(name string, mb *calendar.Mailbox, base string) (string, bool) {
	ews := base + "/EWS/Exchange.asmx"
	switch name {
	case "UserDisplayName":
		return mb.DisplayName, true
	case "UserDN":
		return legacyDN(mb.Address), true
	case "MailboxDN":
		return "/o=calfed/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=" +
			strings.ToUpper(h.opt.ServerName) + "/cn=Microsoft Private MDB", true
	case "UserDeploymentId":
		return deploymentID(mb.Address), true
	case "AutoDiscoverSMTPAddress":
		return mb.Address, true
	case "InternalEwsUrl", "ExternalEwsUrl", "InteropExternalEwsUrl", "EwsPartnerUrl":
		return ews, true
	case "ExternalEwsVersion", "InteropExternalEwsVersion", "CasVersion":
		return Version, true
	case "EwsSupportedSchemas":
		return supportedSchemas, true
	case "CrossOrganizationSharingEnabled":
		return "True", true
	case "UserMSOnline", "MapiHttpEnabled", "ShowGalAsDefaultView":
		return "False", true
	}
	return "", false
}

// allDomainSettings are the domain settings calfed answers.
var allDomainSettings = []string{"ExternalEwsUrl", "ExternalEwsVersion"}

// domainSetting returns the value of one DomainSettingName. [MS-OXWSADISC]
// 2.2.5.8 lists ExternalEwsUrl and ExternalEwsVersion.
func domainSetting(name, base string) (string, bool, bool) {
	switch name {
	case "ExternalEwsUrl":
		return base + "/EWS/Exchange.asmx", true, true
	case "ExternalEwsVersion":
		return Version, true, true
	}
	return "", false, false
}

// legacyDN is the mailbox's legacy distinguished name; EWS maps it back to
// the mailbox when a client sends it as an EX or X500 address.
func legacyDN(address string) string { return legacydn.Format(address) }

// deploymentID is a stable GUID for an address.
func deploymentID(address string) string {
	s := sha1.Sum([]byte("calfed deployment " + address))
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}
