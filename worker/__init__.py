"""The SAQ worker side: outbox relay, webhook delivery, sweeps."""
