"""The public gateway of 智办 (FastAPI): every endpoint citizens, agents and operators reach.

``channels.main.create_app`` assembles the routers; each router module serves one area.
"""
