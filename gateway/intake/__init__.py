"""The acknowledging process (``lapor-gateway run``): webhooks, the SMTP listener and pollers write what they
receive to the journal and answer only once it is durable (:mod:`.process`); it starts and watches its children
(:mod:`.children`: the worker, the reference central store) and serves /healthz and /metrics (:mod:`.metrics`)."""
