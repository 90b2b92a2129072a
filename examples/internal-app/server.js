// @ts-check
// An internal page of active onboardings, for the customer-success team: each with its customer
// (one request a page: expand=customer), owner and target date, the overdue ones highlighted,
// paged with the API's cursor. The API key stays on this server; the browser sees only HTML.
//
//   PIVOTAL_API_KEY=pivotal_test_… PIVOTAL_BASE_URL=http://127.0.0.1:8000/api/v1 node server.js
//
// PORT (default 3000; 0 picks a free one) and PAGE_SIZE (default 20) are optional.

import { createServer } from "node:http";
import { APIError, Pivotal } from "@pivotal/sdk";

/** @typedef {import("@pivotal/sdk").Onboarding & { customer: import("@pivotal/sdk").Customer }} Row */

const DAY = 86_400_000;

/** The request handler: `GET /` (with `?cursor=` for later pages); anything else is a 404.
 * @param {{ pivotal: Pivotal, pageSize: number, today?: () => string }} options */
export function createApp({ pivotal, pageSize, today = () => new Date().toISOString().slice(0, 10) }) {
  /** @type {import("node:http").RequestListener} */
  return async (request, response) => {
    const url = new URL(request.url ?? "/", "http://internal-app");
    if (request.method !== "GET" || url.pathname !== "/") {
      return send(response, 404, layout("Not found", "<p>Nothing here. <a href=\"/\">Active onboardings</a></p>"));
    }
    const cursor = url.searchParams.get("cursor") ?? undefined;
    try {
      const page = await pivotal.onboardings.list({ status: "active", expand: ["customer"], limit: pageSize, cursor });
      send(response, 200, onboardingsPage(page.data, { cursor, nextCursor: page.hasMore ? page.nextCursor : null, today: today() }));
    } catch (error) {
      if (!(error instanceof APIError)) throw error;
      const detail = `${error.message}${error.requestId ? ` (request ${error.requestId})` : ""}`;
      send(response, 502, layout("Pivotal is unavailable", `<p class="error">The Pivotal API answered: ${escape(detail)}</p>`));
    }
  };
}

/** @param {Row[]} rows @param {{ cursor?: string, nextCursor: string | null, today: string }} paging */
function onboardingsPage(rows, { cursor, nextCursor, today }) {
  const overdue = rows.filter((row) => isOverdue(row, today)).length;
  const body = rows.length === 0 ? "<p>No active onboardings.</p>" : `
    <p class="summary">${rows.length} active onboarding${rows.length === 1 ? "" : "s"} on this page,
      <strong>${overdue} overdue</strong></p>
    <table>
      <thead><tr><th>Onboarding</th><th>Customer</th><th>Owner</th><th>Target date</th><th>Due</th></tr></thead>
      <tbody>${rows.map((row) => tableRow(row, today)).join("")}</tbody>
    </table>`;
  const links = [
    cursor ? `<a href="/">← First page</a>` : "",
    nextCursor ? `<a href="/?cursor=${encodeURIComponent(nextCursor)}" rel="next">Next page →</a>` : "",
  ].filter(Boolean).join(" ");
  return layout("Active onboardings", `${body}<nav>${links}</nav>`);
}

/** @param {Row} row @param {string} today */
function tableRow(row, today) {
  const late = isOverdue(row, today);
  const domain = row.customer.domain ? ` <small>${escape(row.customer.domain)}</small>` : "";
  return `<tr class="${late ? "overdue" : ""}">
    <td>${escape(row.name)} <small>#${row.displayId}</small></td>
    <td>${escape(row.customer.name)}${domain}</td>
    <td>${row.ownerEmail ? escape(row.ownerEmail) : "<em>Unassigned</em>"}</td>
    <td>${row.targetDate ?? "<em>None</em>"}</td>
    <td>${due(row.targetDate, today)}</td>
  </tr>`;
}

/** @param {Row} row @param {string} today */
const isOverdue = (row, today) => row.targetDate !== null && row.targetDate < today;

/** @param {string | null} targetDate @param {string} today */
function due(targetDate, today) {
  if (targetDate === null) return "";
  const days = Math.round((Date.parse(targetDate) - Date.parse(today)) / DAY);
  if (days < 0) return `<span class="badge">Overdue by ${-days} day${days === -1 ? "" : "s"}</span>`;
  return days === 0 ? "Due today" : `In ${days} day${days === 1 ? "" : "s"}`;
}

/** @param {string} title @param {string} content */
function layout(title, content) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Pivotal</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1f2328; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid #d0d7de; }
  small { color: #656d76; }
  tr.overdue { background: #ffebe9; box-shadow: inset 4px 0 #cf222e; }
  .badge { background: #cf222e; color: #fff; border-radius: 1em; padding: .1em .6em; font-weight: 600; }
  nav { margin-top: 1rem; display: flex; gap: 1.5rem; }
  .error { color: #cf222e; }
</style></head>
<body><h1>${escape(title)}</h1>${content}</body></html>`;
}

/** @param {import("node:http").ServerResponse} response @param {number} status @param {string} html */
function send(response, status, html) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);
}

/** @param {string} text */
function escape(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pivotal = new Pivotal(); // PIVOTAL_API_KEY and PIVOTAL_BASE_URL
  const server = createServer(createApp({ pivotal, pageSize: Number(process.env.PAGE_SIZE ?? 20) }));
  server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
    const address = /** @type {import("node:net").AddressInfo} */ (server.address());
    console.log(`Active onboardings on http://127.0.0.1:${address.port}/`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
