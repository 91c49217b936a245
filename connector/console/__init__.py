"""The credit controller's web console (`kravsync console`): server-rendered pages over the store.

``app`` builds the Starlette application, ``auth`` the users, sessions, CSRF and login limit,
``review`` the review queue and its decisions, ``pages`` the data each page shows, ``describe``
the plain-language findings, ``serve`` runs it under uvicorn. Templates and CSS ship in
``templates/``; nothing is loaded from the internet and no script runs in the browser."""
