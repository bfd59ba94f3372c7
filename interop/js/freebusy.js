// Queries a running calfed with ews-javascript-api and prints the answer as
// JSON on stdout, in the shape the interop suite compares:
//   node freebusy.js URL USER SECRET START END VIEW INTERVAL ADDRESS...
// START and END are wall-clock times (YYYY-MM-DDTHH:MM:SS) in the service's
// time zone, which is UTC here. EWS_VERSION (an ExchangeVersion name,
// default Exchange2013_SP1) sets the request's RequestServerVersion.
'use strict';
const ews = require('ews-javascript-api');

async function main() {
  const [url, user, secret, start, end, view, interval, ...addresses] = process.argv.slice(2);
  const svc = new ews.ExchangeService(ews.ExchangeVersion[process.env.EWS_VERSION || 'Exchange2013_SP1'], ews.TimeZoneInfo.Utc);
  svc.Credentials = new ews.WebCredentials(user, secret);
  svc.Url = new ews.Uri(url);
  const attendees = addresses.map((a) => new ews.AttendeeInfo(a));
  const window = new ews.TimeWindow(ews.DateTime.Parse(start + 'Z'), ews.DateTime.Parse(end + 'Z'));
  const options = new ews.AvailabilityOptions();
  options.RequestedFreeBusyView = ews.FreeBusyViewType[view];
  options.MergedFreeBusyInterval = Number(interval);
  const res = await svc.GetUserAvailability(attendees, window, ews.AvailabilityData.FreeBusy, options);
  const out = [];
  res.AttendeesAvailability.responses.forEach((a, i) => {
    const r = { address: addresses[i], error: ews.ServiceError[a.ErrorCode] };
    if (a.ErrorCode !== ews.ServiceError.NoError) {
      r.message = a.ErrorMessage;
      out.push(r);
      return;
    }
    r.view = ews.FreeBusyViewType[a.ViewType];
    if (a.MergedFreeBusyStatus && a.MergedFreeBusyStatus.length) {
      r.merged = a.MergedFreeBusyStatus.map((s) => String(s)).join('');
    }
    r.events = a.CalendarEvents.map((e) => {
      const ev = {
        start: e.StartTime.Format('YYYY-MM-DDTHH:mm:ss'),
        end: e.EndTime.Format('YYYY-MM-DDTHH:mm:ss'),
        busy: ews.LegacyFreeBusyStatus[e.FreeBusyStatus],
      };
      if (e.Details) {
        ev.subject = e.Details.Subject || '';
        ev.location = e.Details.Location || '';
        ev.private = e.Details.IsPrivate;
        ev.recurring = e.Details.IsRecurring;
        ev.exception = e.Details.IsException;
        ev.meeting = e.Details.IsMeeting;
      }
      return ev;
    });
    if (a.WorkingHours) {
      const wh = a.WorkingHours;
      r.working = [{
        days: wh.DaysOfTheWeek.map((d) => ews.DayOfTheWeek[d]),
        start: wh.StartTime.TotalMinutes,
        end: wh.EndTime.TotalMinutes,
      }];
    }
    out.push(r);
  });
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((err) => {
  // A SOAP fault without an EWS detail comes as a bare SoapFaultDetails,
  // its code and string in fields of their own.
  const fault = err && err.FaultString ? 'SOAP fault ' + JSON.stringify(err.FaultCode) + ': ' + JSON.stringify(err.FaultString) + '\n' : '';
  process.stderr.write('ews-javascript-api: ' + fault + (err && (err.stack || err.message) || String(err)) + '\n');
  process.exit(1);
});
