// Calls EWS operations calfed does not serve with ews-javascript-api and
// prints, as JSON, the error each call rejects with: its class and the
// EWS ResponseCode it carries.
//   node unsupported.js URL USER SECRET ADDRESS
'use strict';
const ews = require('ews-javascript-api');

async function main() {
  const [url, user, secret, address] = process.argv.slice(2);
  const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013_SP1);
  svc.Credentials = new ews.WebCredentials(user, secret);
  svc.Url = new ews.Uri(url);
  const calls = {
    GetUserOofSettings: () => svc.GetUserOofSettings(address),
    GetFolder: () => ews.Folder.Bind(svc, ews.WellKnownFolderName.Calendar),
    FindItem: () => svc.FindItems(ews.WellKnownFolderName.Calendar, new ews.ItemView(10)),
  };
  const out = {};
  for (const [op, call] of Object.entries(calls)) {
    try {
      await call();
      out[op] = { error: 'no error' };
    } catch (err) {
      const code = err && err.ResponseCode;
      out[op] = { error: err && err.constructor ? err.constructor.name : String(err), code: ews.ServiceError[code] };
    }
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((err) => {
  process.stderr.write('ews-javascript-api: ' + (err && (err.stack || err.message) || String(err)) + '\n');
  process.exit(1);
});
