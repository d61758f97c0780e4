"""Voice of 智办: text-to-speech, speech recognition and the phone endpoint."""
