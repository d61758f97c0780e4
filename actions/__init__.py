"""The action server of 智办 (rasa-sdk): custom actions that the Rasa server calls over HTTP.

Run it with ``python -m rasa_sdk --actions actions``; importing this package imports every action module so that its actions
register with the SDK. Modules: ``greet`` (greetings), ``answer`` (knowledge answers and follow-ups), ``guide`` (情形引导),
``handoff`` (tickets for people, complaints, cancelling); ``parsing`` and ``replies`` are helpers.
"""

from actions import answer as answer
from actions import greet as greet
from actions import guide as guide
from actions import handoff as handoff
