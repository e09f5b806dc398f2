"""The worker process (``lapor-gateway worker``, started by ``run``): journaled messages become complaints
(:mod:`.router` decides what each message is), complaints go to the central store (``forwarder.outbox``),
receipts go back out (:mod:`.receipts`, limited by :mod:`.rate_limits`, worded by :mod:`.templates`).
:mod:`.process` assembles it."""
