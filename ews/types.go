package ews

import "encoding/xml"

// Request wire types. Element names are matched by local name in any
// namespace: clients disagree on the namespace of MailboxDataArray and
// friends, and accepting both costs nothing. ([XSD] messages.xsd,
// types.xsd; NOTES §1.2.)

// getUserAvailabilityRequest is GetUserAvailabilityRequestType.
type getUserAvailabilityRequest struct {
	TimeZone         *serializableTimeZone `xml:"TimeZone"`
	MailboxDataArray *struct {
		MailboxData []mailboxData `xml:"MailboxData"`
	} `xml:"MailboxDataArray"`
	FreeBusyViewOptions    *freeBusyViewOptions `xml:"FreeBusyViewOptions"`
	SuggestionsViewOptions *struct{}            `xml:"SuggestionsViewOptions"`
}

// mailboxData is MailboxData.
type mailboxData struct {
	Email struct {
		Name        string `xml:"Name"`
		Address     string `xml:"Address"`
		RoutingType string `xml:"RoutingType"`
	} `xml:"Email"`
	AttendeeType     string `xml:"AttendeeType"`
	ExcludeConflicts string `xml:"ExcludeConflicts"`
}

// freeBusyViewOptions is FreeBusyViewOptionsType.
type freeBusyViewOptions struct {
	TimeWindow *struct {
		StartTime *string `xml:"StartTime"`
		EndTime   *string `xml:"EndTime"`
	} `xml:"TimeWindow"`
	MergedFreeBusyIntervalInMinutes *string `xml:"MergedFreeBusyIntervalInMinutes"`
	RequestedView                   *string `xml:"RequestedView"`
}

// serializableTimeZone is SerializableTimeZone, the legacy rule form.
type serializableTimeZone struct {
	Bias         int                       `xml:"Bias"`
	StandardTime *serializableTimeZoneTime `xml:"StandardTime"`
	DaylightTime *serializableTimeZoneTime `xml:"DaylightTime"`
}

// serializableTimeZoneTime is SerializableTimeZoneTime.
type serializableTimeZoneTime struct {
	Bias      int    `xml:"Bias"`
	Time      string `xml:"Time"`
	DayOrder  int    `xml:"DayOrder"`
	Month     int    `xml:"Month"`
	DayOfWeek string `xml:"DayOfWeek"`
	Year      string `xml:"Year"`
}

// timeZoneDefinition is TimeZoneDefinitionType, as sent in the
// TimeZoneContext header.
type timeZoneDefinition struct {
	ID      string `xml:"Id,attr"`
	Name    string `xml:"Name,attr"`
	Periods []struct {
		Bias string `xml:"Bias,attr"`
		Name string `xml:"Name,attr"`
		ID   string `xml:"Id,attr"`
	} `xml:"Periods>Period"`
	Groups []struct {
		ID        string `xml:"Id,attr"`
		Recurring []struct {
			To         string `xml:"To"`
			TimeOffset string `xml:"TimeOffset"`
			Month      int    `xml:"Month"`
			DayOfWeek  string `xml:"DayOfWeek"`
			Occurrence int    `xml:"Occurrence"`
		} `xml:"RecurringDayTransition"`
		Plain []struct {
			To string `xml:"To"`
		} `xml:"Transition"`
	} `xml:"TransitionsGroups>TransitionsGroup"`
	Transitions struct {
		Items []struct {
			XMLName xml.Name
			To      struct {
				Kind  string `xml:"Kind,attr"`
				Value string `xml:",chardata"`
			} `xml:"To"`
		} `xml:",any"`
	} `xml:"Transitions"`
}

// getServerTimeZones is GetServerTimeZonesType.
type getServerTimeZones struct {
	ReturnFullTimeZoneData string   `xml:"ReturnFullTimeZoneData,attr"`
	IDs                    []string `xml:"Ids>Id"`
}
