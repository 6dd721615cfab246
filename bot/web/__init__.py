"""The web dashboard under /dashboard (issue 21): a Flask app beside Slack's endpoint.

Flask because the bot already speaks WSGI (waitress serves Bolt's WSGI adapter): a Flask app
mounts beside it on the same port with a ten-line dispatcher (`mount.py`), and brings what a
server-rendered site needs and we would otherwise write ourselves — routing, Jinja2 templates
with autoescape, signed session cookies (itsdangerous), a test client.

`app.py` builds the app; `signin.py` owns sign-in links and Sign in with Slack; `access.py`
who sees what; `pages.py` the views (thin: parse → bot/insights → template); `present.py`
turns the insights into the tables each page shows (and its JSON and CSV); `charts.py` draws.
"""
