package ews

import "encoding/xml"

// Request wire types. Element names are matched by local name in any
// namespace: clients disagree on the namespace of MailboxDataArray and
// friends, and accepting both costs nothing. ([XSD] messages.xsd,
// types.xsd; docs/protocol.md §1.2.)

// GetUserAvailabilityRequest is GetUserAvailabilityRequestType
// ([MS-OXWAVLS] 2.2.4.1, messages.xsd). The handler decodes requests into
// it and Client sends it; MarshalXML writes the canonical form.
type GetUserAvailabilityRequest struct {
	TimeZone               *SerializableTimeZone `xml:"TimeZone"`
	MailboxDataArray       *MailboxDataArray     `xml:"MailboxDataArray"`
	FreeBusyViewOptions    *FreeBusyViewOptions  `xml:"FreeBusyViewOptions"`
	SuggestionsViewOptions *struct{}             `xml:"SuggestionsViewOptions"`
}

// MailboxDataArray is ArrayOfMailboxData.
type MailboxDataArray struct {
	MailboxData []MailboxData `xml:"MailboxData"`
}

// MailboxData is MailboxData ([MS-OXWAVLS] 2.2.4.9).
type MailboxData struct {
	Email            EmailAddress `xml:"Email"`
	AttendeeType     string       `xml:"AttendeeType"`
	ExcludeConflicts string       `xml:"ExcludeConflicts"`
}

// EmailAddress is EmailAddress (types.xsd).
type EmailAddress struct {
	Name        string `xml:"Name"`
	Address     string `xml:"Address"`
	RoutingType string `xml:"RoutingType"`
}

// FreeBusyViewOptions is FreeBusyViewOptionsType ([MS-OXWAVLS] 2.2.4.6).
// Absent values are nil, so that the handler can tell them from empty.
type FreeBusyViewOptions struct {
	TimeWindow                      *TimeWindow `xml:"TimeWindow"`
	MergedFreeBusyIntervalInMinutes *string     `xml:"MergedFreeBusyIntervalInMinutes"`
	RequestedView                   *string     `xml:"RequestedView"`
}

// TimeWindow is Duration (types.xsd): xs:dateTime values as written.
type TimeWindow struct {
	StartTime *string `xml:"StartTime"`
	EndTime   *string `xml:"EndTime"`
}

// SerializableTimeZone is SerializableTimeZone, the legacy rule form
// ([MS-OXWAVLS] 2.2.4.11).
type SerializableTimeZone struct {
	Bias         int                       `xml:"Bias"`
	StandardTime *SerializableTimeZoneTime `xml:"StandardTime"`
	DaylightTime *SerializableTimeZoneTime `xml:"DaylightTime"`
}

// SerializableTimeZoneTime is SerializableTimeZoneTime ([MS-OXWAVLS]
// 2.2.4.12).
type SerializableTimeZoneTime struct {
	Bias      int    `xml:"Bias"`
	Time      string `xml:"Time"`
	DayOrder  int    `xml:"DayOrder"`
	Month     int    `xml:"Month"`
	DayOfWeek string `xml:"DayOfWeek"`
	Year      string `xml:"Year"`
}

// The handler's names for the request types.
type (
	getUserAvailabilityRequest = GetUserAvailabilityRequest
	serializableTimeZone       = SerializableTimeZone
	serializableTimeZoneTime   = SerializableTimeZoneTime
)

// Response wire types, as Client reads them. Element names are matched by
// local name, as in requests. ([XSD] messages.xsd, types.xsd; docs/protocol.md §1.3.)

// GetUserAvailabilityResponse is GetUserAvailabilityResponseType
// ([MS-OXWAVLS] 2.2.4.2).
type GetUserAvailabilityResponse struct {
	FreeBusyResponses []FreeBusyResponse `xml:"FreeBusyResponseArray>FreeBusyResponse"`
}

