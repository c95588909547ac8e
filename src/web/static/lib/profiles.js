// The wire-format profiles an endpoint can use (src/profiles/profile-names.ts); the API refuses any
// other name with UNKNOWN_PROFILE, so this list only saves typing.
export const PROFILES = [
  ['standard', 'Standard Webhooks (default)'],
  ['courier-invoice', 'Courier Invoice'],
  ['invoiceahoy', 'InvoiceAhoy'],
  ['shipstream', 'ShipStream'],
  ['corrigopro', 'CorrigoPro'],
  ['altoviz', 'Altoviz'],
];

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'];
