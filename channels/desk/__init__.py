"""The complaint desk: walk-in visits, phone calls and call-centre calls, typed in by staff in the console.

The console is not the journal's writer, so it hands each entry to the intake process like any channel:
a signed POST to ``/channels/desk`` (:mod:`channels.desk.webhook`).
"""
