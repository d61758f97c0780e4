"""The action server of 智办 (rasa-sdk): custom actions that the Rasa server calls over HTTP.

Run it with ``python -m rasa_sdk --actions actions``; every module listed in :data:`ACTION_MODULES` is imported so
its actions register with the SDK.
"""

from actions import greet as greet

ACTION_MODULES = ("actions.greet",)
