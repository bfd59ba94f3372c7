// Discovers a running calfed with ews-javascript-api's AutodiscoverService
// (GetUserSettings and GetDomainSettings over SOAP), then asks for
// free/busy at the EWS URL it discovered. Prints JSON.
//   node autodiscover.js BASE USER SECRET EMAIL START END
'use strict';
const ews = require('ews-javascript-api');
if (process.env.EWS_DEBUG) ews.EwsLogging.DebugLogEnabled = true;

async function main() {
  const [base, user, secret, email, start, end] = process.argv.slice(2);
  const domain = email.split('@')[1];
  const ad = new ews.AutodiscoverService(new ews.Uri(base + '/autodiscover/autodiscover.svc'), ews.ExchangeVersion.Exchange2013_SP1);
  ad.Credentials = new ews.WebCredentials(user, secret);
  const us = await ad.GetUserSettings(email, [
    ews.UserSettingName.ExternalEwsUrl, ews.UserSettingName.UserDisplayName, ews.UserSettingName.ExternalEwsVersion,
    ews.UserSettingName.EwsSupportedSchemas, ews.UserSettingName.CasVersion,
  ]);
  if (us.ErrorCode !== ews.AutodiscoverErrorCode.NoError) {
    throw new Error('GetUserSettings: ' + ews.AutodiscoverErrorCode[us.ErrorCode] + ' ' + us.ErrorMessage);
  }
  const setting = (n) => us.Settings.get(n);
  const ds = await ad.GetDomainSettings([domain], null, [ews.DomainSettingName.ExternalEwsUrl, ews.DomainSettingName.ExternalEwsVersion], ews.ExchangeVersion.Exchange2013_SP1);
  const d = ds.Responses[0];
  if (d.ErrorCode !== ews.AutodiscoverErrorCode.NoError) {
    throw new Error('GetDomainSettings: ' + ews.AutodiscoverErrorCode[d.ErrorCode] + ' ' + d.ErrorMessage);
  }
  const out = {
    ews_url: setting(ews.UserSettingName.ExternalEwsUrl),
    display_name: setting(ews.UserSettingName.UserDisplayName),
    ews_version: setting(ews.UserSettingName.ExternalEwsVersion),
    domain_ews_url: d.Settings.get(ews.DomainSettingName.ExternalEwsUrl),
    domain_ews_version: d.Settings.get(ews.DomainSettingName.ExternalEwsVersion),
  };
  const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013_SP1, ews.TimeZoneInfo.Utc);
  svc.Credentials = new ews.WebCredentials(user, secret);
  svc.Url = new ews.Uri(out.ews_url);
  const options = new ews.AvailabilityOptions();
  options.RequestedFreeBusyView = ews.FreeBusyViewType.FreeBusyMerged;
  options.MergedFreeBusyInterval = 60;
  const res = await svc.GetUserAvailability([new ews.AttendeeInfo(email)],
    new ews.TimeWindow(ews.DateTime.Parse(start + 'Z'), ews.DateTime.Parse(end + 'Z')), ews.AvailabilityData.FreeBusy, options);
  out.merged = res.AttendeesAvailability.responses[0].MergedFreeBusyStatus.map(String).join('');
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((err) => {
  console.error('ews-javascript-api:', err);
  process.exit(1);
});
