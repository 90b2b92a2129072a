"""Closed-won handler: a CRM's "deal won" webhook opens the customer's onboarding.

    PIVOTAL_API_KEY=pivotal_test_… python examples/closed_won.py --port 8001

Point the CRM's workflow webhook (HubSpot: a "Send a webhook" action on deals reaching Closed
Won) at http://<host>:8001/crm/deal-won with a JSON body like

    {"deal":    {"id": "8812", "name": "Acme - Enterprise", "owner_email": "sam@you.example",
                 "go_live_date": "2026-07-01"},
     "company": {"id": "9000", "name": "Acme", "domain": "acme.example"},
     "contact": {"id": "501", "email": "ada@acme.example", "first_name": "Ada",
                 "last_name": "Lovelace", "title": "CTO"}}

and it creates the customer, its primary contact and the onboarding. CRMs retry a webhook
until they get a 2xx, sometimes while the first attempt is still running, so every create
carries an Idempotency-Key derived from the deal id: a repeat is answered with the objects the
first attempt made. Past the API's 24-hour replay window, the external ids (the CRM's record
ids) still find them. (In production, also check the CRM's own signature on the request.)
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pivotal


def handle_deal_won(client: pivotal.Client, payload: dict[str, Any]) -> dict[str, str]:
    """The customer, primary contact and onboarding for a won deal, made once however often
    the CRM sends it."""
    deal, company, person = payload["deal"], payload["company"], payload["contact"]
    key = f"closed-won:{deal['id']}"
    customer = _create_once(
        client.customers, f"{key}:customer", {"external_id": company["id"]},
        name=company["name"], domain=company.get("domain"), owner_email=deal.get("owner_email"),
        external_id=company["id"])
    contact = _create_once(
        client.contacts, f"{key}:contact",
        {"external_id": person["id"]}, {"customer": customer.id, "email": person["email"]},
        customer=customer.id, email=person["email"], is_primary=True, external_id=person["id"],
        name=" ".join(p for p in (person.get("first_name"), person.get("last_name")) if p) or None,
        title=person.get("title"), phone=person.get("phone"))
    if not contact.is_primary:  # the contact was there already
        contact = client.contacts.update(contact.id, is_primary=True)
    onboarding = _create_once(
        client.onboardings, f"{key}:onboarding", {"external_id": deal["id"]},
        customer=customer.id, name=f"Onboarding: {deal['name']}", external_id=deal["id"],
        owner_email=deal.get("owner_email"), target_date=deal.get("go_live_date"))
    return {"customer": customer.id, "contact": contact.id, "onboarding": onboarding.id}


def _create_once(resource: Any, idempotency_key: str, *lookups: dict[str, Any], **fields: Any) -> Any:
    """Create, or find what an earlier delivery (or an earlier sync) already made."""
    try:
        return resource.create(idempotency_key=idempotency_key, **fields)
    except pivotal.ConflictError as clash:
        if clash.code != "resource_already_exists":
            raise
        for lookup in lookups:
            found = resource.list(**lookup, limit=1).data
            if found:
                return found[0]
        raise


def make_server(client: pivotal.Client, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/crm/deal-won":
                return self._answer(404, {"error": "not found"})
            try:
                payload = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                made = handle_deal_won(client, payload)
            except (ValueError, KeyError, TypeError) as exc:
                return self._answer(400, {"error": f"not a deal-won payload: {exc}"})
            except pivotal.APIError as exc:
                # the CRM retries anything but a 2xx: worth it only when Pivotal may recover
                return self._answer(503 if exc.status >= 500 else 422, {"error": str(exc)})
            except pivotal.APIConnectionError as exc:
                return self._answer(503, {"error": str(exc)})
            self._answer(200, made)

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    client = pivotal.Client()  # PIVOTAL_API_KEY, PIVOTAL_BASE_URL
    server = make_server(client, args.port)
    print(f"listening on http://127.0.0.1:{args.port}/crm/deal-won", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        client.close()


if __name__ == "__main__":
    main()
