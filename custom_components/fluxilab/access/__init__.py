"""Access control: members, cards, authorizations, sessions, maintenance, GDPR.

The engine (engine.py) decides and records; its features (lapsing, interest,
presence, telemetry rules, credential sync) are handed only what they use of it
(lab.py). Nothing here registers websocket commands or services: that is api/.
"""
