"""Phone calls: the conversation loop of a call (:mod:`voice.phone.dialogue`), what it says (:mod:`voice.phone.spoken`),
the SIP endpoint (:mod:`voice.phone.sip`) and the services a call needs (:mod:`voice.phone.services`).

The WebSocket endpoint for FreeSWITCH's mod_audio_stream lives with the gateway (``channels/routers/audio_stream.py``)
and runs the same loop.
"""