// FreeBusyResponse is FreeBusyResponseType ([MS-OXWAVLS] 2.2.4.5): one
// mailbox's answer, in request order.
type FreeBusyResponse struct {
	ResponseMessage ResponseMessage `xml:"ResponseMessage"`
	FreeBusyView    *FreeBusyView   `xml:"FreeBusyView"`
}

// ResponseMessage is ResponseMessageType (messages.xsd).
type ResponseMessage struct {
	ResponseClass string `xml:"ResponseClass,attr"`
	MessageText   string `xml:"MessageText"`
	ResponseCode  string `xml:"ResponseCode"`
}

// FreeBusyView is FreeBusyView ([MS-OXWAVLS] 2.2.4.7).
type FreeBusyView struct {
	FreeBusyViewType string          `xml:"FreeBusyViewType"` // ParseViewType reads it
	MergedFreeBusy   string          `xml:"MergedFreeBusy"`
	CalendarEvents   []CalendarEvent `xml:"CalendarEventArray>CalendarEvent"`
	WorkingHours     *WorkingHours   `xml:"WorkingHours"`
}

// WorkingHours is WorkingHours ([MS-OXWAVLS] 2.2.4.19): the mailbox's
// zone as a legacy rule, and its working periods in minutes from
// midnight in that zone.
type WorkingHours struct {
	TimeZone *SerializableTimeZone `xml:"TimeZone"`
	Periods  []WorkingPeriod       `xml:"WorkingPeriodArray>WorkingPeriod"`
}

// WorkingPeriod is WorkingPeriod ([MS-OXWAVLS] 2.2.4.20): DayOfWeek is a
// space-separated list of day names.
type WorkingPeriod struct {
	DayOfWeek          string `xml:"DayOfWeek"`
	StartTimeInMinutes int    `xml:"StartTimeInMinutes"`
	EndTimeInMinutes   int    `xml:"EndTimeInMinutes"`
}

// CalendarEvent is CalendarEvent ([MS-OXWAVLS] 2.2.4.2): times as
// written, in the request's time zone.
type CalendarEvent struct {
	StartTime string                `xml:"StartTime"`
	EndTime   string                `xml:"EndTime"`
	BusyType  string                `xml:"BusyType"` // LegacyFreeBusyType
	Details   *CalendarEventDetails `xml:"CalendarEventDetails"`
}

// CalendarEventDetails is CalendarEventDetails ([MS-OXWAVLS] 2.2.4.3).
type CalendarEventDetails struct {
	ID          string `xml:"ID"`
	Subject     string `xml:"Subject"`
	Location    string `xml:"Location"`
	IsMeeting   bool   `xml:"IsMeeting"`
	IsRecurring bool   `xml:"IsRecurring"`
	IsException bool   `xml:"IsException"`
	IsReminder  bool   `xml:"IsReminderSet"`
	IsPrivate   bool   `xml:"IsPrivate"`
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
	Groups      []transitionsGroup `xml:"TransitionsGroups>TransitionsGroup"`
	Transitions struct {
		Items []transitionItem `xml:",any"`
	} `xml:"Transitions"`
}

type transitionsGroup struct {
	ID        string                   `xml:"Id,attr"`
	Recurring []recurringDayTransition `xml:"RecurringDayTransition"`
	Plain     []struct {
		To string `xml:"To"`
	} `xml:"Transition"`
}

type recurringDayTransition struct {
	To         string `xml:"To"`
	TimeOffset string `xml:"TimeOffset"`
	Month      int    `xml:"Month"`
	DayOfWeek  string `xml:"DayOfWeek"`
	Occurrence int    `xml:"Occurrence"`
}

type transitionItem struct {
	XMLName xml.Name
	To      struct {
		Kind  string `xml:"Kind,attr"`
		Value string `xml:",chardata"`
	} `xml:"To"`
}

// getServerTimeZones is GetServerTimeZonesType.
type getServerTimeZones struct {
	ReturnFullTimeZoneData string   `xml:"ReturnFullTimeZoneData,attr"`
	IDs                    []string `xml:"Ids>Id"`
}
