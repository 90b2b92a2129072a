"""`pivotal-backfill`: CRM exports (HubSpot companies and contacts, Stripe customers, or any
CSV with a column map) upserted through the batch API, with a progress bar, a summary and the
rejected rows written beside the input. Safe to run again: a second run finds every row
unchanged."""
