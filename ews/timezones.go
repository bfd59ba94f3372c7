package ews

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/wintz"
)

func itoa(n int) string { return strconv.Itoa(n) }

// serveTimeZones answers GetServerTimeZones with Windows zone definitions
// computed from the IANA database for the current year: one transitions
// group with the year's rule, as exchangelib and Outlook read them.
func (h *Handler) serveTimeZones(rw http.ResponseWriter, ver soap.Version, req *getServerTimeZones) {
	full := strings.EqualFold(strings.TrimSpace(req.ReturnFullTimeZoneData), "true") || req.ReturnFullTimeZoneData == "1"
	ids := req.IDs
	if len(ids) == 0 {
		ids = wintz.WindowsIDs()
	}
	year := h.opt.Now().Year()
	out := soap.Envelope(ver, writeServerVersion, func(w *soap.Writer) {
		w.Start("m:GetServerTimeZonesResponse", "xmlns:m", nsMessages, "xmlns:t", nsTypes)
		w.Start("m:ResponseMessages")
		var unknown []string
		type zone struct {
			id  string
			loc *time.Location
		}
		var zones []zone
		for _, id := range ids {
			id = strings.TrimSpace(id)
			iana, ok := wintz.IANA(id)
			if !ok {
				unknown = append(unknown, id)
				continue
			}
			loc, err := time.LoadLocation(iana)
			if err != nil {
				unknown = append(unknown, id)
				continue
			}
			zones = append(zones, zone{id, loc})
		}
		if len(unknown) > 0 {
			w.Start("m:GetServerTimeZonesResponseMessage", "ResponseClass", "Error")
			w.Elem("m:MessageText", "Unknown time zone id: "+strings.Join(unknown, ", "))
			w.Elem("m:ResponseCode", ErrorTimeZone.Name)
			w.ElemInt("m:DescriptiveLinkKey", 0)
			w.End("m:GetServerTimeZonesResponseMessage")
		} else {
			w.Start("m:GetServerTimeZonesResponseMessage", "ResponseClass", "Success")
			w.Elem("m:ResponseCode", "NoError")
			w.Start("m:TimeZoneDefinitions")
			for _, z := range zones {
				writeTimeZoneDefinition(w, z.id, z.loc, year, full)
			}
			w.End("m:TimeZoneDefinitions")
			w.End("m:GetServerTimeZonesResponseMessage")
		}
		w.End("m:ResponseMessages")
		w.End("m:GetServerTimeZonesResponse")
	})
	soap.WriteResponse(rw, ver, http.StatusOK, out)
}

func writeTimeZoneDefinition(w *soap.Writer, id string, loc *time.Location, year int, full bool) {
	name := wintz.DisplayName(id, year)
	if !full {
		w.Empty("t:TimeZoneDefinition", "Id", id, "Name", name)
		return
	}
	r := wintz.RuleFor(loc, year)
	prefix := "trule:Microsoft/Registry/" + id + "/" + strconv.Itoa(year) + "-"
	stdID, dstID := prefix+"Standard", prefix+"Daylight"
	w.Start("t:TimeZoneDefinition", "Id", id, "Name", name)
	w.Start("t:Periods")
	w.Empty("t:Period", "Bias", formatXSDuration(time.Duration(r.Bias)*time.Minute), "Name", "Standard", "Id", stdID)
	if r.HasDST() {
		w.Empty("t:Period", "Bias", formatXSDuration(time.Duration(r.Bias+r.Daylight.Bias)*time.Minute), "Name", "Daylight", "Id", dstID)
	}
	w.End("t:Periods")
	w.Start("t:TransitionsGroups")
	w.Start("t:TransitionsGroup", "Id", "0")
	if r.HasDST() {
		for _, t := range []struct {
			to string
			tr wintz.Transition
		}{{dstID, r.Daylight}, {stdID, r.Standard}} {
			w.Start("t:RecurringDayTransition")
			w.Elem("t:To", t.to, "Kind", "Period")
			w.Elem("t:TimeOffset", formatXSDuration(t.tr.Time))
			w.ElemInt("t:Month", t.tr.Month)
			w.Elem("t:DayOfWeek", dayNames[t.tr.Weekday])
			occ := t.tr.DayOrder
			if occ == 5 {
				occ = -1 // Exchange writes "last" as -1 here
			}
			w.ElemInt("t:Occurrence", occ)
			w.End("t:RecurringDayTransition")
		}
	} else {
		w.Start("t:Transition")
		w.Elem("t:To", stdID, "Kind", "Period")
		w.End("t:Transition")
	}
	w.End("t:TransitionsGroup")
	w.End("t:TransitionsGroups")
	w.Start("t:Transitions")
	w.Start("t:Transition")
	w.Elem("t:To", "0", "Kind", "Group")
	w.End("t:Transition")
	w.End("t:Transitions")
	w.End("t:TimeZoneDefinition")
}
