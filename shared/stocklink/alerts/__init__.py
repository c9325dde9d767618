"""Stock alerts, pure domain: levels, alert state machine, messages, chat formats, event rules.

No AWS calls and no clock reads here; handlers pass `now` and do the I/O.
"""
