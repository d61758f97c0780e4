"""The Rasa assistant of 智办 (domain and training data under ``assistant/``) and the code that runs it:
settings, the ``zhiban`` command line, training and the process supervisor."""
